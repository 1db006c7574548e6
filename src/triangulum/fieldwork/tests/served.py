"""A real served Triangulum folder with a small telephone wave, for process-level tests.

Used by the concurrency, crash and browser tests and by bench/fieldwork_load.py: the
folder is built with ``triangulum init`` and the wave set up with the app's own actions,
then ``triangulum serve`` runs it in a separate process.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import dj_database_url

REPO_ROOT = Path(__file__).resolve().parents[4]
FORM = Path(__file__).resolve().parent / "fixtures" / "leadership_short.md"
PASSWORD = "fieldwork-test-pass-9"
STUDY = "ccg-clinical-leadership"
VINTAGE = "2019-04-01"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_postgres(url: str, name: str) -> str:
    import psycopg

    parts = dj_database_url.parse(url)
    # Named after the suite's own database (and the pytest-xdist worker), so two suites on
    # one server, or two workers of one suite, never drop each other's scratch database.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = "_".join(part for part in (name, parts["NAME"], worker) if part)[:63]
    admin = psycopg.connect(
        host=parts["HOST"] or "127.0.0.1",
        port=parts["PORT"] or 5432,
        user=parts["USER"] or "postgres",
        password=parts["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{url.rsplit('/', 1)[0]}/{name}"


def environment(directory: Path, database_url: str | None) -> dict:
    env = {**os.environ, "TRIANGULUM_DIR": str(directory)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("TRIANGULUM_DATABASE_URL", None)
    if database_url:
        env["TRIANGULUM_DATABASE_URL"] = database_url
    return env


def build(
    directory: Path,
    *,
    interviews: int,
    interviewers: list[str],
    database_url: str | None = None,
    extra_users: dict | None = None,
) -> dict:
    """Init the folder and set up wave 1 with ``interviews`` telephone cases."""
    directory.mkdir(parents=True, exist_ok=True)
    env = environment(directory, database_url)
    command = [sys.executable, "-m", "triangulum"]
    done = subprocess.run(
        [*command, "init", "--dir", str(directory), "--with-builtin-study"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    spec = {
        "interviews": interviews,
        "interviewers": interviewers,
        "extra_users": extra_users or {},
    }
    code = (
        "import json,sys; from triangulum.fieldwork.tests.served import _setup; "
        "print(json.dumps(_setup(json.loads(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(spec)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _setup(spec: dict) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triangulum.settings")
    import django

    django.setup()
    from triangulum.fieldwork import actions
    from triangulum.organisations.queries import open_on
    from triangulum.studies import actions as study_actions
    from triangulum.studies.models import Study

    actor = "fieldwork test setup"
    study = Study.objects.get(slug=STUDY)
    users = {name: "interviewer" for name in spec["interviewers"]}
    users.update(spec.get("extra_users") or {})
    for name, role in users.items():
        study_actions.create_user(actor=actor, username=name, password=PASSWORD)
        study_actions.add_member(actor=actor, study=study, username=name, role=role)
    version = actions.import_instrument_version(
        actor=actor,
        study=study,
        slug="leadership-short",
        title="Clinical leadership (short)",
        file_path=FORM,
    )
    today = dt.date.today()
    wave = actions.create_wave(
        actor=actor,
        study=study,
        number=1,
        name="Wave 1 (test)",
        instrument_version=version,
        frame_vintage=dt.date.fromisoformat(VINTAGE),
        field_start=today - dt.timedelta(days=1),
        field_end=today + dt.timedelta(days=60),
        modes=["telephone", "web", "paper"],
        max_attempts=8,
        calling_windows={"weekdays": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59:59"},
    )
    codes = list(
        open_on("ccg", dt.date.fromisoformat(VINTAGE))
        .order_by("ods_code")
        .values_list("ods_code", flat=True)
    )
    roles = ["gp_member", "chair", "accountable_officer", "nurse", "lay_member"]
    lines = ["organisation_code,role,full_name,phone,phone_alt,email,priority"]
    for n in range(spec["interviews"]):
        lines.append(
            f"{codes[n % len(codes)]},{roles[n % len(roles)]},Test Person {n:05d},"
            f"0113 496 {n % 10000:04d},07700 900{n % 1000:03d},person{n}@example.org,"
            f"{spec['interviews'] - n}"
        )
    actions.import_respondents(actor=actor, wave=wave, text="\n".join(lines) + "\n")
    return {"wave": wave.number, "study": study.slug}


class Server:
    """``triangulum serve`` in a child process."""

    def __init__(
        self,
        directory: Path,
        *,
        database_url: str | None = None,
        threads: int = 8,
        workers: int | None = None,
    ):
        self.directory = directory
        self.database_url = database_url
        self.threads = threads
        self.workers = workers  # server processes; None is serve's default
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = environment(self.directory, self.database_url)
        self.log = open(self.directory / f"serve-{self.port}.log", "a")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "triangulum",
                "serve",
                "--dir",
                str(self.directory),
                "--port",
                str(self.port),
                "--threads",
                str(self.threads),
                *(["--workers", str(self.workers)] if self.workers else []),
            ],
            env=env,
            cwd=REPO_ROOT,
            # Its own process group, so that a kill reaches every server process at once.
            start_new_session=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/accounts/login/")
                connection.getresponse().read()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("serve did not start: " + self.log_text()) from None
                time.sleep(0.2)

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def kill(self) -> None:
        """SIGKILL to every server process: no clean shutdown, as when a machine loses power
        to the server."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()


class Client:
    """A signed-in browser-less client: cookies, CSRF, no redirect following."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.connection = None

    def _connection(self):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=self.timeout
            )
        return self.connection

    def request(self, method: str, path: str, fields: dict | list | None = None):
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            pairs = list(fields.items()) if isinstance(fields, dict) else list(fields or [])
            pairs.append(("csrfmiddlewaretoken", self.cookies.get("csrftoken", "")))
            body = urllib.parse.urlencode(pairs)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        for attempt in range(2):
            try:
                connection = self._connection()
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                content = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                self.connection = None
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, response.headers, content.decode("utf-8", "replace")

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.request("GET", "/accounts/login/")
        status, headers, body = self.request(
            "POST", "/accounts/login/", {"username": username, "password": password}
        )
        if status != 302:
            raise RuntimeError(f"sign-in of {username} failed ({status})")


CASE_IN_LOCATION = re.compile(r"/fieldwork/cases/(\d+)/")


def case_from_location(location: str | None) -> int | None:
    match = CASE_IN_LOCATION.search(location or "")
    return int(match.group(1)) if match else None
