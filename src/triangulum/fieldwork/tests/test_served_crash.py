"""Crash: the server is killed (SIGKILL) mid-interview; every answer given survives.

Answers are posted over HTTP to ``triangulum serve``; each is acknowledged only after
its transaction commits. The process is then killed without warning, restarted, and the
database is read directly: every acknowledged answer must be there, and the interview
resumes at the next question.
"""

import json
import os
import subprocess
import sys

import pytest

from . import served

ANSWERS = [
    ("clinical_lead", "yes"),
    ("lead_area", "Respiratory"),
    ("years_on_board", "6"),
    ("topics", "finance"),
]


def stored_answers(directory, database_url, interview_id):
    code = (
        "import json,os,sys,django; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
        "'triangulum.settings'); django.setup();"
        "from triangulum.fieldwork.models import Answer;"
        "print(json.dumps(dict(Answer.objects.filter(interview_id=int(sys.argv[1]))"
        ".values_list('item_path','value'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(interview_id)],
        env=served.environment(directory, database_url),
        cwd=served.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def site(tmp_path):
    database_url = None
    if url := os.environ.get("TRIANGULUM_DATABASE_URL"):
        database_url = served.fresh_postgres(url, "triangulum_fieldwork_crash")
    served.build(tmp_path, interviews=2, interviewers=["ivan"], database_url=database_url)
    return tmp_path, database_url


def test_answers_given_before_a_sigkill_are_all_there_after_restart(site):
    directory, database_url = site
    server = served.Server(directory, database_url=database_url)
    server.start()
    try:
        client = served.Client(server.port)
        client.sign_in("ivan")
        status, headers, _ = client.request(
            "POST", f"/studies/{served.STUDY}/fieldwork/waves/1/next/"
        )
        case = served.case_from_location(headers.get("Location"))
        ask = f"/studies/{served.STUDY}/fieldwork/cases/{case}/ask/"
        for name, value in ANSWERS:
            status, _, body = client.request(
                "POST", ask, {"path": f"/data/{name}", "value": value, "action": "save"}
            )
            assert status == 302, body[-500:]
        server.kill()  # SIGKILL, straight after the last acknowledgement
        assert server.process.returncode == -9
        server.log.close()
        stored = stored_answers(directory, database_url, case)
        assert stored == {f"/data/{name}": value for name, value in ANSWERS}
        server = served.Server(directory, database_url=database_url)
        server.start()
        again = served.Client(server.port)
        again.sign_in("ivan")
        # The claim outlived the crash: the interviewer gets the same case back and
        # resumes at the first question not yet answered.
        _, headers, _ = again.request("POST", f"/studies/{served.STUDY}/fieldwork/waves/1/next/")
        assert served.case_from_location(headers.get("Location")) == case
        status, _, page = again.request("GET", ask)
        assert status == 200 and 'value="/data/influence"' in page
    finally:
        server.stop()
