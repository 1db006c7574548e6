"""data.py on fixture rows; actions, command and pages."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from triangulum.analysis import actions
from triangulum.analysis.data import study_data
from triangulum.analysis.models import AnalysisResult, AnalysisRun
from triangulum.audit.models import AuditEvent
from triangulum.fieldwork.instruments import WAVE_FILES, survey_json
from triangulum.fieldwork.models import Answer, Instrument, InstrumentVersion, Interview, Wave
from triangulum.organisations.models import Organisation
from triangulum.studies.models import Participant, Study, StudyMembership

pytestmark = pytest.mark.django_db

ROLES = [
    "chair",
    "accountable_officer",
    "chief_finance_officer",
    "gp_member",
    "lay_member",
    "nurse",
]
EXTENT = ["not_at_all", "a_little", "moderately", "a_lot"]
VISION = ["mainly_managers", "more_managers", "equally", "more_clinicians", "mainly_clinicians"]


@pytest.fixture
def study():
    import numpy as np

    rng = np.random.default_rng(1)
    study = Study.objects.create(slug="fixture-study", title="Fixture study")
    instrument = Instrument.objects.create(study=study, slug="survey", title="Survey")
    form = survey_json(WAVE_FILES[1])
    version = InstrumentVersion.objects.create(
        instrument=instrument,
        version="1",
        file_name="f.md",
        file_bytes=b"",
        sha256="0" * 64,
        form_json=form,
    )
    wave = Wave.objects.create(
        study=study,
        number=1,
        name="Wave 1 (fixture)",
        instrument_version=version,
        frame_vintage=dt.date(2013, 4, 1),
        field_start=dt.date(2014, 4, 1),
        field_end=dt.date(2014, 6, 1),
    )
    root = form["name"]
    for i in range(24):
        org = Organisation.objects.create(
            org_type="ccg",
            ods_code=f"{i:02d}X",
            name=f"CCG {i}",
            region_name=["North", "South"][i % 2],
            registered_patients=100_000 + 5_000 * i,
            allocation_000s=100_000 + 1_000 * i,
            open_date=dt.date(2013, 4, 1),
        )
        engaged = i % 2
        for j, role in enumerate(ROLES):
            participant = Participant.objects.create(
                study=study, pseudonym=f"P{i:02d}{j}", role_category=role, organisation=org
            )
            complete = (i + j) % 4 != 0
            interview = Interview.objects.create(
                wave=wave,
                participant=participant,
                status=Interview.Status.COMPLETE if complete else Interview.Status.FINALISED,
                disposition="1.1" if complete else ("4.70" if j == 5 else "2.112"),
            )
            if not complete:
                continue
            answers = {
                f"/{root}/about_you/role": role,
                f"/{root}/influence/vision_set": VISION[int(rng.integers(0, 5))]
                if j
                else "dont_know",
                f"/{root}/about_you/years_on_board": "2",
            }
            for k, item in enumerate(
                ["governing_roles", "clinical_leads", "localities", "networks"]
            ):
                level = min(3, max(0, int(rng.integers(0, 2)) + 2 * engaged - (k == 3)))
                answers[f"/{root}/engagement_modes/mode_{item}"] = EXTENT[level]
            for path, value in answers.items():
                Answer.objects.create(
                    interview=interview,
                    item_path=path,
                    value=value,
                    instrument_version=version,
                    mode="telephone",
                )
    return study


def test_tidy_tables_from_the_models(study):
    data = study_data(study)
    wave = data.waves[1]
    assert len(wave.units) == 24 * 6
    assert wave.units["eligible"].sum() == 24 * 6 - len(
        wave.units[wave.units["disposition"] == "4.70"]
    )
    assert len(wave.respondents) == int(wave.units["responded"].sum())
    assert {"vision_set", "mode_localities", "years_on_board", "role_group", "region"} <= set(
        wave.respondents
    )
    assert wave.respondents["years_on_board"].iloc[0] == 2.0
    assert set(wave.frame["organisation_code"]) == {f"{i:02d}X" for i in range(24)}
    assert len(data.inputs_hash()) == 64 and data.inputs_hash() == study_data(study).inputs_hash()


def test_run_all_stores_provenance_audit_and_typology_classes(study):
    runs = actions.run_all(study=study, actor="test", seed=3)
    assert {r.step for r in runs} >= {"weighting", "likert", "typology", "case_selection"}
    typology = next(r for r in runs if r.step == "typology")
    assert typology.status == AnalysisRun.Status.SUCCEEDED, typology.error
    assert (
        typology.seed == 3
        and len(typology.inputs_hash) == 64
        and "triangulum" in typology.code_version
    )
    assert AuditEvent.objects.filter(action="analysis.run").count() == len(runs)
    key = "typology_class_fixture-study"
    membership = typology.results.get(name="typology_membership").data
    for row in membership:
        org = Organisation.objects.get(ods_code=row["organisation_code"])
        assert org.attributes[key] == row["typology_class"]
    # The same seed gives the same classes: a second run changes no organisation.
    before = AuditEvent.objects.filter(action="analysis.typology_class").count()
    actions.run_step(study=study, step="typology", actor="test", seed=3)
    assert AuditEvent.objects.filter(action="analysis.typology_class").count() == before


def test_command_reports_and_fails_on_unknown_study(study):
    out = io.StringIO()
    call_command("analyse", "--study", study.slug, "--step", "likert", stdout=out)
    assert "likert: succeeded" in out.getvalue() and "wave1_share_agreeing" in out.getvalue()
    with pytest.raises(CommandError, match="No study"):
        call_command("analyse", "--study", "nope")
    with pytest.raises(CommandError, match="no parameter"):
        call_command("analyse", "--study", study.slug, "--step", "typology", "--param", "bogus=1")


def _member(study, role):
    user = get_user_model().objects.create_user(username=f"u-{role}", password="pw-123456789")
    StudyMembership.objects.create(study=study, user=user, role=role)
    return user


def test_pages_permissions_and_downloads(study, client):
    actions.run_step(study=study, step="likert", actor="test")
    base = f"/studies/{study.slug}/analysis/"
    client.force_login(_member(study, "viewer"))
    assert client.get(base).status_code == 200
    assert client.post(base, {"step": "likert"}).status_code == 403
    table = AnalysisResult.objects.filter(kind="table").first()
    page = client.get(f"{base}results/{table.pk}/")
    assert page.status_code == 200 and b'<th scope="col">' in page.content
    csv_text = client.get(f"{base}results/{table.pk}/?format=csv").content.decode()
    assert csv_text.splitlines()[0].startswith("wave,")
    book = load_workbook(io.BytesIO(client.get(f"{base}results/{table.pk}/?format=xlsx").content))
    assert book.active.max_row == len(table.data) + 1
    figure = AnalysisResult.objects.filter(kind="figure").first()
    assert b"<svg" in client.get(f"{base}results/{figure.pk}/").content
    client.force_login(_member(study, "coder"))
    assert client.get(base).status_code == 403
    client.force_login(_member(study, "lead"))
    response = client.post(base, {"step": "weighting"})
    assert response.status_code == 302
    assert AnalysisRun.objects.filter(step="weighting").exists()
