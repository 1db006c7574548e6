"""A small study with integration work in it, for the page and download tests.

Survey and case-study evidence are made directly (an analysis run with one table, a
source with a coded segment, a framework-matrix cell); the integration objects are made
through ``integration.actions``, as the pages make them. Imported by the test modules
that use it (not a conftest, so the other integration tests keep their own fixtures).
"""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from triangulum.studies import actions as study_actions
from triangulum.studies.models import Role, Study

PASSWORD = "a-long-test-passw0rd"
SOURCE_TEXT = (
    "Interviewer: How did the GPs take to the redesign?\n"
    "P1: The GPs on the board really drove the frail elderly pathway, they owned it.\n"
)
SHARE_ROWS = [
    {"wave": 2, "item": "infl_ccg", "label": "CCG influence", "share": 0.61, "ci_low": 0.55},
    {"wave": 2, "item": "infl_la", "label": "Council influence", "share": 0.32, "ci_low": 0.27},
    {"wave": 2, "item": "gp_lead", "label": "GPs lead redesign", "share": 0.48, "ci_low": 0.41},
]


@dataclass
class World:
    study: Study
    users: dict
    outsider: object
    rqs: list
    wave: object
    result: object
    coding: object
    source: object
    framework_cell: object
    theme: object
    findings: list
    draft: object
    locked: object
    tested: object
    display: object
    rows: list = field(default_factory=list)


def _survey_evidence(study, lead):
    from triangulum.analysis.models import AnalysisResult, AnalysisRun
    from triangulum.fieldwork.instruments import WAVE_FILES, survey_json
    from triangulum.fieldwork.models import Instrument, InstrumentVersion, Wave

    instrument = Instrument.objects.create(study=study, slug="survey-2", title="Wave 2 survey")
    version = InstrumentVersion.objects.create(
        instrument=instrument,
        version="1",
        file_name="wave2.md",
        file_bytes=b"",
        sha256="0" * 64,
        form_json=survey_json(WAVE_FILES[2]),
    )
    wave = Wave.objects.create(
        study=study,
        number=2,
        name="Wave 2 (test)",
        instrument_version=version,
        frame_vintage=dt.date(2015, 4, 1),
        field_start=dt.date(2016, 4, 1),
        field_end=dt.date(2016, 6, 1),
    )
    run = AnalysisRun.objects.create(
        study=study,
        step="likert",
        seed=1,
        inputs_hash="a" * 64,
        code_version="test",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        status=AnalysisRun.Status.SUCCEEDED,
        created_by=lead,
    )
    result = AnalysisResult.objects.create(
        run=run,
        name="wave2_share_agreeing",
        kind=AnalysisResult.Kind.TABLE,
        caption="Share agreeing, wave 2 (test table)",
        data=SHARE_ROWS,
        column_order=["wave", "item", "label", "share", "ci_low"],
    )
    return wave, result


def _case_study_evidence(study, coder, lead):
    from triangulum.casework.models import (
        Case,
        Code,
        CodebookVersion,
        Coding,
        FrameworkCell,
        FrameworkMatrix,
        Source,
    )

    source = Source.objects.create(
        study=study, title="Site A interview 1", kind=Source.Kind.INTERVIEW, text=SOURCE_TEXT
    )
    code = Code.objects.create(study=study, name="Clinical leadership")
    version = CodebookVersion.objects.create(study=study, number=1, note="test")
    start = SOURCE_TEXT.index("The GPs on the board")
    coding = Coding.objects.create(
        source=source,
        code=code,
        start=start,
        end=start + len("The GPs on the board really drove the frail elderly pathway"),
        coder=coder,
        codebook_version=version,
    )
    case = Case.objects.create(study=study, kind=Case.Kind.SITE, name="Site A")
    case.sources.add(source)
    matrix = FrameworkMatrix.objects.create(study=study, name="RQ1 leadership")
    matrix.codes.add(code)
    matrix.cases.add(case)
    cell = FrameworkCell.objects.create(
        matrix=matrix, case=case, code=code, summary="GPs own redesign here.", author=lead
    )
    cell.segments.add(coding)
    return source, coding, cell


def build_world(*, slug: str = "integration-study") -> World:
    from triangulum.integration import actions
    from triangulum.integration.models import Proposition

    User = get_user_model()
    lead = User.objects.create_user(username="lead", password=PASSWORD)
    study = study_actions.create_study(actor=lead, slug=slug, title="An integration study")
    Study.objects.filter(pk=study.pk).update(is_simulated=True)
    study.refresh_from_db()
    users = {Role.LEAD: lead}
    for role in (Role.RESEARCHER, Role.INTERVIEWER, Role.CODER, Role.VIEWER):
        users[role] = User.objects.create_user(username=role, password=PASSWORD)
        study_actions.add_member(actor=lead, study=study, username=role, role=role)
    outsider = User.objects.create_user(username="outsider", password=PASSWORD)
    elsewhere = study_actions.create_study(actor=outsider, slug="elsewhere", title="Elsewhere")
    assert elsewhere.memberships.filter(user=outsider).exists()
    rqs = [
        study.research_questions.create(number=n, short_name=f"Question {n}", text=f"Q{n}?")
        for n in (1, 2)
    ]
    researcher = users[Role.RESEARCHER]
    wave, result = _survey_evidence(study, lead)
    source, coding, framework_cell = _case_study_evidence(study, users[Role.CODER], lead)

    theme = actions.create_theme(
        study=study, research_question=rqs[0], name="GP ownership of redesign", actor=lead
    )
    actions.create_theme(
        study=study, research_question=rqs[1], name="Council partnership", actor=lead
    )
    pilot = actions.create_finding(
        study=study,
        strand="pilot",
        research_question=rqs[0],
        theme=theme,
        statement="In the pilot sites GPs on the board drove redesign.",
        actor=researcher,
    )
    actions.add_evidence(finding=pilot, coding=coding, actor=researcher)
    wave2 = actions.create_finding(
        study=study,
        strand="wave2",
        research_question=rqs[0],
        theme=theme,
        statement="Most members say their CCG has much influence over redesign.",
        actor=researcher,
    )
    actions.add_evidence(
        finding=wave2, analysis_result=result, locator={"row": {"item": "infl_ccg"}}, actor=lead
    )
    for coder, code in ((lead, "agreement"), (researcher, "partial")):
        actions.code_pair(
            theme=theme,
            strand_a="pilot",
            strand_b="wave2",
            coder=coder,
            code=code,
            rationale=f"{coder.username} reads them as {code}",
        )
    actions.code_pair(
        theme=theme,
        strand_a="pilot",
        strand_b="wave1",
        coder=lead,
        code="silence",
        rationale="wave 1 did not ask",
    )
    actions.code_pair(
        theme=theme,
        strand_a="pilot",
        strand_b="wave1",
        coder=researcher,
        code="silence",
        rationale="not in wave 1",
    )
    actions.settle_pair(
        theme=theme,
        strand_a="pilot",
        strand_b="wave2",
        code="agreement",
        rationale="both say GPs lead",
        actor=lead,
    )
    actions.write_global_assessment(
        study=study,
        research_question=rqs[0],
        assessment="Strands converge on GP ownership.",
        actor=lead,
    )

    def proposition(statement):
        return actions.create_proposition(
            study=study,
            research_question=rqs[0],
            wave=wave,
            finding=pilot,
            statement=statement,
            test="proportion",
            direction="greater",
            parameters={
                "item": "infl_ccg",
                "categories": ["quite_a_lot", "very_extensive"],
                "threshold": 0.5,
            },
            support_rule="The whole interval lies above one half.",
            actor=researcher,
        )

    draft = proposition("Most CCGs' members report much influence (draft).")
    locked = actions.lock_proposition(
        proposition=proposition("Most CCGs' members report much influence (locked)."),
        actor=lead,
    )
    tested = actions.lock_proposition(
        proposition=proposition("Most CCGs' members report much influence (tested)."),
        actor=lead,
    )
    # The verdict as the test action writes it (the test itself is core's to check).
    Proposition.objects.filter(pk=tested.pk).update(
        status=Proposition.Status.TESTED,
        verdict=Proposition.Verdict.SUPPORTED,
        effect=0.612,
        ci_low=0.553,
        ci_high=0.668,
        p_value=0.0004,
        n_cases=2900,
        tested_at=timezone.now(),
        test_details={"estimate": 0.612, "design": "clustered in organisations"},
    )
    tested.refresh_from_db()
    actions.add_evidence(proposition=tested, analysis_result=result, actor=lead)

    display = actions.create_joint_display(
        study=study,
        kind="statistics_by_themes",
        title="Statistics by themes",
        research_question=rqs[0],
        columns=[
            {"key": "survey", "label": "Survey, wave 2"},
            {"key": "cases", "label": "Case studies"},
        ],
        actor=lead,
    )
    rows = []
    for number, row_data in enumerate(SHARE_ROWS):
        row = actions.add_display_row(
            display=display,
            label=f"{row_data['label']} (row {number + 1})",
            theme=theme,
            actor=lead,
        )
        survey = actions.set_display_cell(
            row=row, column="survey", text=f"{row_data['share']:.0%} agree", actor=lead
        )
        actions.add_evidence(
            cell=survey, analysis_result=result, locator={"row": number}, actor=lead
        )
        cases = actions.set_display_cell(
            row=row, column="cases", text="GPs drove the pathway at Site A", actor=lead
        )
        actions.add_evidence(cell=cases, coding=coding, actor=lead)
        if number == 1:
            actions.add_evidence(cell=cases, framework_cell=framework_cell, actor=lead)
        rows.append(row)
    actions.record_meta_inference(
        row=rows[0], text="Survey and cases agree: GPs lead redesign.", actor=researcher
    )
    return World(
        study=study,
        users=users,
        outsider=outsider,
        rqs=rqs,
        wave=wave,
        result=result,
        coding=coding,
        source=source,
        framework_cell=framework_cell,
        theme=theme,
        findings=[pilot, wave2],
        draft=draft,
        locked=locked,
        tested=tested,
        display=display,
        rows=rows,
    )


@pytest.fixture
def world(db):
    return build_world()
