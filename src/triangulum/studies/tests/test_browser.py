"""The study pages in Chromium: accessibility (axe-core) and the htmx role change.

The app runs as the user runs it (``triangulum serve`` on a study folder of its own),
because pytest-django's live_server needs a transactional test database that it empties
with DELETE, which the append-only audit table refuses.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-passw0rd"
SLUG = "ccg-clinical-leadership"
TRIANGULUM = [sys.executable, "-m", "triangulum"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cli(folder: Path, *args: str, stdin: str | None = None) -> None:
    env = {**os.environ, "TRIANGULUM_DIR": str(folder)}
    env.pop("TRIANGULUM_DATABASE_URL", None)
    subprocess.run(
        [*TRIANGULUM, *args, "--dir", str(folder)],
        input=stdin,
        text=True,
        check=True,
        env=env,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-study")
    _cli(folder, "init", "--skip-organisations", "--with-builtin-study")
    for username, role in (("lead", "lead"), ("helper", "viewer")):
        _cli(folder, "createuser", username, "--password-stdin", stdin=PASSWORD + "\n")
        _cli(folder, "study", "add-member", SLUG, username, "--role", role)
    port = _free_port()
    env = {**os.environ, "TRIANGULUM_DIR": str(folder)}
    env.pop("TRIANGULUM_DATABASE_URL", None)
    process = subprocess.Popen(
        [*TRIANGULUM, "serve", "--port", str(port), "--dir", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("triangulum serve did not start listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def lead_page(server, page):
    page.goto(f"{server}/accounts/login/")
    page.get_by_label("Username").fill("lead")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/")
    return page


def axe_violations(page, axe_script) -> list[str]:
    page.add_script_tag(path=str(axe_script))
    result = page.evaluate("async () => await axe.run(document)")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result["violations"]]


@pytest.mark.parametrize("path", ["", "members/", "participants/", "audit/"])
def test_study_pages_pass_axe(server, lead_page, axe_script, path):
    lead_page.goto(f"{server}/studies/{SLUG}/{path}")
    assert lead_page.locator("h1").count() == 1
    assert axe_violations(lead_page, axe_script) == []


def test_role_change_by_keyboard_updates_the_table_in_place(server, lead_page):
    page = lead_page
    page.goto(f"{server}/studies/{SLUG}/members/")
    select = page.get_by_label("New role for helper")
    select.focus()
    select.select_option("coder")
    page.keyboard.press("Tab")  # to the row's Change button
    page.keyboard.press("Enter")
    row = page.get_by_role("row", name="helper")
    row.get_by_role("cell", name="Coder", exact=True).wait_for()
    assert page.url.endswith("/members/")
    page.reload()
    assert (
        page.get_by_role("row", name="helper").get_by_role("cell", name="Coder", exact=True).count()
        == 1
    )

    # The last lead cannot demote themselves: the error appears next to the control.
    page.get_by_label("New role for lead").select_option("viewer")
    page.get_by_role("button", name="Change role of lead").click()
    page.get_by_role("alert").filter(has_text="only lead").wait_for()
    assert page.get_by_label("New role for lead").get_attribute("aria-invalid") == "true"
