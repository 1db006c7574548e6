"""Acceptance: the demo's integration — propositions locked before wave 2's data existed,
tested on it; two researchers' convergence codes; joint displays whose every row cites
survey and case-study evidence; everything marked simulated.

Builds the demo up to the integration's last step inside a transaction rolled back at the
end (the reports step is left out).
"""

from __future__ import annotations

import csv

import pytest

from triangulum.audit.models import AuditEvent
from triangulum.core.demo_registry import collect_steps
from triangulum.fieldwork import demo as fieldwork_demo
from triangulum.integration import convergence
from triangulum.integration import demo as integration_demo
from triangulum.integration.models import (
    Evidence,
    Finding,
    GlobalAssessment,
    JointDisplay,
    JointDisplayRow,
    Proposition,
    SettledPairCode,
    Strand,
    StrandPairCode,
    Theme,
)
from triangulum.testing import demo_in_test_database

pytestmark = pytest.mark.django_db


def test_the_lock_step_runs_between_the_case_studies_and_wave_2():
    names = [step.name for step in collect_steps()]
    order = [
        fieldwork_demo.CASE_STUDIES_STEP,
        integration_demo.LOCK_STEP,
        fieldwork_demo.WAVE2_STEP,
        "Analyse the simulated survey waves",
        integration_demo.MAIN_STEP,
    ]
    assert all(name in names for name in order), names
    assert [names.index(name) for name in order] == sorted(names.index(name) for name in order)
    assert integration_demo.WAVE2_STEP == fieldwork_demo.WAVE2_STEP


@pytest.fixture(scope="module")
def ctx(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    with demo_in_test_database(django_db_blocker, folder, until=integration_demo.QCA_STEP) as c:
        yield c


def test_propositions_were_locked_before_wave_2_held_any_data(ctx):
    study = ctx.shared["study"]
    propositions = list(Proposition.objects.filter(study=study))
    assert 3 <= len(propositions) <= 6
    fieldwork = AuditEvent.objects.get(
        action="wave.simulate_fieldwork", object_id=str(ctx.shared["waves"][2].pk)
    )
    for proposition in propositions:
        lock = AuditEvent.objects.get(action="proposition.lock", object_id=str(proposition.pk))
        assert lock.id < fieldwork.id and lock.at <= fieldwork.at
        assert lock.after["wave_data_at_lock"] == {"complete_interviews": 0, "answers_to_items": 0}
        assert lock.after["lock_hash"] == proposition.lock_hash == proposition.content_hash()
        # Every proposition comes from an in-depth finding and names wave-2 items only.
        assert proposition.finding.strand == Strand.INDEPTH
        assert proposition.wave.number == 2
        assert all(item.startswith("prop_") or item == "role" for item in proposition.items)
        assert proposition.is_simulated


def test_every_proposition_has_a_verdict_from_wave_2(ctx):
    propositions = Proposition.objects.filter(study=ctx.shared["study"])
    verdicts = set()
    for proposition in propositions:
        assert proposition.status == Proposition.Status.TESTED
        assert proposition.verdict in Proposition.Verdict.values
        assert proposition.ci_low <= proposition.effect <= proposition.ci_high
        assert 0 <= proposition.p_value <= 1 and proposition.n_cases > 100
        details = proposition.test_details
        assert details["wave"]["number"] == 2 and details["simulated"] is True
        assert details["lock"]["lock_hash"] == proposition.lock_hash
        verdicts.add(proposition.verdict)
    # The demo shows what a verdict can be: not every finding holds across England.
    assert "supported" in verdicts and len(verdicts) >= 2


def test_two_researchers_coded_and_settled_every_unit(ctx):
    study = ctx.shared["study"]
    themes = list(Theme.objects.filter(study=study))
    assert len(themes) >= 8
    units = len(themes) * len(convergence.strand_pairs())
    codes = StrandPairCode.objects.filter(theme__study=study)
    assert set(codes.values_list("coder__username", flat=True)) == {"lead", "researcher"}
    assert codes.count() == 2 * units
    assert SettledPairCode.objects.filter(theme__study=study).count() == units
    assert not codes.filter(rationale="").exists()
    result = convergence.agreement(
        convergence.collect_codes(
            codes.values_list("theme_id", "strand_a", "strand_b", "coder__username", "code")
        )
    )
    # Realistic: they agree well beyond chance, but not on everything.
    assert result.units == units and 0.3 < result.kappa < 0.95
    assert set(SettledPairCode.objects.values_list("code", flat=True)) == set(convergence.CODES)
    assert GlobalAssessment.objects.filter(study=study).count() == 4


def test_every_strand_has_findings_citing_its_kind_of_evidence(ctx):
    study = ctx.shared["study"]
    for strand in Strand.values:
        findings = Finding.objects.filter(study=study, strand=strand)
        assert findings.exists(), strand
        for finding in findings:
            cited = list(finding.evidence.all())
            assert cited, finding.statement
            if strand in (Strand.WAVE1, Strand.WAVE2):
                assert all(e.is_survey for e in cited)
            else:
                assert all(e.is_case_study for e in cited)


def test_every_row_of_every_joint_display_cites_survey_and_case_study_evidence(ctx):
    study = ctx.shared["study"]
    displays = JointDisplay.objects.filter(study=study)
    assert set(displays.values_list("kind", flat=True)) == set(JointDisplay.Kind.values)
    for display in displays:
        rows = list(display.rows.all())
        assert rows, display.title
        assert display.is_simulated and "simulated" in display.title
        for row in rows:
            evidence = list(Evidence.objects.filter(cell__row=row))
            assert any(e.is_survey for e in evidence), (display.title, row.label)
            assert any(e.is_case_study for e in evidence), (display.title, row.label)
            assert row.meta_inference and row.meta_inference_by is not None
            assert row.meta_inference_at is not None
    # Every meta-inference is in the audit trail.
    rows = JointDisplayRow.objects.filter(display__study=study).count()
    assert AuditEvent.objects.filter(action="display.meta_inference").count() == rows


def test_everything_is_marked_simulated_and_written_out(ctx):
    study = ctx.shared["study"]
    for model in (Theme, Finding, Proposition, JointDisplay, GlobalAssessment):
        assert not model.objects.filter(study=study, is_simulated=False).exists(), model
    assert not StrandPairCode.objects.filter(is_simulated=False).exists()
    assert not SettledPairCode.objects.filter(is_simulated=False).exists()
    path = ctx.outputs / "integration" / "simulated_propositions.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == Proposition.objects.filter(study=study).count()
    assert {row["simulated"] for row in rows} == {"true"}
    assert (ctx.outputs / "integration" / "simulated_convergence.json").exists()


def test_running_the_steps_again_adds_nothing(ctx):
    counts = (Proposition.objects.count(), JointDisplay.objects.count(), Finding.objects.count())
    integration_demo.lock_before_wave2(ctx)
    integration_demo.integrate(ctx)
    assert (
        Proposition.objects.count(),
        JointDisplay.objects.count(),
        Finding.objects.count(),
    ) == counts
