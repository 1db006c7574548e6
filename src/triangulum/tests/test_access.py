"""Every URL of the web app refuses anonymous users and outsiders, and each role reaches
exactly the pages it should, on the demo study built into the test database.

A new URL pattern must be fillable from the demo (the walk fails on a parameter it cannot
fill in) and its view must name its roles, so no page slips in unchecked. Pages that only
accept POST are checked with POST for the refusals (a refused request changes nothing)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from triangulum.studies.models import Role, Study, StudyMembership
from triangulum.testing import demo_in_test_database, shared_path

pytestmark = [pytest.mark.django_db, pytest.mark.acceptance]

ALL = set(Role.values)
LEAD = {Role.LEAD}
# Audiences that are decisions of the study design, checked independently of what each
# view declares (the rest are checked against the roles the view names).
EXPECTED_ROLES = {
    "studies:home": ALL,
    "organisations:frame": ALL,
    "organisations:detail": ALL,
    "sampling:list": ALL,
    "sampling:detail": ALL,
    "studies:members": LEAD,
    "studies:change_role": LEAD,
    "studies:remove_member": LEAD,
    "studies:audit": LEAD,
    "studies:participants": {Role.LEAD, Role.RESEARCHER, Role.INTERVIEWER},
    "studies:register_participant": LEAD,
    "studies:participant_contact": LEAD,
    "casework_privacy:key": LEAD,
    "fieldwork:console": {Role.LEAD, Role.INTERVIEWER},
    "fieldwork:dashboard": {Role.LEAD, Role.RESEARCHER},
}
# Open to anyone (signing in; a respondent's own self-completion link) or to any
# signed-in user (their own list of studies).
PUBLIC = {"login", "logout", "fieldwork_public:respond"}
SIGNED_IN = {"core:home"}
# Telephone case pages: only the interviewer holding the case reaches it; anyone else
# with a console role is told there is no such case for them.
HELD_CASE_PAGES = {"fieldwork:case", "fieldwork:call", "fieldwork:ask"}


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, prefix + str(entry.pattern), entry.callback


def _study_urls():
    for name, route, callback in _walk(get_resolver().url_patterns):
        if name not in PUBLIC and name not in SIGNED_IN:
            yield name, route, callback


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    shared_path("data", "nhs")
    folder = tmp_path_factory.mktemp("access-demo")
    with demo_in_test_database(django_db_blocker, folder) as ctx:
        with django_db_blocker.unblock():
            yield _parameters(ctx)


def _parameters(ctx) -> dict:
    from triangulum.analysis.models import AnalysisResult
    from triangulum.casework.models import (
        Case,
        Code,
        Coding,
        FrameworkCell,
        Initiative,
        PseudonymCandidate,
    )
    from triangulum.fieldwork.models import Interview
    from triangulum.integration.models import Finding, JointDisplay, Proposition, QcaRun, Theme
    from triangulum.reports.models import ReportBuild

    study: Study = ctx.shared["study"]
    users = get_user_model().objects
    members = {m.role: m.user for m in study.memberships.select_related("user")}
    outsider = users.create_user("outsider", password="pw")
    other = Study.objects.create(slug="someone-elses", title="Someone else's study")
    StudyMembership.objects.create(study=other, user=outsider, role=Role.LEAD)
    cell = FrameworkCell.objects.filter(matrix__study=study).exclude(summary="").first()
    coding = Coding.objects.filter(source__study=study, coder=members[Role.CODER]).first()
    interview = Interview.objects.filter(wave__study=study).first()
    # The interviewer is working this case, so the console pages about it are theirs.
    Interview.objects.filter(pk=interview.pk).update(
        claimed_by=members[Role.INTERVIEWER], claimed_at=timezone.now()
    )
    unclaimed = Interview.objects.filter(wave__study=study, claimed_by=None).first()
    display = JointDisplay.objects.filter(study=study).first()
    kwargs = {
        "slug": study.slug,
        "org_type": "ccg",
        "code": "00C",
        "sample_id": study.samples.first().pk,
        "membership_id": study.memberships.get(role=Role.VIEWER).pk,
        "participant_id": study.participants.first().pk,
        "number": 1,
        "kind": "wide",
        "pk": interview.pk,
        "source_id": coding.source_id,
        "code_id": cell.code_id,
        "coding_id": coding.pk,
        "matrix_id": cell.matrix_id,
        "case_id": cell.case_id,
        "fmt": "csv",
        "initiative_id": Initiative.objects.filter(study=study).first().pk,
        "candidate_id": PseudonymCandidate.objects.filter(source__study=study).first().pk,
        "result_id": AnalysisResult.objects.filter(run__study=study).first().pk,
        "finding_id": Finding.objects.filter(study=study).first().pk,
        "theme_id": Theme.objects.filter(study=study).first().pk,
        "proposition_id": Proposition.objects.filter(study=study).first().pk,
        "display_slug": display.slug,
        "row_id": display.rows.first().pk,
        "report_kind": "practitioner",
        "build_id": ReportBuild.objects.filter(study=study).first().pk,
        "qca_run_id": QcaRun.objects.filter(study=study).first().pk,
    }
    # Paper keying works on a case no interviewer holds.
    overrides = {"fieldwork:paper_ask": {"pk": unclaimed.pk}}
    assert Case.objects.filter(pk=kwargs["case_id"]).exists()
    assert Code.objects.filter(pk=kwargs["code_id"]).exists()
    return {
        "study": study,
        "members": members,
        "outsider": outsider,
        "kwargs": kwargs,
        "overrides": overrides,
    }


def _fill(route: str, kwargs: dict, name: str | None = None, overrides=None) -> str:
    kwargs = {**kwargs, **(overrides or {}).get(name, {})}

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


def _request(client: Client, url: str):
    """GET, or POST for a page that only accepts POST (405 to a GET)."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response


def _allowed(name, callback) -> set:
    return EXPECTED_ROLES.get(name, getattr(callback, "study_roles", set()))


def test_every_study_page_names_its_roles():
    for name, _route, callback in _study_urls():
        assert _allowed(name, callback), (
            f"{name} is not decorated with @study_view: every study page names its roles"
        )


def test_anonymous_users_are_sent_to_sign_in(world):
    client = _client_for(None)
    for name, route, _ in _study_urls():
        response = _request(client, _fill(route, world["kwargs"]))
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/"), name
    assert client.get("/").status_code == 302


def test_outsiders_cannot_see_that_the_study_exists(world):
    client = _client_for(world["outsider"])
    for name, route, _ in _study_urls():
        assert _request(client, _fill(route, world["kwargs"])).status_code == 404, name
    home = client.get("/")
    assert home.status_code == 200
    assert world["study"].title.encode() not in home.content


@pytest.mark.parametrize("role", Role.values)
def test_each_role_reaches_only_its_pages(world, role):
    client = _client_for(world["members"][role])
    for name, route, callback in _study_urls():
        url = _fill(route, world["kwargs"], name, world["overrides"])
        if (
            name in HELD_CASE_PAGES
            and role in _allowed(name, callback)
            and role != Role.INTERVIEWER
        ):
            assert _request(client, url).status_code == 404, f"{role} reached a case not theirs"
        elif role in _allowed(name, callback):
            # A GET only: POSTs by an allowed role would change the demo. 400 is a page
            # reached without the query it needs (e.g. which coders to compare).
            status = client.get(url).status_code
            assert status in (200, 302, 400, 405), f"{role} should reach {name} ({url}): {status}"
        else:
            status = _request(client, url).status_code
            assert status == 403, f"{role} should be refused {name} ({url}): {status}"


def test_a_self_completion_link_opens_only_its_own_interview(world):
    from triangulum.fieldwork.models import Interview

    interview = Interview.objects.filter(wave__study=world["study"]).last()
    client = Client()
    assert client.get(f"/r/{interview.web_token}/").status_code == 200
    assert client.get(f"/r/{interview.web_token[:-2]}xx/").status_code == 404
