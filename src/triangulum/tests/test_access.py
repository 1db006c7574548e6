"""Every URL of the web app refuses anonymous users and outsiders, and each role reaches
exactly the pages it should. A new URL pattern must be added to the tables below (the walk
fails on a pattern it cannot fill in), so no page slips in unchecked."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from triangulum.organisations.models import Organisation
from triangulum.studies.models import Participant, Role, Study, StudyMembership

pytestmark = pytest.mark.django_db

ALL = set(Role.values)
LEAD = {Role.LEAD}
# Pages whose audience is a decision of the study design, not of the code: checked here
# independently of what each view declares.
EXPECTED_ROLES = {
    "studies:home": ALL,
    "organisations:frame": ALL,
    "organisations:detail": ALL,
    "sampling:list": ALL,
    "sampling:detail": ALL,
    "studies:members": LEAD,
    "studies:change_role": LEAD,
    "studies:remove_member": LEAD,
    "studies:register_participant": LEAD,
    "studies:participant_contact": LEAD,
    "studies:audit": LEAD,
    "studies:participants": {Role.LEAD, Role.RESEARCHER, Role.INTERVIEWER},
}
# URL names open to anyone (signing in) or to any signed-in user (their own study list).
PUBLIC = {"login", "logout"}
SIGNED_IN = {"core:home"}


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, prefix + str(entry.pattern), entry.callback


@pytest.fixture
def world():
    users = get_user_model().objects
    study = Study.objects.create(slug="s1", title="Access study")
    members = {}
    for role in Role.values:
        user = users.create_user(role, password="pw")
        StudyMembership.objects.create(study=study, user=user, role=role)
        members[role] = user
    outsider = users.create_user("outsider", password="pw")
    other = Study.objects.create(slug="s2", title="Someone else's study")
    StudyMembership.objects.create(study=other, user=outsider, role=Role.LEAD)
    org = Organisation.objects.create(
        org_type="ccg",
        ods_code="00C",
        name="NHS Darlington CCG",
        open_date=datetime.date(2013, 4, 1),
    )
    from triangulum.sampling.models import Sample, SampleUnit

    sample = Sample.objects.create(
        study=study,
        name="census",
        method="census",
        org_type="ccg",
        vintage=datetime.date(2013, 4, 1),
        parameters={},
        seed=1,
        frame_size=1,
    )
    SampleUnit.objects.create(
        sample=sample,
        organisation=org,
        inclusion_probability=1,
        base_weight=1,
        selection_order=1,
    )
    participant = Participant.objects.create(
        study=study, pseudonym="P001", role_category="chair", organisation=org
    )
    kwargs = {
        "slug": study.slug,
        "org_type": "ccg",
        "code": "00C",
        "sample_id": sample.pk,
        "membership_id": study.memberships.get(role=Role.VIEWER).pk,
        "participant_id": participant.pk,
    }
    return {"study": study, "members": members, "outsider": outsider, "kwargs": kwargs}


def _fill(route: str, kwargs: dict) -> str:
    import re

    def value(match):
        name = match.group(2)
        assert name in kwargs, f"no test value for URL parameter <{name}> in {route}"
        return str(kwargs[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def _client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _study_urls():
    for name, route, callback in _walk(get_resolver().url_patterns):
        if name in PUBLIC or name in SIGNED_IN:
            continue
        yield name, route, callback


def test_every_url_is_classified():
    names = {name for name, _, _ in _walk(get_resolver().url_patterns)}
    unclassified = names - PUBLIC - SIGNED_IN - set(EXPECTED_ROLES)
    # Pages not in EXPECTED_ROLES must at least declare their roles with @study_view.
    for name, _route, callback in _study_urls():
        if name in unclassified:
            assert getattr(callback, "study_roles", None), (
                f"{name} is not decorated with @study_view: every study page names its roles"
            )


def test_anonymous_users_are_sent_to_sign_in(world):
    client = _client_for(None)
    for name, route, _ in _study_urls():
        response = client.get(_fill(route, world["kwargs"]))
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/"), name
    assert client.get("/").status_code == 302


def test_outsiders_cannot_see_that_the_study_exists(world):
    client = _client_for(world["outsider"])
    for name, route, _ in _study_urls():
        assert client.get(_fill(route, world["kwargs"])).status_code == 404, name
    home = client.get("/")
    assert home.status_code == 200
    assert b"Access study" not in home.content


@pytest.mark.parametrize("role", Role.values)
def test_each_role_reaches_only_its_pages(world, role):
    client = _client_for(world["members"][role])
    for name, route, callback in _study_urls():
        allowed = EXPECTED_ROLES.get(name, getattr(callback, "study_roles", set()))
        response = client.get(_fill(route, world["kwargs"]))
        if role in allowed:
            assert response.status_code in (200, 405), f"{role} should reach {name}"
        else:
            assert response.status_code == 403, f"{role} should be refused {name}"
