"""The foundation in Chromium, on a real demo served by `triangulum serve`."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SLUG = "ccg-clinical-leadership"


def test_lead_filters_the_frame_to_a_region_and_opens_a_lineage(sign_in, demo_site, screenshot):
    page = sign_in("lead")
    page.get_by_role("link", name=re.compile("Clinical engagement and clinical leadership")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Clinical engagement")
    expect(page.get_by_role("heading", name="Research questions")).to_be_visible()
    expect(page.get_by_text("Simulated data.")).to_be_visible()

    page.get_by_role("navigation", name="Study").get_by_role(
        "link", name="Frame", exact=True
    ).click()
    expect(page.locator("#frame-count")).to_have_text("211 organisations")
    page.get_by_label("NHS England region").select_option(label="North of England (Y54)")
    page.get_by_role("button", name="Show organisations").click()
    # htmx swaps only the results; the count drops to the region's CCGs.
    expect(page.locator("#frame-count")).not_to_have_text("211 organisations")
    count = int(page.locator("#frame-count").inner_text().split()[0])
    assert 0 < count < 211
    assert "region=Y54" in page.url
    rows = page.locator("#frame-table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() == min(count, 50)
    screenshot("frame-north")

    page.get_by_label("Name or code contains").fill("Darlington")
    page.get_by_role("button", name="Show organisations").click()
    expect(page.locator("#frame-count")).to_have_text("1 organisation")
    page.locator("#frame-table").get_by_role("link", name=re.compile("Darlington")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("NHS Darlington CCG")
    lineage = page.locator("#lineage")
    expect(lineage).to_contain_text("NHS Tees Valley CCG")
    expect(lineage).to_contain_text("1 April 2020")
    expect(lineage).to_contain_text("NHS North East and North Cumbria")
    expect(lineage).to_contain_text("1 July 2022")
    screenshot("darlington-lineage")

    lineage.get_by_role("link", name=re.compile("NHS Tees Valley CCG")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("NHS Tees Valley CCG")
    expect(page.locator("#lineage")).to_contain_text("NHS Darlington CCG")


def test_a_viewer_does_not_see_lead_pages(sign_in, demo_site):
    page = sign_in("viewer")
    page.goto(f"{demo_site['url']}/studies/{SLUG}/")
    nav = page.get_by_role("navigation", name="Study")
    expect(nav.get_by_role("link", name="Frame", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Members")).to_have_count(0)
    expect(nav.get_by_role("link", name="Audit trail")).to_have_count(0)
    response = page.goto(f"{demo_site['url']}/studies/{SLUG}/audit/")
    assert response.status == 403
