"""What one interviewer's round costs the server: database queries per console request.

The load benchmark (bench/fieldwork_load.py) needs each console request to stay cheap;
these bounds catch a change that quietly adds queries to the pages asked most often (a
lazy foreign key in a template, a re-read form file, a per-request lookup in a loop).
They count queries, which do not depend on the machine, and time nothing.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from triangulum.audit.models import AuditEvent
from triangulum.fieldwork.models import Answer, Interview

# Queries per request, as counted on SQLite and PostgreSQL alike: the session and the
# signed-in user (2), the study membership with its study (1), then the page's own.
MOST_QUERIES = {
    "next": 11,  # the wave, the claim (lock, held case, candidates, update, read), audit
    "case": 7,  # the case with respondent and contact, answers count, calls, appointments
    "question": 5,  # the case with its wave and form version, the stored answers
    "answer": 11,  # + the stored answers, lock, paths held, insert or update, case update
    "complete": 12,  # + the stored answers, lock, call record, appointments, case, audit
    "console": 6,  # the wave, the held case, the count of cases due
}


@pytest.fixture
def open_wave(wave):
    today = timezone.localdate()
    wave.field_start = today.replace(year=today.year - 1)
    wave.field_end = today.replace(year=today.year + 1)
    wave.calling_windows = {"weekdays": list(range(7)), "start": "00:00", "end": "23:59:59"}
    wave.save()
    return wave


def url(name, *args):
    return reverse(f"fieldwork:{name}", args=["fw-test", *args])


class Counter:
    def __init__(self, client):
        self.client = client
        self.seen: dict[str, list[int]] = {}

    def __call__(self, label, method, path, data=None):
        with CaptureQueriesContext(connection) as queries:
            if method == "POST":
                response = self.client.post(path, data or {})
            else:
                response = self.client.get(path)
        self.seen.setdefault(label, []).append(len(queries.captured_queries))
        assert response.status_code < 400, (label, path, response.status_code)
        return response


def case_of(response) -> int:
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def interview_round(request, case_id, answers):
    ask = url("ask", case_id)
    request("case", "GET", url("case", case_id))
    page = request("question", "GET", ask)
    for path, value in answers:
        assert f'value="{path}"' in page.content.decode()
        saved = request("answer", "POST", ask, {"path": path, "value": value, "action": "save"})
        assert saved.status_code == 302
        page = request("question", "GET", saved["Location"])
    done = request("complete", "POST", ask, {"path": "", "action": "complete"})
    assert done.status_code == 302
    request("console", "GET", done["Location"])


ANSWERS = [
    ("/data/clinical_lead", "yes"),
    ("/data/lead_area", "Diabetes"),
    ("/data/years_on_board", "6"),
    ("/data/topics", ["finance", "quality"]),
    ("/data/influence", "4"),
    ("/data/comments", "Simulated comment."),
]


@pytest.mark.django_db
def test_each_console_request_stays_within_its_query_budget(client, users, respondents, open_wave):
    client.force_login(users["ivan"])
    request = Counter(client)
    for _ in range(2):  # only the second round counts: the first parses the form
        request.seen.clear()
        taken = request("next", "POST", url("next", 1))
        interview_round(request, case_of(taken), ANSWERS)
    assert set(request.seen) == set(MOST_QUERIES)
    over = {
        label: max(counts)
        for label, counts in request.seen.items()
        if max(counts) > MOST_QUERIES[label]
    }
    assert not over, f"over budget (most queries seen): {over}, budgets {MOST_QUERIES}"
    # The cheap path still did the whole job: every answer stored, both cases complete.
    completed = Interview.objects.filter(status=Interview.Status.COMPLETE)
    assert completed.count() == 2
    for case in completed:
        stored = dict(Answer.objects.filter(interview=case).values_list("item_path", "value"))
        assert stored["/data/topics"] == "finance quality"
        assert stored["/data/lead_area"] == "Diabetes"
        assert len(stored) == len(ANSWERS)


@pytest.mark.django_db
def test_a_question_page_does_not_reread_the_form_file(client, users, respondents, open_wave):
    client.force_login(users["ivan"])
    ask = url("ask", case_of(client.post(url("next", 1))))
    assert client.get(ask).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ask).status_code == 200
    read = [q["sql"] for q in queries.captured_queries if "file_bytes" in q["sql"]]
    assert not read, read


@pytest.mark.django_db
def test_a_changed_answer_is_updated_and_answers_it_hides_are_cleared(
    client, users, respondents, open_wave
):
    client.force_login(users["ivan"])
    case_id = case_of(client.post(url("next", 1)))
    ask = url("ask", case_id)
    client.post(ask, {"path": "/data/clinical_lead", "value": "yes", "action": "save"})
    client.post(ask, {"path": "/data/lead_area", "value": "Respiratory", "action": "save"})
    first = Answer.objects.get(interview_id=case_id, item_path="/data/clinical_lead")
    client.post(ask, {"path": "/data/clinical_lead", "value": "no", "action": "save"})
    changed = Answer.objects.get(interview_id=case_id, item_path="/data/clinical_lead")
    assert changed.pk == first.pk and changed.value == "no"
    assert changed.answered_at >= first.answered_at
    assert not Answer.objects.filter(interview_id=case_id, item_path="/data/lead_area").exists()


@pytest.mark.django_db
def test_pressing_next_again_returns_the_held_case_without_a_second_claim_event(
    client, users, respondents, open_wave
):
    client.force_login(users["ivan"])
    first = client.post(url("next", 1))["Location"]
    again = client.post(url("next", 1))["Location"]
    assert first == again
    case_id = int(first.rstrip("/").rsplit("/", 1)[1])
    claims = AuditEvent.objects.filter(action="interview.claim", object_id=str(case_id))
    assert claims.count() == 1
    assert claims.get().object_label.endswith(
        Interview.objects.get(pk=case_id).participant.pseudonym
    )
