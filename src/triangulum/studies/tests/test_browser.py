"""Membership management in Chromium: the htmx role change, by keyboard, on the demo."""

import pytest

pytestmark = pytest.mark.browser

SLUG = "ccg-clinical-leadership"


def _role_cell(page, username, role):
    return page.get_by_role("row", name=username).get_by_role("cell", name=role, exact=True)


def test_role_change_by_keyboard_updates_the_table_in_place(sign_in, demo_site):
    page = sign_in("lead")
    page.goto(f"{demo_site['url']}/studies/{SLUG}/members/")
    select = page.get_by_label("New role for viewer")
    select.focus()
    select.select_option("coder")
    page.keyboard.press("Tab")  # to the row's Change button
    page.keyboard.press("Enter")
    _role_cell(page, "viewer", "Coder").wait_for()
    assert page.url.endswith("/members/")
    page.reload()
    assert _role_cell(page, "viewer", "Coder").count() == 1

    # The last lead cannot demote themselves: the error appears next to the control.
    page.get_by_label("New role for lead").select_option("viewer")
    page.get_by_role("button", name="Change role of lead").click()
    page.get_by_role("alert").filter(has_text="only lead").wait_for()
    assert page.get_by_label("New role for lead").get_attribute("aria-invalid") == "true"

    # Put the demo back as other browser tests expect it.
    page.reload()
    page.get_by_label("New role for viewer").select_option("viewer")
    page.get_by_role("button", name="Change role of viewer").click()
    _role_cell(page, "viewer", "Viewer").wait_for()
