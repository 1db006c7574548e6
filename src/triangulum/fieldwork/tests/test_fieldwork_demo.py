"""The demo's fieldwork step, run after the organisations, study and sampling steps."""

from __future__ import annotations

import csv
import json

import pytest
from django.db.models import F

from triangulum.audit.models import AuditEvent
from triangulum.core.demo_registry import collect_steps
from triangulum.fieldwork import demo
from triangulum.fieldwork.aapor import count_dispositions, outcome_rates, proportional_e
from triangulum.fieldwork.models import Answer, Appointment, CallAttempt, Interview, Wave
from triangulum.studies.models import Participant, Phase
from triangulum.testing import demo_in_test_database

pytestmark = pytest.mark.django_db


def test_fieldwork_step_is_registered_after_sampling():
    names = [step.run.__module__ for step in collect_steps()]
    assert names.index("triangulum.fieldwork.demo") > names.index("triangulum.sampling.demo")


@pytest.fixture(scope="module")
def ctx(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo up to fieldwork, built once for this module inside a transaction that is
    rolled back at the end (each test runs in a savepoint within it)."""
    folder = tmp_path_factory.mktemp("demo")
    with demo_in_test_database(django_db_blocker, folder, until=demo.STEPS[-1].name) as context:
        yield context


def test_demo_builds_both_simulated_waves(ctx):
    study = ctx.shared["study"]
    waves = ctx.shared["waves"]
    assert sorted(waves) == [1, 2]
    first, second = waves[1], waves[2]
    assert first.is_simulated and second.is_simulated
    assert first.instrument_version.version == "2014.1"
    assert second.instrument_version.version == "2016.1"
    assert first.instrument_version.instrument == second.instrument_version.instrument
    assert first.instrument_version.form_json["children"]
    assert len(first.instrument_version.sha256) == 64

    # Thousands of simulated rows, each marked.
    for wave in (first, second):
        interviews = wave.interviews.count()
        assert 2800 < interviews < 3400
        assert not wave.interviews.filter(is_simulated=False).exists()
    assert not CallAttempt.objects.filter(is_simulated=False).exists()
    assert CallAttempt.objects.count() > 10000
    assert Appointment.objects.filter(status=Appointment.Status.MISSED).exists()
    assert Appointment.objects.filter(status=Appointment.Status.KEPT).exists()
    assert Answer.objects.count() > 50000
    assert not Participant.objects.filter(is_simulated=False).exists()
    assert not Participant.objects.exclude(contact__full_name__endswith="(simulated)").exists()

    # Every answer records the instrument version its wave asked.
    assert (
        Answer.objects.exclude(instrument_version=F("interview__wave__instrument_version")).count()
        == 0
    )
    sample = Answer.objects.filter(interview__wave=first, item_path="/data/influence/vision_set")
    assert sample.exists() and all(isinstance(a.value, str) for a in sample[:50])

    # Completed interviews hold answers; refusals none; the panel is linked by participant.
    complete = first.interviews.filter(status=Interview.Status.COMPLETE)
    assert complete.exists() and not complete.filter(answers__isnull=True).exists()
    assert not first.interviews.filter(
        disposition__startswith="2.11", answers__isnull=False
    ).exists()
    both = Participant.objects.filter(interviews__wave=first).filter(interviews__wave=second)
    assert both.count() > 1000

    # Merged CCGs: their members are out of sample in wave 2.
    out = second.interviews.filter(disposition="4.10")
    codes = set(out.values_list("participant__organisation__ods_code", flat=True))
    assert codes == {"00F", "00G", "00H"}
    assert not out.filter(calls__isnull=False).exists()

    # Phases complete, with the field dates; one summary audit event per wave.
    national = study.phases.get(kind=Phase.Kind.NATIONAL_SURVEY_WAVE)
    assert national.status == Phase.Status.COMPLETE
    assert (national.start_date, national.end_date) == (first.field_start, first.field_end)
    assert study.phases.get(kind=Phase.Kind.GENERALISATION_SURVEY_WAVE).status == "complete"
    assert first.phase == national
    events = AuditEvent.objects.filter(action="wave.simulate_fieldwork")
    assert events.count() == 2

    truth = ctx.shared["simulation_truth"]
    assert truth["true_values"]["vision_set=equally"] == {"1": 0.33, "2": 0.54}


def test_demo_outputs_match_the_database(ctx):
    outputs = ctx.outputs
    first = ctx.shared["waves"][1]
    with (outputs / "fieldwork_wave1_dispositions.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == first.interviews.count()
    assert {r["simulated"] for r in rows} == {"true"}
    assert "full_name" not in rows[0]  # research outputs carry pseudonyms only
    rates = json.loads((outputs / "fieldwork_rates.json").read_text(encoding="utf-8"))
    counts = count_dispositions(first.interviews.values_list("disposition", flat=True))
    expected = outcome_rates(counts, proportional_e(counts))
    assert rates["waves"]["1"]["rates"]["RR3"] == pytest.approx(expected["RR3"])
    assert rates["simulated"] is True
    copied = sorted(p.name for p in (outputs / "instruments").iterdir())
    assert copied == [
        "ccg_governing_body_survey_2014.md",
        "ccg_governing_body_survey_2016.md",
        "crosswalk.csv",
    ]
    recorded = {path for _, path in ctx.made if path}
    assert outputs / "fieldwork_rates.json" in recorded


def test_running_the_step_again_adds_nothing(ctx):
    counts = (Wave.objects.count(), Interview.objects.count(), Answer.objects.count())
    demo.run(ctx)
    assert (Wave.objects.count(), Interview.objects.count(), Answer.objects.count()) == counts
