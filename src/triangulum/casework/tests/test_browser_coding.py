"""Acceptance, in Chromium on the served demo: a coder selects text with the keyboard,
applies a code from the palette, sees it beside the text, finds the segment through
retrieval, and reaches it from a framework matrix cell. axe-core checks each page.

Everything the test touches it creates under unique names (a source, a code, a case and
a matrix), so it leaves the demo's own material alone and can run again.
"""

import re
import uuid

import pytest
from playwright.sync_api import expect

from triangulum.testing import axe_violations

pytestmark = pytest.mark.browser

SLUG = "ccg-clinical-leadership"
PHRASE = "GPs chaired the frailty pathway board"


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def _axe_clean(page, axe_script):
    assert axe_violations(page, axe_script) == []


def test_code_retrieve_and_chart_a_segment(sign_in, demo_site, axe_script, screenshot):
    base = f"{demo_site['url']}/studies/{SLUG}/casework"
    tag = uuid.uuid4().hex[:8]
    title = f"Browser test interview {tag} (simulated)"
    code_name = f"Board leadership {tag}"
    case_name = f"Browser test site {tag}"
    matrix_name = f"Browser test matrix {tag}"

    # A researcher adds a source, a code, links the source to a case and makes a matrix.
    page = sign_in("researcher")
    page.goto(f"{base}/sources/add/")
    form = page.locator("form", has=page.get_by_role("button", name="Add source"))
    form.get_by_label("Title").fill(title)
    form.get_by_label("Kind").select_option("interview")
    form.get_by_label(re.compile(r"^Text")).fill(
        "Interviewer: Who led the redesign?\n"
        f"R: Honestly, the {PHRASE} from the start, with the council.\n"
    )
    form.get_by_role("button", name="Add source").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    reader_url = page.url
    page.get_by_label("Kind of case").select_option("site")
    page.get_by_label("Case name").fill(case_name)
    page.get_by_role("button", name="Link to case").click()
    expect(page.get_by_role("link", name=case_name)).to_be_visible()

    page.goto(f"{base}/codebook/new/")
    page.get_by_label("Name").fill(code_name)
    page.get_by_label("Definition").fill("Clinicians leading a redesign board (browser test).")
    page.get_by_role("button", name="Add code").click()
    expect(page.get_by_text(code_name).first).to_be_visible()
    _axe_clean(page, axe_script)

    page.goto(f"{base}/frameworks/")
    form = page.locator("form", has=page.get_by_role("button", name="Create matrix"))
    form.get_by_label("Name").fill(matrix_name)
    form.get_by_label("Rows are").select_option("site")
    form.get_by_label(code_name).check()
    form.get_by_role("button", name="Create matrix").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(matrix_name)
    matrix_url = page.url
    _sign_out(page)

    # The coder selects the phrase with Shift+arrows and codes it from the palette.
    page = sign_in("coder")
    page.goto(reader_url)
    text = page.locator("#source-text")
    text.focus()
    page.evaluate(
        """(phrase) => {
            const block = [...document.querySelectorAll('.block-text')]
                .find((b) => b.textContent.includes(phrase));
            const node = block.firstChild;
            const range = document.createRange();
            range.setStart(node, node.textContent.indexOf(phrase));
            range.collapse(true);
            getSelection().removeAllRanges();
            getSelection().addRange(range);
        }""",
        PHRASE,
    )
    for _ in PHRASE:
        page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#selection-info")).to_contain_text(PHRASE)
    page.keyboard.press("c")
    palette = page.get_by_role("dialog", name="Apply codes to the selection")
    expect(palette).to_be_visible()
    combobox = palette.get_by_role("combobox", name="Find a code")
    expect(combobox).to_be_focused()
    _axe_clean(page, axe_script)
    combobox.type(f"board leadership {tag}")
    option = palette.get_by_role("option", name=code_name)
    expect(option).to_be_visible()
    expect(combobox).to_have_attribute("aria-activedescendant", re.compile(r"palette-option-\d+"))
    page.keyboard.press("Enter")

    status = page.get_by_role("status").filter(has_text="Coded")
    expect(status).to_have_text(f"Coded '{code_name}' on '{PHRASE}'")
    margin_entry = page.locator(".coding", has_text=code_name)
    expect(margin_entry).to_contain_text("by coder (you)")
    expect(margin_entry).to_contain_text(PHRASE)
    expect(page.locator("mark.seg")).to_have_text(PHRASE)
    expect(text).to_be_focused()
    screenshot("coded")
    _axe_clean(page, axe_script)

    # Retrieval finds the segment and leads back to it.
    page.goto(f"{base}/segments/")
    page.get_by_label(re.compile(r"^Code:?$")).select_option(label=code_name)
    page.get_by_role("button", name="Find segments").click()
    expect(page.get_by_role("heading", name=re.compile("1 segment coded"))).to_be_visible()
    expect(page.locator(".segment-text")).to_have_text(PHRASE)
    _axe_clean(page, axe_script)
    page.get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(r"#coding-\d+$"))
    coding_anchor = page.url.rsplit("#", 1)[1]
    expect(page.locator(f"#{coding_anchor}")).to_contain_text(code_name)
    _sign_out(page)

    # The researcher charts the cell on that segment.
    page = sign_in("researcher")
    page.goto(matrix_url)
    page.get_by_role("link", name=f"Chart {case_name} × {code_name}").click()
    panel = page.locator("#cell-panel")
    expect(panel.get_by_role("heading", name=f"{case_name} × {code_name}")).to_be_focused()
    panel.get_by_label("Summary").fill("The GPs chaired the board from the start.")
    panel.get_by_label(re.compile(PHRASE)).check()
    panel.get_by_role("button", name="Save summary").click()
    expect(panel.get_by_role("status")).to_have_text("Saved the summary.")
    page.reload()
    cell = page.get_by_role("row", name=re.compile(case_name))
    expect(cell).to_contain_text("The GPs chaired the board from the start.")
    expect(cell).to_contain_text("1 linked / 1 coded")
    _axe_clean(page, axe_script)
    _sign_out(page)

    # The coder opens the cell beside the matrix and reaches the segment from it.
    page = sign_in("coder")
    page.goto(matrix_url)
    page.get_by_role("link", name=f"Open {case_name} × {code_name}").click()
    panel = page.locator("#cell-panel")
    expect(panel).to_contain_text("The GPs chaired the board from the start.")
    expect(panel.locator(".segment-text")).to_have_text(PHRASE)
    screenshot("matrix-cell")
    panel.get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(f"#{coding_anchor}$"))
    expect(page.locator(f"#{coding_anchor}")).to_contain_text(code_name)
