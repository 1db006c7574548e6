"""The report builders on hand-made evidence: the grading rule of the guidance, what a
survey share says about a finding, and reports of a study that has little or nothing yet."""

from __future__ import annotations

from dataclasses import replace

import pytest

from triangulum.reports import guidance
from triangulum.reports.build import ReportKindError, report_from_evidence
from triangulum.reports.document import REPORT_KINDS, Checklist, Num, Quote
from triangulum.reports.evidence import PropositionFacts

from .evidence_factory import empty_evidence, full_evidence

S, C, M, U, N = (
    guidance.SUPPORTS,
    guidance.CONTRADICTS,
    guidance.MIXED,
    guidance.INCONCLUSIVE,
    guidance.SILENT,
)


@pytest.mark.parametrize(
    ("strands", "expected"),
    [
        ({"Survey wave 1": S, "Survey wave 2": S, "Case studies": S}, "Strong"),
        (
            {"Survey wave 1": S, "Survey wave 2": S, "Case studies": S, "Proposition test": S},
            "Strong",
        ),
        # A proposition tested and not supported contradicts: the strands disagree.
        (
            {"Survey wave 1": S, "Survey wave 2": S, "Case studies": S, "Proposition test": C},
            "Limited",
        ),
        # An inconclusive proposition test keeps a recommendation from being strong.
        (
            {"Survey wave 1": S, "Survey wave 2": S, "Case studies": S, "Proposition test": U},
            "Moderate",
        ),
        # Three supporting strands without the case studies: moderate.
        ({"Survey wave 1": S, "Survey wave 2": S, "Proposition test": S}, "Moderate"),
        ({"Survey wave 2": S, "Case studies": S}, "Moderate"),
        ({"Survey wave 1": S, "Survey wave 2": S, "Case studies": M}, "Limited"),
        ({"Survey wave 1": U, "Case studies": S}, "Limited"),
        ({"Survey wave 1": U, "Survey wave 2": C, "Case studies": N}, "Insufficient"),
        ({}, "Insufficient"),
    ],
)
def test_grade_follows_the_stated_rule(strands, expected):
    assert guidance.grade(strands) == expected


def test_a_strand_is_mixed_when_its_evidence_points_both_ways():
    readings = [
        guidance.Reading("Survey wave 1", "a", (), S),
        guidance.Reading("Survey wave 1", "b", (), C),
        guidance.Reading("Case studies", "c", (), N),
        guidance.Reading("Case studies", "d", (), S),
        guidance.Reading("Survey wave 2", "e", (), U),
    ]
    assert guidance.strand_readings(readings) == {
        "Case studies": S,
        "Survey wave 1": M,
        "Survey wave 2": U,
    }


@pytest.mark.parametrize(
    ("low", "high", "expect", "status"),
    [
        (0.84, 0.89, "high", S),
        (0.84, 0.89, "low", C),
        (0.21, 0.27, "low", S),
        (0.21, 0.27, "high", C),
        (0.45, 0.55, "high", U),
        (0.50, 0.60, "high", U),  # the interval must lie wholly above one half
    ],
)
def test_a_survey_share_supports_only_when_its_whole_interval_is_on_the_expected_side(
    low, high, expect, status
):
    ev = full_evidence()
    table = ev.results["wave1_share_agreeing"]
    row = dict(table.rows[0], ci_low=low, ci_high=high)
    ev = replace(ev, results={**ev.results, "wave1_share_agreeing": replace(table, rows=(row,))})
    hook = guidance.SurveyHook("mode_clinical_leads", expect, "said so")
    reading = guidance.survey_reading(ev, 1, hook)
    assert reading.status == status
    share = next(p for p in reading.result if isinstance(p, Num))
    assert share.value == row["share"]
    assert share.cite.ref == f"{table.ref_base}#r0/share"


def test_a_study_with_nothing_yet_gets_every_report_with_not_yet_available_sections():
    ev = empty_evidence()
    for kind in REPORT_KINDS:
        report = report_from_evidence(ev, kind)
        text = report.text()
        assert report.kind == kind and report.sections
        assert report.simulated is False
        assert "not yet available" in text or "not yet" in text
        assert report.numbers() == [] or all(isinstance(n, Num) for n in report.numbers())
    article = report_from_evidence(ev, "article")
    checklists = [b for s in article.sections for b in s.blocks if isinstance(b, Checklist)]
    assert len(checklists) == 3


def test_guidance_on_partial_evidence_grades_by_what_is_there():
    report = report_from_evidence(full_evidence(), "guidance")
    text = report.text()
    # R1 rests on clinical leads (both waves, high) and the clinical-leads code (4 sites).
    assert "R1. Spread clinical leadership beyond the governing body" in text
    assert "Grade: Strong." in text
    # The grading rule is printed in the document.
    for _name, rule in guidance.GRADE_RULES:
        assert rule in text
    quotes = [b for b in report.blocks() if isinstance(b, Quote)]
    assert quotes and quotes[0].attribution == "Chair 1 (pilot site, CCG A)"


def test_proposition_verdicts_enter_the_guidance_and_the_practitioner_report():
    ev = full_evidence()
    proposition = PropositionFacts(
        proposition_id=5,
        rq=1,
        statement="Few member GPs are actively engaged with their commissioner.",
        items=("prop_grassroots",),
        test="proportion",
        direction="less",
        support_rule="Supported if the share agreeing is below one half.",
        status="tested",
        locked=True,
        verdict="supported",
        effect=0.24,
        ci_low=0.21,
        ci_high=0.27,
        p_value=0.0001,
        n_cases=940,
        theme="",
        finding_id=None,
        url="/studies/full/integration/propositions/5/",
    )
    ev = replace(ev, integration=replace(ev.integration, propositions=(proposition,)))
    practitioner = report_from_evidence(ev, "practitioner")
    assert "Held across England" in practitioner.text()
    effects = [
        n for n in practitioner.numbers() if n.cite.ref == "integration:proposition/5#effect"
    ]
    assert effects and effects[0].value == 0.24 and effects[0].text == "24%"
    guide = report_from_evidence(ev, "guidance")
    assert "Proposition test" in guide.text()
    assert any(n.cite.ref == "integration:proposition/5#n_cases" for n in guide.numbers())


def test_same_evidence_gives_an_equal_report_and_simulated_follows_the_records():
    ev = full_evidence()
    for kind in REPORT_KINDS:
        assert report_from_evidence(ev, kind) == report_from_evidence(ev, kind)
        assert report_from_evidence(ev, kind).simulated is False
        simulated = replace(ev, simulated=True, simulated_sources=("survey waves",))
        report = report_from_evidence(simulated, kind)
        assert report.simulated is True
        assert "Simulated data" in report.text()


def test_an_unknown_kind_is_refused_with_the_kinds_named():
    with pytest.raises(ReportKindError, match="practitioner, guidance, article"):
        report_from_evidence(empty_evidence(), "newsletter")
