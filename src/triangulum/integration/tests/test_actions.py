"""The integration actions: themes, findings and their evidence, convergence codes, settled
codes and agreement, global assessments, joint displays and meta-inferences."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from triangulum.analysis.models import AnalysisResult, AnalysisRun
from triangulum.audit.models import AuditEvent
from triangulum.casework.models import (
    Case,
    Code,
    CodebookVersion,
    Coding,
    FrameworkCell,
    FrameworkMatrix,
    Source,
)
from triangulum.fieldwork.instruments import WAVE_FILES, survey_json
from triangulum.fieldwork.models import Instrument, InstrumentVersion, Wave
from triangulum.integration import actions, convergence
from triangulum.integration.actions import IntegrationError
from triangulum.integration.models import (
    Evidence,
    Finding,
    GlobalAssessment,
    JointDisplay,
    SettledPairCode,
    Strand,
    StrandPairCode,
    Theme,
)
from triangulum.studies import actions as study_actions
from triangulum.studies.models import Role

PASSWORD = "a-long-test-passw0rd"
User = get_user_model()


def _study(lead, slug: str):
    study = study_actions.create_study(actor=lead, slug=slug, title=slug.title())
    for number in (1, 2):
        study.research_questions.create(number=number, short_name=f"Q{number}", text="?")
    return study


def _evidence_targets(study, coder) -> dict:
    """One of each kind of thing a statement can cite, in ``study``."""
    run = AnalysisRun.objects.create(
        study=study, step="likert", seed=1, inputs_hash="0" * 64, code_version="t",
        started_at=timezone.now(),
    )  # fmt: skip
    result = AnalysisResult.objects.create(
        run=run,
        name="wave1_share_agreeing",
        kind="table",
        caption="Share agreeing",
        data=[{"wave": 1, "item": "mode_localities", "share": 0.8}],
        column_order=["wave", "item", "share"],
    )
    instrument = Instrument.objects.create(study=study, slug="survey", title="Survey")
    version = InstrumentVersion.objects.create(
        instrument=instrument, version="1", file_name="w.md", file_bytes=b"",
        sha256="1" * 64, form_json=survey_json(WAVE_FILES[1]),
    )  # fmt: skip
    wave = Wave.objects.create(
        study=study, number=1, name="Wave 1", instrument_version=version,
        frame_vintage=dt.date(2013, 4, 1), field_start=dt.date(2014, 4, 1),
        field_end=dt.date(2014, 6, 1),
    )  # fmt: skip
    source = Source.objects.create(
        study=study, title="Interview 1", kind="interview", text="We work as an alliance here."
    )
    version = CodebookVersion.objects.create(study=study, number=1, note="first")
    code = Code.objects.create(study=study, name="Clinician–manager alliance")
    coding = Coding.objects.create(
        source=source, code=code, start=0, end=10, coder=coder, codebook_version=version
    )
    matrix = FrameworkMatrix.objects.create(study=study, name="RQ1 matrix")
    case = Case.objects.create(study=study, kind="site", name="Site A")
    cell = FrameworkCell.objects.create(matrix=matrix, case=case, code=code, summary="Alliance.")
    return {
        "analysis_result": result,
        "wave": wave,
        "coding": coding,
        "framework_cell": cell,
        "source": source,
        "code": code,
    }


@pytest.fixture
def team(db):
    lead = User.objects.create_user(username="lead", password=PASSWORD)
    study = _study(lead, "mixed")
    users = {"lead": lead}
    for name, role in (
        ("researcher", Role.RESEARCHER),
        ("coder", Role.CODER),
        ("viewer", Role.VIEWER),
    ):
        users[name] = User.objects.create_user(username=name, password=PASSWORD)
        study_actions.add_member(actor=lead, study=study, username=name, role=role)
    other = _study(lead, "elsewhere")
    return {
        "study": study,
        "other": other,
        "users": users,
        "rq": study.research_questions.get(number=1),
        "targets": _evidence_targets(study, users["coder"]),
        "other_targets": _evidence_targets(other, users["coder"]),
    }


def _theme(team, name="Clinician–manager alliance") -> Theme:
    return actions.create_theme(
        study=team["study"],
        research_question=team["rq"],
        name=name,
        actor=team["users"]["lead"],
        code=team["targets"]["code"],
    )


# --- themes and findings ------------------------------------------------------------------


def test_themes_are_named_once_per_study_under_one_of_its_questions(team):
    theme = _theme(team)
    assert theme.order == 0 and theme.code == team["targets"]["code"]
    event = AuditEvent.objects.get(action="theme.create")
    assert event.study_id == team["study"].id and event.after["name"] == theme.name
    with pytest.raises(IntegrationError, match="already has a theme") as caught:
        _theme(team, name=theme.name.upper())
    assert caught.value.field == "name"
    with pytest.raises(IntegrationError, match="research question belongs to another study"):
        actions.create_theme(
            study=team["study"],
            research_question=team["other"].research_questions.first(),
            name="Elsewhere",
            actor=team["users"]["lead"],
        )
    actions.update_theme(theme=theme, actor=team["users"]["lead"], description="Why it matters")
    assert AuditEvent.objects.get(action="theme.update").before["description"] == ""
    assert Theme.objects.count() == 1


def test_a_finding_cites_evidence_of_its_own_study_only(team):
    lead = team["users"]["lead"]
    finding = actions.create_finding(
        study=team["study"],
        strand=Strand.INDEPTH,
        research_question=team["rq"],
        theme=_theme(team),
        statement="Clinicians and managers described an alliance.",
        actor=lead,
    )
    targets = team["targets"]
    cited = [
        actions.add_evidence(
            actor=lead,
            finding=finding,
            analysis_result=targets["analysis_result"],
            locator={"row": {"wave": 1, "item": "mode_localities"}, "column": "share"},
        ),
        actions.add_evidence(actor=lead, finding=finding, wave=targets["wave"], item="vision_set"),
        actions.add_evidence(actor=lead, finding=finding, coding=targets["coding"]),
        actions.add_evidence(actor=lead, finding=finding, framework_cell=targets["framework_cell"]),
        actions.add_evidence(actor=lead, finding=finding, source=targets["source"]),
    ]
    assert [e.kind for e in cited] == [
        "analysis_result",
        "survey_item",
        "segment",
        "matrix_cell",
        "source",
    ]
    assert cited[0].is_survey and cited[2].is_case_study
    assert "mode_localities" in cited[0].label
    # Labels name the code (and site), never the source's title, which names a role.
    assert cited[2].label == "Segment coded Clinician–manager alliance"
    assert cited[4].label == "Interview"
    assert AuditEvent.objects.filter(action="evidence.add").count() == 5

    refusals = [
        ({"coding": team["other_targets"]["coding"]}, "coding", "belongs to another study"),
        ({"analysis_result": team["other_targets"]["analysis_result"]}, "analysis_result",
         "belongs to another study"),
        ({"wave": targets["wave"], "item": "prop_alliance"}, "item", "not an item of Wave 1"),
        ({"wave": targets["wave"]}, "item", "Name the item"),
        ({"analysis_result": targets["analysis_result"],
          "locator": {"row": {"item": "mode_ppi"}}}, "locator", "has no row with item=mode_ppi"),
        ({"analysis_result": targets["analysis_result"], "locator": {"column": "odds"}},
         "locator", 'no column "odds"'),
        ({"coding": targets["coding"], "source": targets["source"]}, "target", "exactly one"),
        ({}, "target", "exactly one"),
    ]  # fmt: skip
    for given, field, message in refusals:
        with pytest.raises(IntegrationError, match=message) as caught:
            actions.add_evidence(actor=lead, finding=finding, **given)
        assert caught.value.field == field
    with pytest.raises(IntegrationError, match="exactly one finding") as caught:
        actions.add_evidence(actor=lead, source=targets["source"])
    assert Evidence.objects.count() == 5

    actions.remove_evidence(evidence=cited[-1], actor=lead)
    assert Evidence.objects.count() == 4
    assert AuditEvent.objects.get(action="evidence.remove").before["kind"] == "source"


def test_findings_are_checked_edited_and_deleted(team):
    lead = team["users"]["lead"]
    with pytest.raises(IntegrationError, match='"survey" is not a strand'):
        actions.create_finding(
            study=team["study"], strand="survey", research_question=team["rq"],
            statement="x", actor=lead,
        )  # fmt: skip
    with pytest.raises(IntegrationError, match="cannot be empty"):
        actions.create_finding(
            study=team["study"], strand=Strand.WAVE1, research_question=team["rq"],
            statement="  ", actor=lead,
        )  # fmt: skip
    finding = actions.create_finding(
        study=team["study"], strand=Strand.WAVE1, research_question=team["rq"],
        statement="Most CCGs engage clinicians through formal roles.", actor=lead,
    )  # fmt: skip
    actions.update_finding(finding=finding, actor=lead, strand=Strand.WAVE2)
    assert Finding.objects.get().strand == Strand.WAVE2
    actions.delete_finding(finding=finding, actor=lead)
    assert not Finding.objects.exists()
    assert AuditEvent.objects.get(action="finding.delete").before["strand"] == Strand.WAVE2


# --- convergence ------------------------------------------------------------------------


def test_a_pair_is_stored_in_the_models_order_with_its_rationale(team):
    theme = _theme(team)
    lead = team["users"]["lead"]
    code = actions.code_pair(
        theme=theme,
        strand_a=Strand.WAVE2,
        strand_b=Strand.PILOT,
        coder=lead,
        code="partial",
        rationale="Both see an alliance; the survey finds it weaker.",
    )
    assert (code.strand_a, code.strand_b) == ("pilot", "wave2")
    event = AuditEvent.objects.get(action="convergence.code")
    assert event.actor == lead and event.before is None and event.after["code"] == "partial"

    # The same coder coding the same pair again (given the other way round) replaces it.
    actions.code_pair(
        theme=theme,
        strand_a=Strand.PILOT,
        strand_b=Strand.WAVE2,
        coder=lead,
        code="agreement",
        rationale="On reflection the two agree.",
    )
    assert StrandPairCode.objects.get().code == "agreement"
    second = AuditEvent.objects.filter(action="convergence.code").latest("id")
    assert second.before == {"code": "partial", "rationale": code.rationale}

    bad = [
        ({"code": "maybe"}, "code", '"maybe" is not a convergence code'),
        ({"rationale": " "}, "rationale", "cannot be empty"),
        ({"strand_b": Strand.WAVE2}, "strand_b", "two different strands"),
        ({"coder": team["users"]["viewer"]}, "coder", "not a lead or researcher"),
        ({"coder": team["users"]["coder"]}, "coder", "not a lead or researcher"),
    ]
    for change, field, message in bad:
        given = {
            "theme": theme,
            "strand_a": Strand.WAVE2,
            "strand_b": Strand.INDEPTH,
            "coder": lead,
            "code": "silence",
            "rationale": "Only one strand speaks.",
            **change,
        }
        with pytest.raises(IntegrationError, match=message) as caught:
            actions.code_pair(**given)
        assert caught.value.field == field
    assert StrandPairCode.objects.count() == 1


def test_two_researchers_codes_give_the_hand_computed_kappa(team):
    """The stored codes of two researchers, read back, reproduce the kappa worked out by
    hand in test_convergence (11/17)."""
    themes = [_theme(team, "Alliance"), _theme(team, "Pipeline")]
    lead, researcher = team["users"]["lead"], team["users"]["researcher"]
    units = convergence.units_for([t.pk for t in themes])
    first = ["agreement"] * 5 + ["partial"] * 3 + ["silence"] * 3 + ["dissonance"]
    second = ["agreement"] * 4 + ["partial", "agreement", "partial", "partial"]
    second += ["silence", "silence", "dissonance", "dissonance"]
    by_pk = {t.pk: t for t in themes}
    for (theme_pk, a, b), mine, theirs in zip(units, first, second, strict=True):
        for coder, code in ((lead, mine), (researcher, theirs)):
            actions.code_pair(
                theme=by_pk[theme_pk],
                strand_a=b,  # given the other way round: stored normalised
                strand_b=a,
                coder=coder,
                code=code,
                rationale=f"{coder.username} read the findings as {code}.",
            )
    rows = StrandPairCode.objects.filter(theme__study=team["study"]).values_list(
        "theme_id", "strand_a", "strand_b", "coder__username", "code"
    )
    result = convergence.agreement(convergence.collect_codes(rows))
    assert result.units == 12 and result.kappa == pytest.approx(11 / 17)


def test_settling_a_pair_records_what_the_coders_said(team):
    theme = _theme(team)
    lead, researcher = team["users"]["lead"], team["users"]["researcher"]
    for coder, code in ((lead, "partial"), (researcher, "dissonance")):
        actions.code_pair(
            theme=theme, strand_a=Strand.INDEPTH, strand_b=Strand.WAVE1, coder=coder,
            code=code, rationale="Read independently.",
        )  # fmt: skip
    settled = actions.settle_pair(
        theme=theme,
        strand_a=Strand.WAVE1,
        strand_b=Strand.INDEPTH,
        code="partial",
        rationale="The survey's share is lower but points the same way.",
        actor=lead,
    )
    assert (settled.strand_a, settled.strand_b, settled.settled_by) == ("indepth", "wave1", lead)
    event = AuditEvent.objects.get(action="convergence.settle")
    assert event.after["coders"] == {"lead": "partial", "researcher": "dissonance"}
    actions.settle_pair(
        theme=theme, strand_a=Strand.INDEPTH, strand_b=Strand.WAVE1, code="dissonance",
        rationale="After discussion: they conflict.", actor=researcher,
    )  # fmt: skip
    assert SettledPairCode.objects.get().code == "dissonance"
    assert AuditEvent.objects.filter(action="convergence.settle").latest("id").before["code"] == (
        "partial"
    )


def test_one_global_assessment_per_question(team):
    lead = team["users"]["lead"]
    actions.write_global_assessment(
        study=team["study"], research_question=team["rq"], assessment="Mostly agreement.",
        actor=lead,
    )  # fmt: skip
    actions.write_global_assessment(
        study=team["study"], research_question=team["rq"], assessment="Agreement, one dissonance.",
        actor=lead,
    )  # fmt: skip
    assert GlobalAssessment.objects.get().assessment == "Agreement, one dissonance."
    events = AuditEvent.objects.filter(action="assessment.write").order_by("id")
    assert [e.before for e in events][1]["assessment"] == "Mostly agreement."


# --- joint displays ---------------------------------------------------------------------


def test_a_joint_display_with_rows_cells_evidence_and_a_meta_inference(team):
    lead, researcher = team["users"]["lead"], team["users"]["researcher"]
    display = actions.create_joint_display(
        study=team["study"],
        kind=JointDisplay.Kind.STATISTICS_BY_THEMES,
        title="Statistics by themes",
        columns=[{"key": "survey", "label": "Survey"}, {"key": "cases", "label": "Case studies"}],
        actor=lead,
    )
    assert display.slug == "statistics-by-themes"
    row = actions.add_display_row(display=display, label="Alliance", actor=lead, theme=_theme(team))
    survey = actions.set_display_cell(row=row, column="survey", text="67% agree", actor=lead)
    cases = actions.set_display_cell(row=row, column="cases", text="An alliance", actor=lead)
    actions.add_evidence(
        actor=lead, cell=survey, analysis_result=team["targets"]["analysis_result"]
    )
    actions.add_evidence(actor=lead, cell=cases, coding=team["targets"]["coding"])
    again = actions.set_display_cell(row=row, column="survey", text="68% agree", actor=lead)
    assert again.pk == survey.pk
    assert AuditEvent.objects.filter(action="display.set_cell").latest("id").before == {
        "text": "67% agree"
    }
    with pytest.raises(IntegrationError, match='"typology" is not a column'):
        actions.set_display_cell(row=row, column="typology", text="x", actor=lead)
    with pytest.raises(IntegrationError, match="already has a joint display"):
        actions.create_joint_display(
            study=team["study"], kind=JointDisplay.Kind.SIDE_BY_SIDE,
            title="Statistics by themes", columns=[{"key": "a"}], actor=lead,
        )  # fmt: skip
    with pytest.raises(IntegrationError, match="short and plain"):
        actions.create_joint_display(
            study=team["study"], kind=JointDisplay.Kind.SIDE_BY_SIDE, title="Other",
            columns=[{"key": "Survey wave 1!"}], actor=lead,
        )  # fmt: skip

    before = timezone.now()
    actions.record_meta_inference(
        row=row,
        text="Both strands see an alliance; the survey shows it is common.",
        actor=researcher,
    )
    row.refresh_from_db()
    assert row.meta_inference_by == researcher and row.meta_inference_at >= before
    event = AuditEvent.objects.get(action="display.meta_inference")
    assert event.actor == researcher and event.before["meta_inference"] == ""
    assert event.after["meta_inference"].startswith("Both strands")
    with pytest.raises(IntegrationError, match="cannot be empty"):
        actions.record_meta_inference(row=row, text="", actor=researcher)
