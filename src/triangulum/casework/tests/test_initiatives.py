"""Redesign initiatives: actions, their cases, linked segments, and the pages."""

import datetime

import pytest
from django.urls import reverse

from triangulum.audit.models import AuditEvent
from triangulum.casework import actions, actions_initiatives
from triangulum.casework.framework import case_segments, create_matrix
from triangulum.casework.models import Case
from triangulum.casework.tests import privacy_fixtures
from triangulum.casework.tests.privacy_fixtures import PASSWORD

pytestmark = pytest.mark.django_db
labelled = privacy_fixtures.labelled


@pytest.fixture
def frailty(labelled):
    orgs = labelled["organisations"]
    initiative = actions_initiatives.create_initiative(
        study=labelled["study"],
        name="Integrated care for frail older people",
        lead_organisation=orgs["ashford"],
        actor=labelled["users"]["lead"],
        partner_organisations=[orgs["kent"]],
        sectors="primary care, community services, social care",
        leaders=[labelled["people"]["okafor"]],
        benefits_targeted=["integration across boundaries", "fewer emergency admissions"],
        status="under_way",
        start_date=datetime.date(2014, 4, 1),
    )
    return initiative


def test_an_initiative_is_a_case_and_a_matrix_row_that_opens_its_segments(labelled, frailty):
    study, lead = labelled["study"], labelled["users"]["lead"]
    case = Case.objects.get(study=study, kind="initiative")
    assert case.initiative == frailty and case.organisation == labelled["organisations"]["ashford"]
    assert frailty.sectors == ["primary care", "community services", "social care"]
    code = labelled["codings"][0].code
    assert case_segments(case, code) == []
    actions_initiatives.link_sources(
        initiative=frailty, sources=[labelled["sources"]["labelled_interview.txt"]], actor=lead
    )
    matrix = create_matrix(
        study=study,
        name="Initiatives",
        case_kind="initiative",
        codes=[code],
        cases=[case],
        actor=lead,
    )
    assert {s.coding_id for s in case_segments(case, code)} == {c.id for c in labelled["codings"]}
    assert matrix.cases.get() == case
    # A coding in another source joins through a direct link.
    notes = labelled["sources"]["labelled_notes.txt"]
    extra = actions.apply_coding(source=notes, code=code, start=50, end=80, coder=lead)
    actions_initiatives.link_codings(initiative=frailty, codings=[extra], actor=lead)
    assert extra.id in {c.id for c in actions_initiatives.initiative_segments(frailty)}
    assert extra.id in {s.coding_id for s in case_segments(case, code)}


def test_update_is_audited_and_bad_input_is_refused(labelled, frailty):
    lead = labelled["users"]["lead"]
    actions_initiatives.update_initiative(initiative=frailty, actor=lead, status="implemented")
    event = AuditEvent.objects.filter(action="initiative.update").get()
    assert event.before["status"] == "under_way" and event.after["status"] == "implemented"
    with pytest.raises(actions_initiatives.InitiativeError, match="status"):
        actions_initiatives.update_initiative(initiative=frailty, actor=lead, status="dreaming")
    with pytest.raises(actions_initiatives.InitiativeError, match="before the start"):
        actions_initiatives.update_initiative(
            initiative=frailty, actor=lead, end_date=datetime.date(2010, 1, 1)
        )
    frailty.refresh_from_db()
    assert frailty.status == "implemented" and frailty.end_date is None


def test_two_sites_with_the_same_initiative_get_distinct_cases(labelled, frailty):
    from triangulum.organisations.models import Organisation

    other = Organisation.objects.create(org_type="ccg", ods_code="99X", name="NHS Elsewhere CCG")
    actions_initiatives.create_initiative(
        study=labelled["study"],
        name=frailty.name,
        lead_organisation=other,
        actor=labelled["users"]["lead"],
    )
    names = set(Case.objects.filter(kind="initiative").values_list("name", flat=True))
    assert names == {f"{frailty.name} (NHS Ashford CCG)", f"{frailty.name} (NHS Elsewhere CCG)"}


def test_pages(client, labelled, frailty):
    study = labelled["study"]
    list_url = reverse("casework_initiatives:list", args=[study.slug])
    detail_url = reverse("casework_initiatives:detail", args=[study.slug, frailty.pk])
    create_url = reverse("casework_initiatives:create", args=[study.slug])
    for username, read, edit in (
        ("lead", 200, 200),
        ("researcher", 200, 200),
        ("coder", 200, 403),
        ("viewer", 200, 403),
        ("interviewer", 403, 403),
    ):
        client.logout()
        assert client.login(username=username, password=PASSWORD)
        assert client.get(list_url).status_code == read, username
        assert client.get(detail_url).status_code == read, username
        assert client.get(create_url).status_code == edit, username
    client.logout()
    client.login(username="researcher", password=PASSWORD)
    response = client.post(
        create_url,
        {
            "name": "Diabetes pathway",
            "lead_organisation": labelled["organisations"]["ashford"].pk,
            "status": "planned",
            "sectors": "primary care",
            "leaders": [labelled["people"]["raman"].pk],
        },
    )
    assert response.status_code == 302
    created = study.initiatives.get(name="Diabetes pathway")
    assert created.leaders.get() == labelled["people"]["raman"]
    bad = client.post(create_url, {"name": "", "status": "planned"})
    assert bad.status_code == 400
    source = labelled["sources"]["labelled_interview.txt"]
    client.post(
        reverse("casework_initiatives:link_source", args=[study.slug, frailty.pk]),
        {"source": source.pk},
    )
    page = client.get(detail_url).content.decode()
    assert "The frailty pathway worked" in page
    client.logout()
    client.login(username="viewer", password=PASSWORD)
    assert "The frailty pathway worked" not in client.get(detail_url).content.decode()
