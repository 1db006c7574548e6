"""Study pages: who reaches which page, what each role receives, and the forms' behaviour."""

import pytest
from django.test import Client
from django.urls import reverse

from triangulum.audit.models import AuditEvent
from triangulum.studies import actions
from triangulum.studies.models import Role, StudyMembership

pytestmark = pytest.mark.django_db

# page URL name -> roles that may open it
PAGES = {
    "studies:home": set(Role.values),
    "studies:members": {Role.LEAD},
    "studies:participants": {Role.LEAD, Role.RESEARCHER, Role.INTERVIEWER},
    "studies:audit": {Role.LEAD},
}

SECRET_NAME = "Zebedee Unlikelyname"
SECRET_EMAIL = "zebedee@example.org"
SECRET_PHONE = "01632 960777"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def participant(study, users):
    p = actions.register_participant(actor=users["lead"], study=study, role_category="chair")
    actions.set_participant_contact(
        actor=users["lead"],
        participant=p,
        full_name=SECRET_NAME,
        email=SECRET_EMAIL,
        phone=SECRET_PHONE,
    )
    return p


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(study, page):
    response = Client().get(reverse(page, args=[study.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("page", PAGES)
def test_non_members_get_404_for_existing_and_missing_studies(study, make_user, page):
    client = client_for(make_user("outsider"))
    assert client.get(reverse(page, args=[study.slug])).status_code == 404
    assert client.get(reverse(page, args=["no-such-study"])).status_code == 404


@pytest.mark.parametrize("role", Role.values)
def test_each_role_reaches_only_its_pages_and_sees_only_its_nav(study, users, role):
    client = client_for(users[role])
    home = client.get(reverse("studies:home", args=[study.slug])).content.decode()
    for page, allowed in PAGES.items():
        url = reverse(page, args=[study.slug])
        status = client.get(url).status_code
        assert status == (200 if role in allowed else 403), (role, page, status)
        assert (f'href="{url}"' in home) == (role in allowed), (role, page)


def test_every_view_names_its_roles():
    from triangulum.studies import urls

    for pattern in urls.urlpatterns:
        assert getattr(pattern.callback, "study_roles", None), pattern.name


@pytest.mark.parametrize("role", [Role.LEAD, Role.INTERVIEWER])
def test_contact_roles_see_contact_details(study, users, participant, role):
    html = client_for(users[role]).get(reverse("studies:participants", args=[study.slug]))
    text = html.content.decode()
    assert participant.pseudonym in text
    for secret in (SECRET_NAME, SECRET_EMAIL, SECRET_PHONE):
        assert secret in text


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.CODER, Role.VIEWER])
def test_other_roles_never_receive_contact_details(study, users, participant, role):
    client = client_for(users[role])
    for page in PAGES:
        response = client.get(reverse(page, args=[study.slug]))
        text = response.content.decode()
        for secret in (SECRET_NAME, SECRET_EMAIL, SECRET_PHONE):
            assert secret not in text, (role, page)
    if role == Role.RESEARCHER:
        text = client.get(reverse("studies:participants", args=[study.slug])).content.decode()
        assert participant.pseudonym in text and "Chair" in text


def test_only_the_lead_edits_contacts(study, users, participant):
    url = reverse("studies:participant_contact", args=[study.slug, participant.pk])
    assert client_for(users[Role.INTERVIEWER]).get(url).status_code == 403
    response = client_for(users[Role.LEAD]).post(
        url, {"full_name": "New Name", "email": "not-an-address"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert 'aria-invalid="true"' in text and 'aria-describedby="id_email_error"' in text
    assert 'id="id_email_error"' in text
    response = client_for(users[Role.LEAD]).post(url, {"full_name": "New Name"})
    assert response.status_code == 302
    participant.contact.refresh_from_db()
    assert participant.contact.full_name == "New Name"


def test_home_shows_the_protocol(users):
    study = actions.install_builtin_study(actor="test")
    actions.add_member(actor="test", study=study, username="lead", role=Role.LEAD)
    text = client_for(users[Role.LEAD]).get(reverse("studies:home", args=[study.slug])).content
    text = text.decode()
    assert "£475,000" in text and "National Institute for Health Research" in text
    assert "RQ4: Enablers, blockers and fit" in text
    assert text.count('class="status status--planned"') == 6
    assert "Community services" in text and "Patients and the public" in text
    assert "Nothing yet." in text


def test_registering_a_participant_with_contact(study, users):
    client = client_for(users[Role.LEAD])
    url = reverse("studies:register_participant", args=[study.slug])
    response = client.post(
        url,
        {
            "role_category": "nurse",
            "contact-full_name": "Nia Test",
            "contact-email": "nia@example.org",
        },
    )
    assert response.status_code == 302
    participant = study.participants.get()
    assert participant.pseudonym == "P001" and participant.contact.full_name == "Nia Test"
    # Bad organisation code: field error, nothing stored.
    response = client.post(url, {"role_category": "nurse", "organisation_code": "ZZZ"})
    assert response.status_code == 400
    assert "No organisation with ODS code" in response.content.decode()
    assert study.participants.count() == 1
    assert (
        client_for(users[Role.RESEARCHER]).post(url, {"role_category": "nurse"}).status_code == 403
    )


def test_members_page_adds_changes_and_removes_with_confirmation(study, users, make_user):
    make_user("newbie")
    client = client_for(users[Role.LEAD])
    members_url = reverse("studies:members", args=[study.slug])
    response = client.post(members_url, {"username": "ghost", "role": "viewer"})
    assert response.status_code == 400
    assert "No user named" in response.content.decode()
    assert client.post(members_url, {"username": "newbie", "role": "coder"}).status_code == 302
    membership = StudyMembership.objects.get(study=study, user__username="newbie")
    assert membership.role == Role.CODER

    role_url = reverse("studies:change_role", args=[study.slug, membership.pk])
    client.post(role_url, {"role": "viewer"})
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER

    remove_url = reverse("studies:remove_member", args=[study.slug, membership.pk])
    confirm = client.get(remove_url)
    assert confirm.status_code == 200 and "Yes, remove newbie" in confirm.content.decode()
    assert StudyMembership.objects.filter(pk=membership.pk).exists()
    client.post(remove_url)
    assert not StudyMembership.objects.filter(pk=membership.pk).exists()


def test_last_lead_refusal_is_shown_and_htmx_gets_the_partial(study, users):
    client = client_for(users[Role.LEAD])
    lead = study.memberships.get(user=users[Role.LEAD])
    url = reverse("studies:change_role", args=[study.slug, lead.pk])
    response = client.post(url, {"role": "viewer"}, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<section id="members-section"')
    assert "only lead" in text and f'id="role-{lead.pk}_error"' in text
    response = client.post(
        reverse("studies:remove_member", args=[study.slug, lead.pk]), follow=True
    )
    assert "only lead" in response.content.decode()
    lead.refresh_from_db()
    assert lead.role == Role.LEAD


def test_posts_need_a_csrf_token(study, users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users[Role.LEAD])
    url = reverse("studies:members", args=[study.slug])
    assert client.post(url, {"username": "coder", "role": "lead"}).status_code == 403


def test_audit_page_filters_and_paginates(study, users):
    for _ in range(30):
        actions.register_participant(actor=users["lead"], study=study, role_category="chair")
    client = client_for(users[Role.LEAD])
    url = reverse("studies:audit", args=[study.slug])
    text = client.get(url).content.decode()
    total = AuditEvent.objects.filter(study_id=study.id).count()
    assert f"{total} events" in text and "page 1 of 2" in text
    assert '<th scope="col">What changed (before → after)</th>' in text

    text = client.get(url, {"action": "membership.add"}).content.decode()
    assert "5 events match the filters" in text
    assert 'role</strong>: <span class="muted">(none)</span> → interviewer' in text
    assert "participant.register</code>" not in text

    second = client.get(url, {"page": 2}).content.decode()
    assert "page 2 of 2" in second

    bad = client.get(url, {"since": "2030-01-02", "until": "2030-01-01"})
    assert bad.status_code == 400
    assert "The end of the range is before its start." in bad.content.decode()

    # Events of another study never show.
    other = actions.create_study(actor="t", slug="other", title="Other", lead=users["lead"])
    actions.register_participant(actor="t", study=other, role_category="nurse")
    text = client.get(url, {"object_type": "studies.participant"}).content.decode()
    assert "30 events match the filters" in text


def test_the_register_is_paged_and_searchable_by_pseudonym_not_by_name(study, users):
    lead = users["lead"]
    for number in range(1, 61):
        p = actions.register_participant(
            actor=lead, study=study, role_category="gp_member", pseudonym=f"GP{number:03d}"
        )
        if number == 7:
            actions.set_participant_contact(actor=lead, participant=p, full_name=SECRET_NAME)
    url = reverse("studies:participants", args=[study.slug])
    client = client_for(lead)

    first = client.get(url).content.decode()
    assert "GP001" in first and "GP050" in first and "GP051" not in first
    assert "page 1 of 2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "GP051" in second and "GP060" in second and "GP001" not in second

    found = client.get(url, {"q": "gp007"}).content.decode()
    assert "GP007" in found and "GP008" not in found and "1 participant match" in found
    by_name = client.get(url, {"q": "Unlikelyname"}).content.decode()
    assert "0 participants match" in by_name
