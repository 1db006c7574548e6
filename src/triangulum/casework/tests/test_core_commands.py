"""``triangulum source import`` and ``triangulum codebook export|import``."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from triangulum.casework.models import Code, Source
from triangulum.casework.tests import core_fixtures
from triangulum.casework.tests.test_importers import VTT, docx_bytes
from triangulum.organisations.models import Organisation
from triangulum.studies.actions import register_participant
from triangulum.studies.models import RoleCategory

pytestmark = pytest.mark.django_db

team = core_fixtures.team


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_source_import_many_files_with_site_phase_and_speakers(team, tmp_path):
    study, users = team
    Organisation.objects.create(org_type="ccg", ods_code="05X", name="NHS X CCG")
    study.phases.create(order=3, kind="in_depth_case_studies", name="In depth")
    nurse = register_participant(actor=users["lead"], study=study, role_category=RoleCategory.NURSE)
    (tmp_path / "a.txt").write_text("I: Hello?\nR: Hello.", encoding="utf-8")
    (tmp_path / "b.docx").write_bytes(docx_bytes(["I: Who?", "R: Me."]))
    (tmp_path / "c.vtt").write_text(VTT, encoding="utf-8")
    out = run(
        "source", "import", str(tmp_path / "a.txt"), str(tmp_path / "b.docx"),
        str(tmp_path / "c.vtt"), "--study", study.slug, "--kind", "interview",
        "--site", "05x", "--phase", "3", "--speaker", f"R={nurse.pseudonym}",
    )  # fmt: skip
    assert "Imported 3 source(s)" in out
    assert "a.txt: 19 characters, 2 turn(s), 1 linked to participants" in out
    assert set(Source.objects.values_list("site__ods_code", "phase__order")) == {("05X", 3)}


def test_source_import_stops_on_a_bad_file_and_stores_nothing(team, tmp_path):
    study, _ = team
    (tmp_path / "good.txt").write_text("I: fine", encoding="utf-8")
    (tmp_path / "bad.srt").write_text("1\nnot a timing\nI: x\n", encoding="utf-8")
    with pytest.raises(
        CommandError, match=r"bad\.srt, line 1: expected a cue timing.*nothing was imported"
    ):
        run("source", "import", str(tmp_path / "good.txt"), str(tmp_path / "bad.srt"),
            "--study", study.slug, "--kind", "interview")  # fmt: skip
    assert not Source.objects.exists()
    with pytest.raises(CommandError, match="no phase 7"):
        run("source", "import", str(tmp_path / "good.txt"), "--study", study.slug,
            "--kind", "interview", "--phase", "7")  # fmt: skip
    with pytest.raises(CommandError, match="no organisation has the ODS code 'ZZZ'"):
        run("source", "import", str(tmp_path / "good.txt"), "--study", study.slug,
            "--kind", "interview", "--site", "ZZZ")  # fmt: skip


def test_codebook_commands_round_trip_csv_and_qdc(team, tmp_path):
    study, _ = team
    out = run("codebook", "install-builtin", "--study", study.slug)
    assert "active codes" in out
    count = Code.objects.filter(study=study).count()
    for name in ("cb.csv", "cb.qdc"):
        assert f"Wrote {count} codes" in run(
            "codebook", "export", str(tmp_path / name), "--study", study.slug
        )
        out = run("codebook", "import", str(tmp_path / name), "--study", study.slug)
        assert f"0 code(s) added, 0 updated, {count} unchanged" in out
    other = core_fixtures.study_actions.create_study(actor="test", slug="fresh", title="Fresh")
    for number in (1, 2, 3, 4):
        other.research_questions.create(number=number, short_name="q", text="q")
    out = run("codebook", "import", str(tmp_path / "cb.qdc"), "--study", "fresh")
    assert f"{count} code(s) added" in out
    assert sorted(Code.objects.filter(study=other).values_list("name", flat=True)) == sorted(
        Code.objects.filter(study=study).values_list("name", flat=True)
    )


def test_codebook_import_errors_name_the_row(team, tmp_path):
    study, _ = team
    (tmp_path / "bad.csv").write_text("path,colour\nA,#12345\n", encoding="utf-8")
    with pytest.raises(
        CommandError, match=r"bad\.csv, row 2, column colour: .*nothing was imported"
    ):
        run("codebook", "import", str(tmp_path / "bad.csv"), "--study", study.slug)
    with pytest.raises(CommandError, match=r"must end in \.csv or \.qdc"):
        run("codebook", "export", str(tmp_path / "cb.xlsx"), "--study", study.slug)
    assert not Code.objects.exists()
