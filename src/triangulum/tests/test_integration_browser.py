"""Integration in Chromium, on a real demo served by `triangulum serve`: a researcher opens a
joint display, follows a cell to the survey table and to a coded segment, and records a
meta-inference that then shows on the page."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SLUG = "ccg-clinical-leadership"


def test_a_researcher_follows_a_joint_display_to_its_evidence_and_records_a_meta_inference(
    sign_in, demo_site, screenshot
):
    page = sign_in("researcher")
    page.goto(f"{demo_site['url']}/studies/{SLUG}/")
    page.get_by_role("navigation", name="Study").get_by_role(
        "link", name="Integration", exact=True
    ).click()
    page.get_by_role("navigation", name="Integration").get_by_role(
        "link", name="Joint displays"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Joint displays")
    page.locator("#main table tbody th a").first.click()

    display = page.locator("#joint-display")
    expect(display).to_be_visible()
    display_url = page.url
    row = display.locator("tbody tr").first
    label = row.locator("th").first.inner_text().strip()
    screenshot("display")

    # A survey cell: the analysis table, scrolled to the row the cell cites.
    survey = row.locator('a[href*="/analysis/results/"]').first
    survey_href = survey.get_attribute("href")
    survey.click()
    page.wait_for_url(re.compile(r"/analysis/results/\d+/"))
    expect(page.locator("table")).to_be_visible()
    if "#row-" in survey_href:
        cited = page.locator("tr#" + survey_href.split("#", 1)[1])
        expect(cited).to_be_visible()
        expect(cited).to_be_in_viewport()
    screenshot("survey-table")

    # A case-study cell: the coded segment's passage in the source reader.
    page.goto(display_url)
    row = page.locator("#joint-display tbody tr").first
    segment = row.locator('a[href*="/casework/sources/"]').first
    coding_id = re.search(r"coding=(\d+)", segment.get_attribute("href")).group(1)
    segment.click()
    page.wait_for_url(re.compile(r"/casework/sources/\d+/\?at=\d+"))
    passage = page.locator("#at")
    expect(passage).to_be_visible()
    expect(passage).to_be_in_viewport()
    # Unless a blind reliability assignment hides other coders' codings of this source
    # from the researcher, the coding itself is in the passage's margin.
    if page.locator(f"#coding-{coding_id}").count():
        expect(passage.locator(f"#coding-{coding_id}")).to_be_visible()
    screenshot("coded-segment")

    # Back on the display, the researcher records the row's meta-inference (htmx).
    page.goto(display_url)
    text = "Browser check: the survey share and the sites' accounts point the same way."
    page.get_by_label(f"Meta-inference for {label}", exact=True).fill(text)
    page.get_by_role("button", name=f"Save the meta-inference for {label}").click()
    row = page.locator("#joint-display tbody tr").first
    expect(row.get_by_role("status")).to_have_text("Saved.")
    expect(row.locator(".meta-inference-text")).to_have_text(text)
    assert page.url == display_url  # swapped in place, no page load
    screenshot("meta-inference")

    page.reload()
    expect(
        page.locator("#joint-display tbody tr").first.locator(".meta-inference-text")
    ).to_have_text(text)
