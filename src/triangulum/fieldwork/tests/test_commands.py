"""The command-line side: wave set-up, respondent import (all or nothing), exports."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from triangulum.fieldwork.models import Interview, Wave

from .conftest import FIXTURES, FORM


@pytest.mark.django_db
def test_instrument_wave_respondents_and_export_from_the_command_line(
    study, organisations, tmp_path
):
    out = io.StringIO()
    call_command("wave", "import-instrument", study.slug, "short", str(FORM), stdout=out)
    assert "version 1 stored" in out.getvalue()
    with pytest.raises(CommandError, match="refused, nothing stored"):
        call_command(
            "wave",
            "import-instrument",
            study.slug,
            "broken",
            str(FIXTURES / "broken_form.md"),
            stdout=out,
            stderr=io.StringIO(),
        )
    call_command(
        "wave",
        "create",
        study.slug,
        "--number",
        "2",
        "--name",
        "Wave 2",
        "--instrument",
        "short",
        "--vintage",
        "2019-04-01",
        "--start",
        "2024-01-01",
        "--end",
        "2024-03-31",
        "--modes",
        "telephone,web",
        stdout=out,
    )
    wave = Wave.objects.get(study=study, number=2)
    assert wave.modes == ["telephone", "web"]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "organisation_code,role,full_name,phone\n01A,chair,A B,0113 496 0001\n"
        "02B,chair,C D,0113 496 0002\n"
    )
    errors = io.StringIO()
    with pytest.raises(CommandError, match="rejected, 1 problem"):
        call_command("respondents", "import", study.slug, "2", str(bad), stdout=out, stderr=errors)
    assert "row 3, column organisation_code" in errors.getvalue()
    assert not Interview.objects.filter(wave=wave).exists()
    good = tmp_path / "good.csv"
    good.write_text(
        "organisation_code,role,full_name,phone,mode\n"
        "01A,chair,A B,0113 496 0001,web\n03C,nurse,C D,0113 496 0002,\n"
    )
    call_command("respondents", "import", study.slug, "2", str(good), stdout=out)
    assert Interview.objects.filter(wave=wave, mode="web").count() == 1
    target = tmp_path / "wide.csv"
    call_command("export", study.slug, "2", "--format", "wide", "--out", str(target), stdout=out)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2 and "clinical_lead" in rows[0]
