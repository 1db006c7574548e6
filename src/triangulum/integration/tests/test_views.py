"""The integration pages per role: lead and researchers write, viewers read, other roles
are refused and outsiders cannot see the study; every write goes through the actions."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.timezone import localtime

from triangulum.audit.models import AuditEvent
from triangulum.integration import convergence, queries
from triangulum.integration.models import (
    Evidence,
    Finding,
    GlobalAssessment,
    JointDisplayRow,
    Proposition,
    SettledPairCode,
    StrandPairCode,
)
from triangulum.studies.models import Role

from . import web_fixtures

pytestmark = pytest.mark.django_db
world = web_fixtures.world

READERS = {Role.LEAD, Role.RESEARCHER, Role.VIEWER}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def read_urls(world):
    slug = world.study.slug
    return [
        reverse("integration:index", args=[slug]),
        reverse("integration:findings", args=[slug]),
        reverse("integration:finding", args=[slug, world.findings[0].pk]),
        reverse("integration:convergence", args=[slug]),
        reverse("integration:convergence_theme", args=[slug, world.theme.pk]),
        reverse("integration:propositions", args=[slug]),
        reverse("integration:proposition", args=[slug, world.tested.pk]),
        reverse("integration:displays", args=[slug]),
        reverse("integration:display", args=[slug, world.display.slug]),
        reverse("integration:display", args=[slug, world.display.slug]) + "?format=xlsx",
    ]


@pytest.mark.parametrize("role", Role.values)
def test_each_role_reads_only_what_it_may(world, role):
    client = client_for(world.users[role])
    for url in read_urls(world):
        status = client.get(url).status_code
        assert status == (200 if role in READERS else 403), (role, url, status)


def test_outsiders_get_404_and_anonymous_users_are_sent_to_sign_in(world):
    outsider = client_for(world.outsider)
    anonymous = Client()
    for url in read_urls(world):
        assert outsider.get(url).status_code == 404, url
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/")


def test_every_page_of_a_simulated_study_says_so(world):
    client = client_for(world.users[Role.VIEWER])
    for url in read_urls(world)[:-1]:
        assert "Simulated data." in client.get(url).content.decode(), url


def test_the_study_navigation_links_integration_for_readers_only(world):
    home = reverse("studies:home", args=[world.study.slug])
    index = reverse("integration:index", args=[world.study.slug])
    assert f'href="{index}"' in client_for(world.users[Role.VIEWER]).get(home).content.decode()
    assert f'href="{index}"' not in client_for(world.users[Role.CODER]).get(home).content.decode()


# --- evidence links --------------------------------------------------------------------


def test_evidence_urls_point_at_the_row_and_the_coded_segment(world):
    slug = world.study.slug
    segment = Evidence.objects.get(finding=world.findings[0])
    survey = Evidence.objects.get(finding=world.findings[1])
    cell = Evidence.objects.get(kind="matrix_cell")
    assert queries.evidence_url(segment) == (
        reverse("casework:reader", args=[slug, world.source.pk])
        + f"?at={world.coding.start}&coding={world.coding.pk}#at"
    )
    # infl_ccg is the first row of the table: the page numbers rows from 1.
    assert queries.evidence_url(survey) == (
        reverse("analysis:result", args=[slug, world.result.pk]) + "#row-1"
    )
    fc = world.framework_cell
    assert queries.evidence_url(cell) == reverse(
        "casework:framework_cell", args=[slug, fc.matrix_id, fc.case_id, fc.code_id]
    )


def test_a_row_anchor_lands_on_the_row_the_evidence_cites(world):
    """The analysis result page marks rows so the anchor finds the cited row."""
    client = client_for(world.users[Role.RESEARCHER])
    evidence = Evidence.objects.filter(cell__row=world.rows[2], kind="analysis_result").get()
    url = queries.evidence_url(evidence)
    path, anchor = url.split("#")
    page = client.get(path).content.decode()
    row = re.search(rf'<tr id="{anchor}">(.*?)</tr>', page, re.S)
    assert row is not None, f"no row {anchor} on the result page"
    assert "gp_lead" in row.group(1)


def test_a_viewer_sees_segment_evidence_as_text_not_a_link_to_the_reader(world):
    reader = reverse("casework:reader", args=[world.study.slug, world.source.pk])
    viewer_page = client_for(world.users[Role.VIEWER]).get(
        reverse("integration:findings", args=[world.study.slug])
    )
    assert reader not in viewer_page.content.decode()
    label = Evidence.objects.get(finding=world.findings[0]).label
    assert label.startswith("Segment coded Clinical leadership")
    assert label in viewer_page.content.decode()
    assert world.source.title not in viewer_page.content.decode()
    researcher_page = client_for(world.users[Role.RESEARCHER]).get(
        reverse("integration:findings", args=[world.study.slug])
    )
    assert f"{reader}?at={world.coding.start}&amp;coding={world.coding.pk}#at" in (
        researcher_page.content.decode()
    )


# --- findings --------------------------------------------------------------------------


def test_a_researcher_adds_a_finding_and_a_viewer_cannot(world):
    url = reverse("integration:findings", args=[world.study.slug])
    data = {
        "strand": "indepth",
        "research_question": world.rqs[1].pk,
        "theme": "",
        "statement": "In-depth sites show councils as partners.",
    }
    assert client_for(world.users[Role.VIEWER]).post(url, data).status_code == 403
    assert not Finding.objects.filter(statement=data["statement"]).exists()
    response = client_for(world.users[Role.RESEARCHER]).post(url, data)
    finding = Finding.objects.get(statement=data["statement"])
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "integration:finding", args=[world.study.slug, finding.pk]
    )
    assert finding.strand == "indepth" and finding.research_question == world.rqs[1]
    assert finding.created_by == world.users[Role.RESEARCHER]
    assert AuditEvent.objects.filter(action="finding.create", object_id=str(finding.pk)).exists()


def test_a_finding_without_a_statement_is_refused_with_the_field_named(world):
    url = reverse("integration:findings", args=[world.study.slug])
    before = Finding.objects.count()
    response = client_for(world.users[Role.LEAD]).post(
        url, {"strand": "pilot", "research_question": world.rqs[0].pk, "statement": ""}
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert Finding.objects.count() == before


def test_evidence_is_cited_by_pasting_the_address_of_its_page(world):
    finding = world.findings[1]
    url = reverse("integration:finding", args=[world.study.slug, finding.pk])
    client = client_for(world.users[Role.RESEARCHER])
    reader = reverse("casework:reader", args=[world.study.slug, world.source.pk])
    response = client.post(
        url,
        {
            "intent": "add_evidence",
            "address": f"http://testserver{reader}?at=3#coding-{world.coding.pk}",
            "label": "",
        },
    )
    assert response.status_code == 302
    evidence = finding.evidence.get(kind="segment")
    assert evidence.coding == world.coding
    result = reverse("analysis:result", args=[world.study.slug, world.result.pk])
    client.post(url, {"intent": "add_evidence", "address": f"{result}#row-3", "label": "GPs"})
    cited = finding.evidence.get(kind="analysis_result", label="GPs")
    assert cited.locator == {"row": 2}
    assert queries.evidence_url(cited).endswith("#row-3")


@pytest.mark.parametrize("form", ["link", "passage", "source"])
def test_a_reader_address_cites_the_segment_it_names_or_else_the_source(world, form):
    """A segment link copied from an integration page names its coding; a passage
    address from the retrieval pages names the one segment starting there."""
    finding = world.findings[1]
    reader = reverse("casework:reader", args=[world.study.slug, world.source.pk])
    address = {
        "link": queries.evidence_url(Evidence.objects.get(finding=world.findings[0])),
        "passage": f"{reader}?at={world.coding.start}#at",
        "source": f"{reader}?at=1#at",
    }[form]
    client_for(world.users[Role.LEAD]).post(
        reverse("integration:finding", args=[world.study.slug, finding.pk]),
        {"intent": "add_evidence", "address": address},
    )
    evidence = finding.evidence.exclude(kind="analysis_result").get()
    if form == "source":
        assert (evidence.kind, evidence.source) == ("source", world.source)
    else:
        assert (evidence.kind, evidence.coding) == ("segment", world.coding)


@pytest.mark.parametrize(
    "address,message",
    [
        ("/nowhere/", "is not the address of a page of Triangulum"),
        ("/studies/elsewhere/integration/", "belongs to another study"),
        ("/studies/integration-study/integration/displays/", "that address is none of these"),
        ("/studies/integration-study/casework/sources/999999/", "No such source"),
    ],
)
def test_a_bad_evidence_address_is_refused_and_nothing_is_stored(world, address, message):
    finding = world.findings[0]
    url = reverse("integration:finding", args=[world.study.slug, finding.pk])
    before = Evidence.objects.count()
    response = client_for(world.users[Role.LEAD]).post(
        url, {"intent": "add_evidence", "address": address}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Evidence.objects.count() == before


def test_a_researcher_edits_a_finding_and_removes_evidence(world):
    finding = world.findings[0]
    url = reverse("integration:finding", args=[world.study.slug, finding.pk])
    client = client_for(world.users[Role.RESEARCHER])
    client.post(
        url,
        {
            "intent": "edit",
            "strand": "pilot",
            "research_question": world.rqs[0].pk,
            "theme": world.theme.pk,
            "statement": "Revised: GPs drove redesign in four of five pilot sites.",
        },
    )
    finding.refresh_from_db()
    assert finding.statement.startswith("Revised:")
    evidence = finding.evidence.get()
    client.post(url, {"intent": "remove_evidence", "evidence": evidence.pk})
    assert not finding.evidence.exists()
    assert client_for(world.users[Role.VIEWER]).post(url, {"intent": "edit"}).status_code == 403


# --- convergence -----------------------------------------------------------------------


def test_the_convergence_page_shows_codes_rationales_settled_code_and_kappa(world):
    page = client_for(world.users[Role.VIEWER]).get(
        reverse("integration:convergence", args=[world.study.slug])
    )
    text = page.content.decode()
    codes = {"lead": {}, "researcher": {}}
    for code in StrandPairCode.objects.all():
        codes[code.coder.username][(code.theme_id, code.strand_a, code.strand_b)] = code.code
    expected = convergence.agreement(codes)
    assert f'<dd id="kappa">{expected.kappa:.3f}</dd>' in text
    # The two coders agree on one of two units (silence) and differ on the other.
    assert expected.units == 2 and expected.agreed == 1
    assert "lead reads them as agreement" in text and "researcher reads them as partial" in text
    assert "Settled: Agreement" in text
    assert "Strands converge on GP ownership." in text
    assert 'id="agreement-table"' in text
    assert "Researchers differ" in text


def test_a_researcher_codes_and_settles_a_pair_and_writes_the_global_assessment(world):
    client = client_for(world.users[Role.RESEARCHER])
    url = reverse("integration:convergence_theme", args=[world.study.slug, world.theme.pk])
    client.post(
        url,
        {
            "intent": "code",
            "code-indepth-wave2": "dissonance",
            "rationale-indepth-wave2": "in-depth sites tell another story",
        },
    )
    mine = StrandPairCode.objects.get(
        theme=world.theme, coder=world.users[Role.RESEARCHER], strand_a="indepth"
    )
    assert (mine.strand_b, mine.code) == ("wave2", "dissonance")
    client.post(
        url,
        {
            "intent": "settle",
            "strand_a": "indepth",
            "strand_b": "wave2",
            "code": "partial",
            "rationale": "talked it through",
        },
    )
    assert SettledPairCode.objects.get(theme=world.theme, strand_a="indepth").code == "partial"
    client.post(
        reverse("integration:convergence", args=[world.study.slug]),
        {"research_question": world.rqs[1].pk, "assessment": "Silence on councils."},
    )
    assert GlobalAssessment.objects.get(research_question=world.rqs[1]).assessment == (
        "Silence on councils."
    )
    viewer = client_for(world.users[Role.VIEWER])
    assert (
        viewer.post(url, {"intent": "code", "code-indepth-wave2": "agreement"}).status_code == 403
    )
    assert StrandPairCode.objects.filter(coder=world.users[Role.VIEWER]).count() == 0


def test_a_settle_without_a_rationale_is_refused_with_a_message(world):
    url = reverse("integration:convergence_theme", args=[world.study.slug, world.theme.pk])
    client = client_for(world.users[Role.LEAD])
    response = client.post(
        url,
        {"intent": "settle", "strand_a": "indepth", "strand_b": "pilot", "code": "agreement"},
        follow=True,
    )
    assert not SettledPairCode.objects.filter(theme=world.theme, strand_a="indepth").exists()
    assert "rationale" in response.content.decode().lower()


# --- propositions ----------------------------------------------------------------------


def test_the_proposition_pages_show_lock_time_verdict_interval_and_rule(world):
    from triangulum.integration.propositions import verdict_rule_text

    client = client_for(world.users[Role.VIEWER])
    listing = client.get(reverse("integration:propositions", args=[world.study.slug]))
    text = listing.content.decode()
    assert "0.612 [0.553, 0.668]" in text
    assert "Supported" in text and "not yet" in text
    detail = client.get(
        reverse("integration:proposition", args=[world.study.slug, world.tested.pk])
    ).content.decode()
    assert localtime(world.tested.locked_at).isoformat()[:19] in detail
    assert '<dd id="interval">0.5530 to 0.6680</dd>' in detail
    assert verdict_rule_text()[:80] in detail
    assert world.tested.lock_hash in detail
    assert "Lock this proposition" not in detail


def test_a_researcher_locks_a_draft_and_a_viewer_cannot(world):
    slug = world.study.slug
    url = reverse("integration:lock_proposition", args=[slug, world.draft.pk])
    assert client_for(world.users[Role.VIEWER]).post(url).status_code == 403
    world.draft.refresh_from_db()
    assert world.draft.locked_at is None
    detail = reverse("integration:proposition", args=[slug, world.draft.pk])
    client = client_for(world.users[Role.RESEARCHER])
    assert "Lock this proposition" in client.get(detail).content.decode()
    response = client.post(url, follow=True)
    world.draft.refresh_from_db()
    assert world.draft.status == Proposition.Status.LOCKED and world.draft.locked_at
    assert "Locked the proposition" in response.content.decode()
    assert localtime(world.draft.locked_at).isoformat()[:19] in response.content.decode()
    # Locking again changes nothing and says why.
    locked_at = world.draft.locked_at
    again = client.post(url, follow=True)
    world.draft.refresh_from_db()
    assert world.draft.locked_at == locked_at
    assert "message--error" in again.content.decode()


def test_testing_a_proposition_needs_wave_2_interviews(world):
    url = reverse("integration:test_proposition", args=[world.study.slug, world.locked.pk])
    response = client_for(world.users[Role.LEAD]).post(url, follow=True)
    world.locked.refresh_from_db()
    assert world.locked.verdict == ""
    assert "no complete interview" in response.content.decode()


# --- joint displays --------------------------------------------------------------------


def test_a_joint_display_is_a_table_of_rows_cells_evidence_and_meta_inferences(world):
    slug = world.study.slug
    page = client_for(world.users[Role.RESEARCHER]).get(
        reverse("integration:display", args=[slug, world.display.slug])
    )
    text = page.content.decode()
    assert '<th scope="col">Survey, wave 2</th>' in text
    assert '<th scope="col">Case studies</th>' in text
    for row in world.rows:
        assert f'<tr id="display-row-{row.pk}">' in text
        assert f'<th scope="row">{row.label}</th>' in text
        assert f'id="meta-inference-input-{row.pk}"' in text
    for number in (1, 2, 3):
        assert reverse("analysis:result", args=[slug, world.result.pk]) + f"#row-{number}" in text
    assert "Survey and cases agree: GPs lead redesign." in text
    viewer = client_for(world.users[Role.VIEWER]).get(
        reverse("integration:display", args=[slug, world.display.slug])
    )
    assert "meta-inference-input" not in viewer.content.decode()
    assert "Survey and cases agree: GPs lead redesign." in viewer.content.decode()


def test_a_researcher_records_a_meta_inference_through_htmx(world):
    row = world.rows[1]
    url = reverse("integration:meta_inference", args=[world.study.slug, world.display.slug, row.pk])
    client = client_for(world.users[Role.RESEARCHER])
    response = client.post(
        url, {"meta_inference": "Councils matter less than cases suggest."}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert text.lstrip().startswith(f'<div class="meta-inference" id="meta-inference-{row.pk}">')
    assert "Councils matter less than cases suggest." in text and "Saved." in text
    row.refresh_from_db()
    assert row.meta_inference_by == world.users[Role.RESEARCHER]
    assert AuditEvent.objects.filter(action="display.meta_inference").count() == 2


def test_an_empty_meta_inference_is_refused_and_the_old_one_kept(world):
    row = world.rows[0]
    url = reverse("integration:meta_inference", args=[world.study.slug, world.display.slug, row.pk])
    response = client_for(world.users[Role.LEAD]).post(
        url, {"meta_inference": "   "}, HTTP_HX_REQUEST="true"
    )
    assert 'role="alert"' in response.content.decode()
    row.refresh_from_db()
    assert row.meta_inference == "Survey and cases agree: GPs lead redesign."


def test_viewers_and_coders_cannot_record_meta_inferences(world):
    row = world.rows[2]
    url = reverse("integration:meta_inference", args=[world.study.slug, world.display.slug, row.pk])
    for role in (Role.VIEWER, Role.CODER):
        assert client_for(world.users[role]).post(url, {"meta_inference": "x"}).status_code == 403
    assert client_for(world.outsider).post(url, {"meta_inference": "x"}).status_code == 404
    assert JointDisplayRow.objects.get(pk=row.pk).meta_inference == ""


def test_a_display_page_runs_a_fixed_number_of_queries_whatever_its_size(
    world, django_assert_max_num_queries
):
    from triangulum.integration import actions

    url = reverse("integration:display", args=[world.study.slug, world.display.slug])
    client = client_for(world.users[Role.RESEARCHER])
    client.get(url)  # warm the session
    with django_assert_max_num_queries(14) as small:
        client.get(url)
    for number in range(12):
        row = actions.add_display_row(display=world.display, label=f"More {number}", actor="test")
        cell = actions.set_display_cell(row=row, column="cases", text="more", actor="test")
        actions.add_evidence(cell=cell, coding=world.coding, actor="test")
        actions.add_evidence(cell=cell, framework_cell=world.framework_cell, actor="test")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


def test_the_integration_navigation_lists_only_pages_the_role_may_open(world):
    from django.urls import resolve

    for role in (Role.VIEWER, Role.RESEARCHER):
        page = client_for(world.users[role]).get(
            reverse("integration:finding", args=[world.study.slug, world.findings[0].pk])
        )
        nav = re.search(r'<nav aria-label="Integration".*?</nav>', page.content.decode(), re.S)
        links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav.group(0))
        assert [label for _, _, label in links][:5] == [
            "Overview",
            "Findings register",
            "Convergence matrix",
            "Propositions",
            "Joint displays",
        ]
        for url, _, label in links:
            assert role in resolve(url).func.study_roles, (role, label)
        assert [label for _, current, label in links if current] == ["Findings register"]


def test_a_researchers_codes_are_saved_all_or_none(world):
    url = reverse("integration:convergence_theme", args=[world.study.slug, world.theme.pk])
    researcher = world.users[Role.RESEARCHER]
    before = StrandPairCode.objects.filter(coder=researcher).count()
    response = client_for(researcher).post(
        url,
        {
            "intent": "code",
            "code-indepth-pilot": "agreement",
            "rationale-indepth-pilot": "both case-study strands say so",
            "code-indepth-wave1": "silence",
            "rationale-indepth-wave1": "",
        },
        follow=True,
    )
    assert StrandPairCode.objects.filter(coder=researcher).count() == before
    assert "message--error" in response.content.decode()
