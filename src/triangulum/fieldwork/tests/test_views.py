"""Pages through Django's test client: roles, the one-case rule, the runner, web links."""

import pytest
from django.urls import reverse
from django.utils import timezone

from triangulum.fieldwork import actions
from triangulum.fieldwork.models import Interview


@pytest.fixture
def open_wave(wave):
    # Open every hour of every day for the length of the test run.
    today = timezone.localdate()
    wave.field_start = today.replace(year=today.year - 1)
    wave.field_end = today.replace(year=today.year + 1)
    wave.calling_windows = {"weekdays": list(range(7)), "start": "00:00", "end": "23:59:59"}
    wave.save()
    return wave


def url(name, *args):
    return reverse(f"fieldwork:{name}", args=["fw-test", *args])


@pytest.mark.django_db
def test_roles_decide_who_sees_which_page(client, users, respondents, open_wave):
    expectations = {
        "ivan": {"console": 200, "dashboard": 403, "exports": 403, "paper": 200},
        "rob": {"console": 403, "dashboard": 200, "exports": 200, "paper": 200},
        "cora": {"console": 403, "dashboard": 403, "exports": 403, "paper": 403},
        "lena": {"console": 200, "dashboard": 200, "exports": 200, "paper": 200},
    }
    for name, pages in expectations.items():
        client.force_login(users[name])
        for page, status in pages.items():
            assert client.get(url(page, 1)).status_code == status, (name, page)


@pytest.mark.django_db
def test_interviewers_see_only_the_case_they_hold(client, users, respondents, open_wave):
    client.force_login(users["ivan"])
    response = client.post(url("next", 1))
    case_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    page = client.get(url("case", case_id))
    assert page.status_code == 200
    held = Interview.objects.get(pk=case_id)
    assert held.participant.contact.full_name in page.content.decode()
    client.force_login(users["iris"])
    assert client.get(url("case", case_id)).status_code == 404
    assert client.get(url("ask", case_id)).status_code == 404
    other = client.post(url("next", 1))
    assert int(other["Location"].rstrip("/").rsplit("/", 1)[1]) != case_id


@pytest.mark.django_db
def test_the_runner_asks_validates_skips_and_goes_back(client, users, respondents, open_wave):
    client.force_login(users["ivan"])
    case_id = int(client.post(url("next", 1))["Location"].rstrip("/").rsplit("/", 1)[1])
    ask = url("ask", case_id)
    first = client.get(ask).content.decode()
    assert "clinical leadership role" in first
    response = client.post(ask, {"path": "/data/clinical_lead", "value": "yes", "action": "save"})
    assert "lead_area" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "Which clinical area" in page
    back = client.post(ask, {"path": "/data/lead_area", "action": "back"})
    assert "clinical_lead" in back["Location"]
    client.post(ask, {"path": "/data/clinical_lead", "value": "no", "action": "save"})
    invalid = client.post(ask, {"path": "/data/years_on_board", "value": "abc", "action": "save"})
    assert invalid.status_code == 400 and "whole number" in invalid.content.decode()
    client.post(ask, {"path": "/data/years_on_board", "value": "7", "action": "save"})
    client.post(ask, {"path": "/data/topics", "value": ["finance", "quality"], "action": "save"})
    client.post(ask, {"path": "/data/influence", "value": "5", "action": "save"})
    case = Interview.objects.get(pk=case_id)
    assert case.answers.get(item_path="/data/topics").value == "finance quality"
    assert not case.answers.filter(item_path="/data/lead_area").exists()
    finished = client.post(ask, {"path": "", "action": "complete"})
    assert finished.status_code == 302
    case.refresh_from_db()
    assert case.status == Interview.Status.COMPLETE


@pytest.mark.django_db
def test_a_web_link_opens_one_questionnaire_without_an_account(client, respondents, open_wave):
    ada, ben = respondents["Ada Chair"], respondents["Ben GP"]
    link = reverse("fieldwork_public:respond", args=[ada.web_token])
    page = client.get(link)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Ada" not in text and ben.participant.pseudonym not in text
    client.post(link, {"path": "/data/clinical_lead", "value": "no", "action": "save"})
    assert ada.answers.get().mode == "web"
    assert client.get(reverse("fieldwork_public:respond", args=["not-a-token"])).status_code == 404
    assert len(ada.web_token) >= 40


@pytest.mark.django_db
def test_respondent_upload_lists_problems_and_stores_nothing(client, users, respondents, open_wave):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(users["lena"])
    before = Interview.objects.count()
    upload = SimpleUploadedFile(
        "r.csv",
        b"organisation_code,role,full_name,phone\nZZZ,chair,X Y,0113 496 0999\n01A,chair,Z W,999\n",
    )
    response = client.post(url("respondents", 1), {"file": upload})
    text = response.content.decode()
    assert response.status_code == 400
    assert "row 2, column organisation_code" in text and "row 3, column phone" in text
    assert Interview.objects.count() == before


@pytest.mark.django_db
def test_dashboard_rates_follow_the_outcomes(client, users, respondents, open_wave):
    client.force_login(users["lena"])

    def rr1():
        html = client.get(url("dashboard", 1)).content.decode()
        return html.split('data-rate="RR1">', 1)[1].split("<", 1)[0]

    assert rr1() == "0.000"
    case = respondents["Ada Chair"]
    for path, value in [("clinical_lead", "no"), ("years_on_board", "4"), ("influence", "4")]:
        actions.save_answer(
            actor=users["ivan"], interview=case, path=f"/data/{path}", value=value, mode="paper"
        )
    actions.complete_interview(actor=users["ivan"], interview=case, mode="paper")
    assert rr1() == "0.333"
    assert "proportional allocation" in client.get(url("dashboard", 1)).content.decode()
