"""axe-core on each kind of page, as the lead (who sees every kind) and signed out."""

import pytest

from triangulum.testing import axe_violations

pytestmark = pytest.mark.browser

SLUG = "ccg-clinical-leadership"
STUDY_PAGES = [
    "",
    "frame/",
    "frame/?type=practice&vintage=&region=Y56&sort=-registered_patients",
    "organisations/ccg/00C/",
    "organisations/icb/QHM/",
    "organisations/hwb/E06000005/",
    "samples/",
    "members/",
    "participants/",
    "audit/",
    "fieldwork/",
    "fieldwork/waves/1/dashboard/",
    "fieldwork/waves/1/console/",
    "fieldwork/waves/1/exports/",
    "casework/",
    "casework/codebook/",
    "casework/frameworks/",
    "casework/initiatives/",
    "casework/privacy/",
    "casework/privacy/key/",
    "analysis/",
    "integration/",
    "integration/findings/",
    "integration/convergence/",
    "integration/propositions/",
    "integration/displays/",
    "integration/cases/",
    "integration/cases/matrix/",
    "integration/cases/quantitized/",
    "integration/cases/crosstab/",
    "integration/qca/",
    "integration/propositions/new/",
    "integration/displays/new/",
    "integration/displays/statistics-by-themes/rows/new/",
    "reports/",
    "reports/?preview=guidance",
    "reports/practitioner/preview/",
]


@pytest.mark.parametrize(
    "listing,link",
    [
        ("casework/", "#main table tbody a"),
        ("casework/frameworks/", "#main table tbody a, #main ul a"),
        ("casework/initiatives/", "#main table tbody td a"),
        ("analysis/", '#main a[href*="/analysis/results/"]'),
        ("integration/findings/", '#main .finding a[href*="/integration/findings/"]'),
        ("integration/convergence/", '#main a[href*="/integration/convergence/themes/"]'),
        ("integration/propositions/", '#main table a[href*="/propositions/"]'),
        ("integration/displays/", '#main table a[href*="/displays/"]'),
        ("integration/cases/", '#main table a[href*="/integration/cases/"]'),
        ("integration/qca/", '#main table a[href*="/integration/qca/"]'),
        ("integration/displays/statistics-by-themes/", "#main #author ~ ul a"),
    ],
)
def test_detail_page(sign_in, demo_site, axe_script, listing, link):
    """A detail page reached from each listing (a source, a matrix, an initiative, a result)."""
    page = sign_in("lead")
    page.goto(f"{demo_site['url']}/studies/{SLUG}/{listing}")
    page.locator(link).first.click()
    page.wait_for_load_state()
    assert page.url != f"{demo_site['url']}/studies/{SLUG}/{listing}"
    assert axe_violations(page, axe_script) == []


def test_sign_in_page(page, demo_site, axe_script):
    page.goto(demo_site["url"] + "/accounts/login/")
    assert axe_violations(page, axe_script) == []


def test_home_page(sign_in, axe_script):
    page = sign_in("lead")
    assert axe_violations(page, axe_script) == []


@pytest.mark.parametrize("path", STUDY_PAGES)
def test_study_page(sign_in, demo_site, axe_script, path):
    page = sign_in("lead")
    response = page.goto(f"{demo_site['url']}/studies/{SLUG}/{path}")
    assert response.status == 200
    assert page.locator("h1").count() == 1
    assert axe_violations(page, axe_script) == []


def test_sample_detail_page(sign_in, demo_site, axe_script):
    page = sign_in("lead")
    page.goto(f"{demo_site['url']}/studies/{SLUG}/samples/")
    page.get_by_role("link", name="In-depth", exact=False).first.click()
    assert "/samples/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit()
    assert axe_violations(page, axe_script) == []


@pytest.mark.parametrize("width,height", [(1280, 800), (768, 1024)])
def test_frame_reflows_on_laptop_and_tablet(sign_in, demo_site, width, height, screenshot):
    page = sign_in("lead")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{demo_site['url']}/studies/{SLUG}/frame/")
    # Nothing but the data table itself may scroll sideways.
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, f"the page is {page_width}px wide in a {width}px window"
    screenshot(f"frame-{width}x{height}")
