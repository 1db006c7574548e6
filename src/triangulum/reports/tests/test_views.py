"""The reports page: who may open it, preview, build and download."""

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from triangulum.reports import actions
from triangulum.reports.document import SIMULATED_LABEL
from triangulum.reports.models import ReportBuild
from triangulum.reports.tests.sample_report import sample_report
from triangulum.studies.models import Role, Study, StudyMembership

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def hand_made_reports(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(
        actions, "default_builder", lambda: lambda study, kind: sample_report(kind=kind)
    )
    monkeypatch.setattr(
        actions, "build_all", lambda study, kinds: {k: sample_report(kind=k) for k in kinds}
    )
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def study():
    study = Study.objects.create(slug="report-study", title="Report study", is_simulated=True)
    users = get_user_model().objects
    for role in Role.values:
        user = users.create_user(role, password="pw")
        StudyMembership.objects.create(study=study, user=user, role=role)
    return study


def _client(role: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=role))
    return client


@pytest.mark.parametrize("role", Role.values)
def test_only_lead_and_researcher_reach_the_page(study, role):
    status = _client(role).get("/studies/report-study/reports/").status_code
    assert status == (200 if role in (Role.LEAD, Role.RESEARCHER) else 403)


def test_page_lists_kinds_and_previews_the_html_in_a_frame(study):
    client = _client(Role.RESEARCHER)
    page = client.get("/studies/report-study/reports/?preview=guidance").content.decode()
    for name in ("Practitioner report", "Guidance document", "Article pack"):
        assert name in page
    assert '<iframe src="/studies/report-study/reports/guidance/preview/"' in page
    preview = client.get("/studies/report-study/reports/guidance/preview/")
    assert preview.status_code == 200
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert SIMULATED_LABEL in preview.content.decode()
    assert client.get("/studies/report-study/reports/leaflet/preview/").status_code == 404


def test_build_then_download_the_same_bytes(study):
    client = _client(Role.LEAD)
    response = client.post(
        "/studies/report-study/reports/build/", {"kind": "article", "format": "docx"}
    )
    assert response.status_code == 302
    build = ReportBuild.objects.get()
    assert response["Location"] == f"/studies/report-study/reports/?built={build.pk}"
    assert build.built_by.username == "lead"
    assert build.filename == "simulated_report-study-article.docx"
    page = client.get(response["Location"]).content.decode()
    assert f'href="/studies/report-study/reports/builds/{build.pk}/download/"' in page
    assert build.output_sha256[:12] in page and build.inputs_hash[:12] in page
    download = client.get(f"/studies/report-study/reports/builds/{build.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{build.filename}"'
    assert hashlib.sha256(download.content).hexdigest() == build.output_sha256


def test_rebuilding_keeps_an_old_build_downloadable_when_its_bytes_are_unchanged(study):
    client = _client(Role.LEAD)
    for _ in range(2):
        client.post("/studies/report-study/reports/build/", {"kind": "guidance", "format": "pdf"})
    first, second = ReportBuild.objects.order_by("id")
    assert first.output_sha256 == second.output_sha256
    assert (
        client.get(f"/studies/report-study/reports/builds/{first.pk}/download/").status_code == 200
    )


def test_a_replaced_file_is_not_served_as_the_old_build(study):
    client = _client(Role.LEAD)
    client.post("/studies/report-study/reports/build/", {"kind": "guidance", "format": "html"})
    build = ReportBuild.objects.get()
    with open(build.path, "ab") as handle:
        handle.write(b"<!-- changed -->")
    assert (
        client.get(f"/studies/report-study/reports/builds/{build.pk}/download/").status_code == 404
    )


def test_bad_build_requests_change_nothing(study):
    client = _client(Role.LEAD)
    response = client.post(
        "/studies/report-study/reports/build/", {"kind": "article", "format": "odt"}, follow=True
    )
    assert "Unknown format &#x27;odt&#x27;" in response.content.decode()
    assert not ReportBuild.objects.exists()
    assert client.get("/studies/report-study/reports/build/").status_code == 405


def test_viewer_cannot_build_or_download(study):
    ReportBuild.objects.create(
        study=study,
        kind="article",
        format="pdf",
        inputs_hash="0" * 64,
        output_sha256="0" * 64,
        size=1,
        filename="x.pdf",
        built_at="2024-01-01T00:00:00Z",
    )
    client = _client(Role.VIEWER)
    assert (
        client.post(
            "/studies/report-study/reports/build/", {"kind": "article", "format": "pdf"}
        ).status_code
        == 403
    )
    build = ReportBuild.objects.get()
    assert (
        client.get(f"/studies/report-study/reports/builds/{build.pk}/download/").status_code == 403
    )
    assert ReportBuild.objects.count() == 1


def test_builds_of_another_study_are_not_found(study):
    other = Study.objects.create(slug="other", title="Other")
    build = ReportBuild.objects.create(
        study=other,
        kind="article",
        format="pdf",
        inputs_hash="0" * 64,
        output_sha256="0" * 64,
        size=1,
        filename="x.pdf",
        built_at="2024-01-01T00:00:00Z",
    )
    response = _client(Role.LEAD).get(f"/studies/report-study/reports/builds/{build.pk}/download/")
    assert response.status_code == 404
