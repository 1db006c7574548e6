"""The three reports built from the demo study in the test database.

One demo build serves the module (it is the slow part): the fixture runs every demo
step up to the reports, then plants real-looking names, e-mail addresses and a telephone
number in new case-study material, takes them through the pseudonymisation flow (scan,
accept people and contact details, leave the rest pending, as a first review pass
would), and builds the reports. The tests then

- look every number of every report up again in the record its citation names;
- check every quote against the coded segment it cites;
- build the reports again and compare;
- search every report's text for the planted identifiers;
- change records and watch the reporting checklists and integration sections follow.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from triangulum.reports import evidence
from triangulum.reports.build import build_reports
from triangulum.reports.document import REPORT_KINDS, Checklist, Quote
from triangulum.testing import demo_in_test_database

pytestmark = pytest.mark.django_db

ACTOR = "reports test"
PEOPLE = (
    # (role category, full name as registered, e-mail)
    ("gp_member", "Dr Imogen Threlkeld", "imogen.threlkeld@nhs-example.net"),
    ("manager", "Mr Barnaby Quillfeather", "b.quillfeather@nhs-example.net"),
)
UNREGISTERED_EMAIL = "jo.pembleton@example.com"
PHONE = "01632 960123"
FORBIDDEN = (
    "Imogen",
    "Threlkeld",
    "Barnaby",
    "Quillfeather",
    "imogen.threlkeld@nhs-example.net",
    "b.quillfeather@nhs-example.net",
    UNREGISTERED_EMAIL,
    "pembleton",
    PHONE,
    "960123",
)
GRASSROOTS_ANSWER = (
    "Honestly, most GPs in our member practices never come to anything we run; Barnaby "
    "Quillfeather and I write to them every month, and they can reach me at "
    "imogen.threlkeld@nhs-example.net or ring 01632 960123, but Dr Threlkeld is not a name "
    "they know."
)
PIPELINE_ANSWER = (
    "Quillfeather's view, and mine, is that the next generation of clinical leaders is thin "
    "on the ground; Dr. Threlkeld-Smith keeps asking who will take over, and so does "
    f"{UNREGISTERED_EMAIL} from the training scheme."
)


def last_step_before_reports() -> str:
    from triangulum.core.demo_registry import collect_steps

    steps = [s for s in collect_steps() if not s.run.__module__.startswith("triangulum.reports")]
    return steps[-1].name


def plant_identifiers(study) -> dict:
    """New case-study material naming two registered people, their e-mail addresses, a
    telephone number and an unregistered address; coded; then pseudonymised as a first
    review pass would: people, e-mail addresses and telephone numbers accepted, the rest
    left pending."""
    from django.contrib.auth import get_user_model

    from triangulum.casework import actions as casework
    from triangulum.casework import actions_initiatives, actions_privacy
    from triangulum.casework.models import Code, Source
    from triangulum.studies import actions as studies

    site_source = (
        Source.objects.filter(study=study, phase__kind="in_depth_case_studies")
        .exclude(site=None)
        .order_by("id")
        .first()
    )
    site, phase = site_source.site, site_source.phase
    people = []
    for role, name, email in PEOPLE:
        participant = studies.register_participant(
            actor=ACTOR, study=study, role_category=role, organisation=site
        )
        studies.set_participant_contact(
            actor=ACTOR, participant=participant, full_name=name, email=email
        )
        people.append(participant)
    text = (
        "Interview at the CCG about member practices.\n\n"
        "Interviewer: How engaged are the member practices?\n\n"
        f"Threlkeld: {GRASSROOTS_ANSWER}\n\n"
        "Interviewer: And who will lead next?\n\n"
        f"Quillfeather: {PIPELINE_ANSWER}\n"
    )
    source = casework.create_source_from_text(
        study=study,
        title="Interview with Dr Imogen Threlkeld and Mr Barnaby Quillfeather",
        text=text,
        kind="interview",
        actor=ACTOR,
        site=site,
        phase=phase,
        speaker_map={"Threlkeld": people[0], "Quillfeather": people[1]},
    )
    coder = get_user_model().objects.get(username="coder")
    codes = {c.name: c for c in Code.objects.filter(study=study, is_active=True)}
    for code_name, answer in (
        ("Grassroots engagement", GRASSROOTS_ANSWER),
        ("Pipeline of future leaders", PIPELINE_ANSWER),
    ):
        start = source.text.index(answer)
        casework.apply_coding(
            source=source, code=codes[code_name], start=start, end=start + len(answer), coder=coder
        )
    casework.add_memo(
        study=study,
        author=coder,
        title="COREQ 1: the interviews at this site were by Dr Imogen Threlkeld's team",
        text="Contact b.quillfeather@nhs-example.net for the schedule.",
        source=source,
    )
    actions_initiatives.create_initiative(
        study=study,
        name="Quillfeather's frailty pathway",
        lead_organisation=site,
        actor=ACTOR,
        leaders=people[1:],
        benefits_targeted=["integration across boundaries"],
        sectors=["community services"],
    )
    actions_privacy.scan_study(study=study, actor=ACTOR)
    register = actions_privacy.register_for(study)
    for kind in ("email", "phone", "participant"):
        actions_privacy.accept_all_of_kind(study=study, kind=kind, actor=ACTOR, register=register)
    return {"source": source, "people": people}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    from triangulum.studies.models import Study

    folder = tmp_path_factory.mktemp("reports-content-demo")
    with django_db_blocker.unblock():
        until = last_step_before_reports()
    with demo_in_test_database(django_db_blocker, folder, until=until) as ctx:
        with django_db_blocker.unblock():
            study = Study.objects.get(pk=ctx.shared["study"].pk)
            planted = plant_identifiers(study)
            reports = build_reports(study)
        yield SimpleNamespace(study=study, planted=planted, reports=reports)


# --------------------------------------------------------------------------- numbers


PERCENT = re.compile(r"^(−|-)?(\d+(?:\.\d+)?)%")


def test_every_number_is_the_value_stored_in_the_record_it_cites(demo):
    for kind, report in demo.reports.items():
        numbers = report.numbers()
        assert len(numbers) > 100, kind
        for num in numbers:
            stored = evidence.resolve(demo.study, num.cite.ref)
            assert stored == num.value, (kind, num)
            assert num.cite.label, num
            match = PERCENT.match(num.text)
            if match:  # a printed percentage is the value rounded as printed
                digits = len(match.group(2).split(".")[1]) if "." in match.group(2) else 0
                assert float(match.group(2)) == pytest.approx(
                    abs(100 * num.value), abs=0.5 * 10**-digits + 1e-9
                ), num


def test_analysis_numbers_are_cells_of_the_latest_successful_run(demo):
    """Independently of ``resolve``: parse the ref and read the stored table."""
    from triangulum.analysis.models import AnalysisResult, AnalysisRun

    pattern = re.compile(r"^analysis:(\w+)/(\w+)@run(\d+)#r(\d+)/(\w+)$")
    checked = 0
    for report in demo.reports.values():
        for num in report.numbers():
            match = pattern.match(num.cite.ref)
            if not match:
                continue
            step, name, run, row, column = match.groups()
            latest = (
                AnalysisRun.objects.filter(
                    study=demo.study, step=step, status=AnalysisRun.Status.SUCCEEDED
                )
                .order_by("-started_at", "-id")
                .first()
            )
            assert latest.pk == int(run)
            result = AnalysisResult.objects.get(run=latest, name=name)
            assert result.data[int(row)][column] == num.value
            assert num.cite.url == f"/studies/{demo.study.slug}/analysis/results/{result.pk}/"
            checked += 1
    assert checked > 300


def test_every_kind_of_source_record_is_cited(demo):
    schemes = {num.cite.ref.split(":")[0] for r in demo.reports.values() for num in r.numbers()}
    assert {"analysis", "fieldwork", "frame", "casework", "organisations", "sample"} <= schemes


def test_quotes_are_pseudonymised_words_of_the_segment_they_cite(demo):
    from triangulum.casework.models import Coding

    quotes = [b for r in demo.reports.values() for b in r.blocks() if isinstance(b, Quote)]
    assert len(quotes) >= 10
    for quote in quotes:
        coding = Coding.objects.select_related("source").get(
            pk=int(quote.cite.ref.removeprefix("segment:")), source__study=demo.study
        )
        segment = " ".join(coding.source.text[coding.start : coding.end].split())
        # Outside the [pseudonym] replacements, the quote's words are the segment's words.
        for piece in re.split(r"\[[^\]]+\]|…", quote.text):
            piece = piece.strip(" ,.;:'’")
            if len(piece) > 3:
                assert piece in segment, (piece, segment)
        assert quote.attribution and "(" in quote.attribution


# --------------------------------------------------------------------------- determinism


def test_building_again_on_the_same_data_gives_an_equal_report(demo):
    again = build_reports(demo.study)
    for kind in REPORT_KINDS:
        assert again[kind] == demo.reports[kind], kind
        assert again[kind].text() == demo.reports[kind].text()
        assert again[kind].provenance == demo.reports[kind].provenance


def test_demo_reports_say_simulated_and_carry_their_provenance(demo):
    for kind, report in demo.reports.items():
        assert report.simulated is True
        assert "Simulated data" in report.text()
        labels = dict(report.provenance.items)
        assert labels["Report"] == kind
        assert demo.study.slug in labels["Study"]
        assert labels["Simulated data"].startswith("yes")
        assert "seed 2013" in labels["Analysis: typology"]
        assert report.provenance.items[0][1].startswith("sha256:")  # the snapshot first
        assert "Wave 2 instrument" in labels


# --------------------------------------------------------------------------- privacy


def test_planted_names_emails_and_phone_numbers_appear_in_no_report(demo):
    for kind, report in demo.reports.items():
        text = report.text()
        for secret in FORBIDDEN:
            assert secret.lower() not in text.lower(), (kind, secret)


def test_the_planted_material_did_reach_the_reports_in_pseudonymised_form(demo):
    """Without this the privacy test could pass by never quoting the planted source."""
    text = demo.reports["guidance"].text()
    assert "most GPs in our member practices never come to anything we run" in text
    planted = [
        b
        for b in demo.reports["guidance"].blocks()
        if isinstance(b, Quote) and "never come to anything" in b.text
    ]
    assert planted
    quote = planted[0]
    assert "[e-mail]" in quote.text and "[phone]" in quote.text
    assert quote.attribution.startswith("GP member")
    # The initiative named after a person, and the memo title, are pseudonymised too.
    assert "frailty pathway" in demo.reports["article"].text()


def test_no_participant_contact_detail_of_the_study_appears_in_any_report(demo):
    from triangulum.studies.models import ParticipantContact

    contacts = ParticipantContact.objects.filter(participant__study=demo.study)
    emails = {c.email.lower() for c in contacts if c.email}
    names = {c.full_name.split(" (")[0] for c in contacts if c.full_name}
    for kind, report in demo.reports.items():
        text = report.text()
        lowered = text.lower()
        assert not [e for e in emails if e in lowered], kind
        assert not [n for n in names if n in text], kind


# --------------------------------------------------------------------------- checklists


def checklist_status(report, prefix: str, number: str) -> tuple[str, str]:
    for block in report.blocks():
        if isinstance(block, Checklist) and block.caption.startswith(prefix):
            item = next(i for i in block.items if i.number == number)
            return item.status, item.where
    raise AssertionError(f"no {prefix} checklist")


def test_checklists_follow_the_study_records(demo):
    article = demo.reports["article"]
    assert checklist_status(article, "AAPOR", "A1")[0] == "addressed"
    assert checklist_status(article, "AAPOR", "A11")[0] == "addressed"
    assert checklist_status(article, "COREQ", "24")[0] == "addressed"
    status, where = checklist_status(article, "COREQ", "1")
    assert status == "addressed" and "COREQ 1" in where  # the planted memo
    assert "Threlkeld" not in where
    assert checklist_status(article, "COREQ", "2")[0] == "missing"
    assert checklist_status(article, "COREQ", "19")[0] == "missing"  # no recordings stored


def test_removing_a_record_makes_its_checklist_item_missing(demo):
    study = demo.study
    funder = study.funder
    study.funder = ""
    study.save(update_fields=["funder"])
    try:
        article = build_reports(study, ["article"])["article"]
        assert checklist_status(article, "AAPOR", "A1")[0] == "missing"
    finally:
        study.funder = funder
        study.save(update_fields=["funder"])


# --------------------------------------------------------------------------- integration


def _clear_integration(study):
    from triangulum.integration import models as im

    im.Evidence.objects.filter(evidence_of(study)).delete()
    im.JointDisplay.objects.filter(study=study).delete()
    im.Proposition.objects.filter(study=study).delete()
    im.GlobalAssessment.objects.filter(study=study).delete()
    im.Finding.objects.filter(study=study).delete()
    im.Theme.objects.filter(study=study).delete()


def evidence_of(study):
    from django.db.models import Q

    return (
        Q(finding__study=study) | Q(proposition__study=study) | Q(cell__row__display__study=study)
    )


def test_integration_sections_say_not_yet_available_without_records(demo):
    _clear_integration(demo.study)
    reports = build_reports(demo.study)
    assert "is not yet available for this study" in reports["article"].text()
    assert "not yet available" in reports["practitioner"].text()
    assert checklist_status(reports["article"], "GRAMMS", "4")[0] == "missing"


def test_integration_records_enter_the_reports_and_their_numbers_trace(demo):
    from django.contrib.auth import get_user_model

    from triangulum.analysis.models import AnalysisResult
    from triangulum.casework.models import Coding
    from triangulum.fieldwork.models import Wave
    from triangulum.integration import actions as integration

    study = demo.study
    _clear_integration(study)
    lead = get_user_model().objects.get(username="lead")
    rq1 = study.research_questions.get(number=1)
    wave2 = Wave.objects.get(study=study, number=2)
    coding = Coding.objects.filter(source=demo.planted["source"]).order_by("id").first()
    theme = integration.create_theme(
        study=study, research_question=rq1, name="Grassroots engagement", actor=lead
    )
    integration.settle_pair(
        theme=theme,
        strand_a="indepth",
        strand_b="wave2",
        code="agreement",
        rationale="Both strands find member practices weakly engaged.",
        actor=lead,
    )
    finding = integration.create_finding(
        study=study,
        strand="indepth",
        research_question=rq1,
        theme=theme,
        statement="Dr Imogen Threlkeld's practices, like most, rarely engage with the CCG.",
        actor=lead,
    )
    integration.add_evidence(actor=lead, finding=finding, coding=coding)
    proposition = integration.create_proposition(
        study=study,
        research_question=rq1,
        wave=wave2,
        finding=finding,
        statement="Fewer than half of governing-body members see most member GPs as engaged.",
        test="proportion",
        direction="less",
        parameters={
            "item": "prop_grassroots",
            "categories": ["agree", "strongly_agree"],
            "threshold": 0.5,
        },
        support_rule="Supported if the whole interval of the share agreeing lies below one half.",
        actor=lead,
    )
    integration.lock_proposition(proposition=proposition, actor=lead)
    integration.test_proposition(proposition=proposition, actor=lead)
    display = integration.create_joint_display(
        study=study,
        kind="side_by_side",
        title="RQ1 side by side",
        columns=[{"key": "survey", "label": "Survey"}, {"key": "cases", "label": "Case studies"}],
        research_question=rq1,
        actor=lead,
    )
    row = integration.add_display_row(display=display, label="Grassroots engagement", actor=lead)
    survey_cell = integration.set_display_cell(
        row=row, column="survey", text="A quarter agree most GPs are engaged.", actor=lead
    )
    result = AnalysisResult.objects.filter(run__study=study, name="wave2_share_agreeing").latest(
        "run__started_at"
    )
    integration.add_evidence(actor=lead, cell=survey_cell, analysis_result=result)
    cases_cell = integration.set_display_cell(
        row=row, column="cases", text="Barnaby Quillfeather: GPs never come.", actor=lead
    )
    integration.add_evidence(actor=lead, cell=cases_cell, coding=coding)
    integration.record_meta_inference(
        row=row, text="Weak grassroots engagement holds across England.", actor=lead
    )

    reports = build_reports(study)
    article = reports["article"]
    text = article.text()
    assert "Convergence coding matrix" in text and "agreement" in text
    assert "Joint display: RQ1 side by side" in text
    assert "Weak grassroots engagement holds across England." in text
    assert checklist_status(article, "GRAMMS", "4")[0] == "addressed"
    assert checklist_status(article, "GRAMMS", "6")[0] == "addressed"
    practitioner = reports["practitioner"].text()
    assert (
        "Fewer than half of governing-body members see most member GPs as engaged." in practitioner
    )
    refs = {n.cite.ref: n for r in reports.values() for n in r.numbers()}
    effect = refs[f"integration:proposition/{proposition.pk}#effect"]
    proposition.refresh_from_db()
    assert effect.value == proposition.effect
    assert evidence.resolve(study, f"integration:finding/{finding.pk}#evidence") == 1
    for report in reports.values():
        for num in report.numbers():
            if num.cite.ref.startswith("integration:"):
                assert evidence.resolve(study, num.cite.ref) == num.value
        lowered = report.text().lower()
        for secret in FORBIDDEN:
            assert secret.lower() not in lowered, secret
