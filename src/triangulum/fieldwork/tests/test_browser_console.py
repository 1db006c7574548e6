"""The interviewer's journey in a real browser, and the supervisor's rates moving with it.

Runs on its own small served folder (two telephone cases, the short test form with skip
logic), so the shared demo's data are not touched and the order of cases is known.
"""

import datetime as dt
import os
import re

import pytest

from triangulum.fieldwork.scheduler import LONDON

from . import served

pytestmark = pytest.mark.browser
BASE = f"/studies/{served.STUDY}/fieldwork"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fieldwork-browser")
    database_url = None
    if url := os.environ.get("TRIANGULUM_DATABASE_URL"):
        database_url = served.fresh_postgres(url, "triangulum_fieldwork_browser")
    served.build(
        directory,
        interviews=2,
        interviewers=["ivan"],
        database_url=database_url,
        extra_users={"lena": "lead"},
    )
    server = served.Server(directory, database_url=database_url)
    server.start()
    yield server
    server.stop()


def sign_in(page, site, username):
    page.goto(site.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(served.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url + "/")


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def rate(page, site, name):
    page.goto(f"{site.url}{BASE}/waves/1/dashboard/")
    return page.locator(f'td[data-rate="{name}"]').inner_text()


def test_interviewer_calls_books_completes_and_rates_change(page, site):
    sign_in(page, site, "lena")
    assert rate(page, site, "RR1") == "0.000"
    assert rate(page, site, "CON1") == "0.000"
    sign_out(page)

    sign_in(page, site, "ivan")
    page.goto(f"{site.url}{BASE}/waves/1/console/")
    page.get_by_role("button", name="Next interview").click()
    first_case = page.url
    assert re.search(r"/cases/\d+/$", first_case)
    page.get_by_label("Outcome of this call").select_option("no_answer")
    page.get_by_role("button", name="Record outcome").click()
    assert "AAPOR 2.20" in page.locator(".messages").inner_text()

    page.get_by_role("button", name="Next interview").click()
    second_case = page.url
    assert second_case != first_case
    due = (dt.datetime.now(LONDON) + dt.timedelta(seconds=20)).replace(microsecond=0)
    page.get_by_label("Outcome of this call").select_option("hard_appointment")
    page.get_by_label("Appointment (UK time; for appointments only)").fill(
        due.strftime("%Y-%m-%dT%H:%M:%S")
    )
    page.get_by_role("button", name="Record outcome").click()
    assert "AAPOR 2.36" in page.locator(".messages").inner_text()

    # Nothing is due until the appointment time: then "Next" hands over that case.
    page.get_by_role("button", name="Next interview").click()
    assert "No case is due now" in page.locator(".messages").inner_text()
    for _ in range(60):
        page.wait_for_timeout(2000)
        page.get_by_role("button", name="Next interview").click()
        if "/cases/" in page.url:
            break
    assert page.url == second_case
    assert "Hard (a fixed time" in page.content()

    page.get_by_role("link", name="Start the interview").click()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Save and continue").click()
    # Skip logic shows the follow-up for clinical leads ...
    assert page.get_by_label(re.compile("Which clinical area")).is_visible()
    page.get_by_role("button", name="Back").click()
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    # ... and hides it for everyone else.
    assert page.get_by_text("Which clinical area").count() == 0
    page.get_by_label(re.compile("How many years")).fill("99")
    page.get_by_role("button", name="Save and continue").click()
    assert page.get_by_role("alert").inner_text() == "Enter a number of years from 0 to 40"
    page.get_by_label(re.compile("How many years")).fill("6")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Workforce").check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Agree", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Save and continue").click()  # comments: optional
    assert page.get_by_role("heading", name="End of the questionnaire").is_visible()
    page.get_by_role("button", name="Complete the interview").click()
    assert "completed (AAPOR 1.1)" in page.locator(".messages").inner_text()
    assert "/waves/1/console/" in page.url
    sign_out(page)

    sign_in(page, site, "lena")
    assert rate(page, site, "RR1") == "0.500"
    assert rate(page, site, "CON1") == "0.500"
