"""Fixtures shared by every app's tests.

Browser tests run against a real ``triangulum serve`` process on a demo built by
``triangulum demo``: the same path a researcher takes, on SQLite or — when the suite runs
against PostgreSQL — in a fresh PostgreSQL database of its own. (pytest-django's
live_server is not used: it empties the database between tests, and the demo is worth
building once per session.)
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path

import pytest
from django.db.backends.signals import connection_created

from triangulum.testing import AXE_JS, CHROMIUM, REPO_ROOT, chromium_available, require

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to
# run inside one unless told that this (test-only) use is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(
        chromium_available(),
        f"Chromium not found at {CHROMIUM}: browser tests need Debian's chromium "
        "(sudo apt-get install chromium) — see README, 'Running the tests'.",
    )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def axe_script():
    require(
        AXE_JS.exists(),
        f"{AXE_JS} missing: run 'npm ci' in the repository to fetch axe-core for the "
        "accessibility tests.",
    )
    return AXE_JS


DEMO_PASSWORD = "triangulum-demo"
# One per pytest-xdist worker: each worker builds and serves its own demo.
BROWSER_DEMO_DATABASE = "triangulum_browser_demo" + (
    f"_{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else ""
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fresh_postgres_database(url: str) -> str:
    """Create an empty database beside the one in ``url`` and return its URL."""
    import dj_database_url
    import psycopg

    parts = dj_database_url.parse(url)
    # Beside the suite's own database name, so two suites on one server do not collide.
    name = f"{BROWSER_DEMO_DATABASE}_{parts['NAME']}"[:63]
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
    head = url.rsplit("/", 1)[0]
    return f"{head}/{name}"


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory):
    """Build the demo once per session and serve it; yields the base URL."""
    directory = tmp_path_factory.mktemp("browser-demo")
    env = {**os.environ, "TRIANGULUM_DIR": str(directory)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if url := os.environ.get("TRIANGULUM_DATABASE_URL"):
        env["TRIANGULUM_DATABASE_URL"] = _fresh_postgres_database(url)
    command = [sys.executable, "-m", "triangulum"]
    built = subprocess.run(
        [*command, "demo", "--dir", str(directory)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, f"triangulum demo failed:\n{built.stdout}\n{built.stderr}"
    port = _free_port()
    log = open(directory / "serve.log", "w")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [*command, "serve", "--dir", str(directory), "--port", str(port)],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base_url + "/accounts/login/", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail("triangulum serve did not start:\n" + Path(log.name).read_text())
            time.sleep(0.3)
    yield {"url": base_url, "password": DEMO_PASSWORD, "dir": directory, "build_log": built.stdout}
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture
def sign_in(page, demo_site):
    def sign_in_as(username: str):
        page.goto(demo_site["url"] + "/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(demo_site["password"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(demo_site["url"] + "/")
        return page

    return sign_in_as


ARTIFACTS = REPO_ROOT / "test-artifacts"


@pytest.fixture
def screenshot(page, request):
    """Save a screenshot a person can look at (test-artifacts/, git-ignored)."""

    def take(name: str):
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# Every database connection this test process opens. Django keeps connections per thread
# and per context, and pytest-django closes only those of the context it runs in: a run
# of the suite on PostgreSQL left one more session open per worker, and an open session
# stops the test database from being dropped at the end of the run.
_opened_connections: weakref.WeakSet = weakref.WeakSet()


def _remember_connection(sender, connection, **kwargs):
    _opened_connections.add(connection)


connection_created.connect(_remember_connection)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test database, and at the end every connection to it closed, those
    opened outside pytest-django's reach too, before pytest-django drops it."""
    yield
    for connection in list(_opened_connections):
        # One opened by another thread may not be closed through Django from this one.
        connection.inc_thread_sharing()
        connection.close()
