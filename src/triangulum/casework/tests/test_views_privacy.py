"""Pseudonymisation pages: who may open what, decisions through the queue, the export."""

import io
import zipfile

import pytest
from django.urls import reverse

from triangulum.casework import actions_privacy as privacy
from triangulum.casework.models import PseudonymCandidate
from triangulum.casework.tests import privacy_fixtures
from triangulum.casework.tests.privacy_fixtures import PASSWORD

pytestmark = pytest.mark.django_db
labelled = privacy_fixtures.labelled


def client_for(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.mark.parametrize(
    "name, allowed",
    [
        ("queue", {"lead", "researcher"}),
        ("key", {"lead"}),
        ("sources", {"lead", "researcher", "coder", "viewer"}),
        ("export", {"lead", "researcher"}),
    ],
)
def test_roles(client, labelled, name, allowed):
    study = labelled["study"]
    url = reverse(f"casework_privacy:{name}", args=[study.slug])
    for username in ("lead", "researcher", "coder", "viewer", "interviewer"):
        client.logout()
        response = client_for(client, username).get(url)
        assert response.status_code == (200 if username in allowed else 403), (username, name)


def test_the_key_shows_originals_to_the_lead_only(client, labelled):
    study, lead = labelled["study"], labelled["users"]["lead"]
    privacy.scan_study(study=study, actor=lead)
    privacy.accept_all_of_kind(study=study, kind="participant", actor=lead)
    page = client_for(client, "lead").get(reverse("casework_privacy:key", args=[study.slug]))
    assert "Grace Okafor" in page.content.decode() and "[GP member 1]" in page.content.decode()
    client.logout()
    anonymised = client_for(client, "viewer").get(
        reverse(
            "casework_privacy:source",
            args=[study.slug, labelled["sources"]["labelled_interview.txt"].pk],
        )
    )
    body = anonymised.content.decode()
    assert "[GP member 1]" in body and "Okafor" not in body


def test_review_queue_accepts_and_rejects(client, labelled):
    study = labelled["study"]
    client = client_for(client, "researcher")
    response = client.post(reverse("casework_privacy:scan", args=[study.slug]))
    assert response.status_code == 302
    queue = client.get(reverse("casework_privacy:queue", args=[study.slug]) + "?kind=phone")
    assert "<mark>01632 960123</mark>" in queue.content.decode()
    phone = PseudonymCandidate.objects.get(source__study=study, text="01632 960123")
    email = PseudonymCandidate.objects.filter(source__study=study, kind="email").first()
    url = reverse("casework_privacy:decide", args=[study.slug, phone.pk])
    client.post(url, {"decision": "accept", "replacement": ""})
    client.post(
        reverse("casework_privacy:decide", args=[study.slug, email.pk]), {"decision": "reject"}
    )
    phone.refresh_from_db()
    email.refresh_from_db()
    assert phone.status == "accepted" and phone.pseudonym.replacement == "phone"
    assert phone.decided_by.username == "researcher"
    assert email.status == "rejected"
    client.post(reverse("casework_privacy:accept_kind", args=[study.slug]), {"kind": "postcode"})
    assert not PseudonymCandidate.objects.filter(
        source__study=study, kind="postcode", status="pending"
    ).exists()
    # A coder may not decide.
    client.logout()
    coder = client_for(client, "coder")
    assert coder.post(url, {"decision": "reject"}).status_code == 403


def test_export_download_is_a_zip_without_originals(client, labelled):
    study, lead = labelled["study"], labelled["users"]["lead"]
    privacy.scan_study(study=study, actor=lead)
    for kind in ("participant", "organisation", "email", "phone", "nhs_number", "postcode"):
        privacy.accept_all_of_kind(study=study, kind=kind, actor=lead)
    response = client_for(client, "researcher").post(
        reverse("casework_privacy:export", args=[study.slug]), {"qdpx": "on"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        text = "".join(
            archive.read(n).decode("utf-8")
            for n in archive.namelist()
            if n.endswith((".txt", ".csv"))
        )
        assert "project.qdpx" in archive.namelist()
    assert "Okafor" not in text and "[GP member 1]" in text
