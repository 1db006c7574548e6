"""The retrieval page in pages of 50 and its CSV download of every segment, through the
test client: totals, order, the last page, bad page numbers, filters kept in the page
links, and blind mode in both (every text here is simulated); and, in Chromium on the
served demo, the page links checked by axe-core."""

import csv
import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from triangulum.casework import actions, queries
from triangulum.casework.models import ReliabilityAssignment
from triangulum.casework.views import RETRIEVAL_PAGE_SIZE, SEGMENT_CSV_COLUMNS
from triangulum.testing import axe_violations

from . import ui_fixtures

# (The database tests reach the database through the fixtures' ``db``; the browser test
# talks to a served demo and needs none.)
codes = ui_fixtures.codes
team = ui_fixtures.team
transcript = ui_fixtures.transcript

REMARKS = 120  # three pages: 50, 50 and 20


def remark(number: int) -> str:
    return f"Remark {number:03d} on the pathway."


@pytest.fixture
def long_interview(team, transcript, codes):
    """A simulated interview of REMARKS remarks by P001 (a GP member), each coded
    "Partners" (a sub-code of "Integration") by the coder, one per line."""
    study, users = team
    lines = ["SIMULATED interview for the paging tests."]
    for number in range(1, REMARKS + 1):
        lines += ["Interviewer: Go on.", f"P001: {remark(number)}"]
    text = "\n".join(lines) + "\n"
    source = actions.create_source_from_text(
        study=study,
        title="Long interview (simulated)",
        text=text,
        kind="interview",
        actor=users["lead"],
        simulated=True,
    )
    for number in range(1, REMARKS + 1):
        start = text.index(remark(number))
        actions.apply_coding(
            source=source,
            code=codes["partners"],
            start=start,
            end=start + len(remark(number)),
            coder=users["coder"],
            simulated=True,
        )
    return source


def url_of(study) -> str:
    return reverse("casework:retrieval", args=[study.slug])


def theme(codes) -> dict:
    return {"code": str(codes["integration"].pk), "include_subcodes": "on"}


def shown_texts(page: str) -> list[str]:
    """The segment texts a page shows, in order."""
    found = re.findall(r'<blockquote class="segment-text">(.*?)</blockquote>', page, re.S)
    return [html.unescape(text) for text in found]


def link(page: str, name: str) -> str | None:
    """The address of the link named ``name`` (None if it is not a link on this page)."""
    found = re.search(rf'<a href="([^"]*)"[^>]*>{re.escape(name)}</a>', page)
    return html.unescape(found.group(1)) if found else None


def in_order(study, codes, user) -> list[str]:
    return [s.text for s in queries.segments_for_code(study, codes["integration"], visible_to=user)]


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def test_first_page_shows_fifty_and_the_total(client, team, codes, long_interview):
    study, users = team
    client.force_login(users["coder"])
    response = client.get(url_of(study), theme(codes))
    assert response.status_code == 200
    page = response.text
    assert shown_texts(page) == in_order(study, codes, users["coder"])[:RETRIEVAL_PAGE_SIZE]
    assert "120 segments coded “Integration” or a sub-code" in page
    assert "Segments 1–50 of 120 (page 1 of 3)" in page
    assert '<li aria-current="page">Page 1 of 3</li>' in page
    assert link(page, "First page") is None and link(page, "Previous page") is None
    assert parse_qs(urlsplit(link(page, "Next page")).query)["page"] == ["2"]
    assert parse_qs(urlsplit(link(page, "Last page")).query)["page"] == ["3"]


def test_second_page_continues_in_the_order_of_segments_for_code(
    client, team, codes, long_interview
):
    study, users = team
    client.force_login(users["coder"])
    page = client.get(url_of(study), {**theme(codes), "page": "2"}).text
    expected = in_order(study, codes, users["coder"])
    assert shown_texts(page) == expected[50:100]
    assert remark(1) in expected[0] and remark(51) in expected[50]  # text order, not ids
    assert "Segments 51–100 of 120 (page 2 of 3)" in page
    assert '<ol class="segment-list" start="51">' in page  # numbered on from page 1
    assert parse_qs(urlsplit(link(page, "Previous page")).query)["page"] == ["1"]
    assert parse_qs(urlsplit(link(page, "Next page")).query)["page"] == ["3"]


def test_last_page_shows_the_rest_and_links_back_only(client, team, codes, long_interview):
    study, users = team
    client.force_login(users["coder"])
    page = client.get(url_of(study), {**theme(codes), "page": "3"}).text
    assert shown_texts(page) == in_order(study, codes, users["coder"])[100:]
    assert len(shown_texts(page)) == 20
    assert "Segments 101–120 of 120 (page 3 of 3)" in page
    assert link(page, "Next page") is None and link(page, "Last page") is None
    assert link(page, "First page") is not None and link(page, "Previous page") is not None


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5", "9" * 5000])
def test_a_page_value_that_is_not_a_page_number_shows_the_first_page(
    client, team, codes, long_interview, value
):
    study, users = team
    client.force_login(users["coder"])
    response = client.get(url_of(study), {**theme(codes), "page": value})
    assert response.status_code == 200
    assert "is not a page number (1, 2, 3 …): showing the first page." in response.text
    assert "Segments 1–50 of 120" in response.text


def test_a_page_beyond_the_last_shows_the_last(client, team, codes, long_interview):
    study, users = team
    client.force_login(users["coder"])
    response = client.get(url_of(study), {**theme(codes), "page": "99"})
    assert response.status_code == 200
    assert "There are only 3 pages of segments: showing the last." in response.text
    assert shown_texts(response.text) == in_order(study, codes, users["coder"])[100:]


def test_one_page_has_no_page_links_and_no_notice(client, team, codes, long_interview):
    study, users = team
    client.force_login(users["coder"])
    page = client.get(url_of(study), {"code": codes["leadership"].pk, "page": "1"}).text
    assert "0 segments coded" in page and "Pages of segments" not in page
    assert "Download all" not in page and "showing the" not in page


def test_page_links_keep_the_filters(client, team, codes, long_interview):
    study, users = team
    client.force_login(users["coder"])
    filters = {**theme(codes), "role": "gp_member", "coder": str(users["coder"].pk)}
    page = client.get(url_of(study), filters).text
    assert "Segments 1–50 of 120" in page
    for name, number in (("Next page", "2"), ("Last page", "3")):
        query = parse_qs(urlsplit(link(page, name)).query)
        assert query.pop("page") == [number]
        assert query == {key: [value] for key, value in filters.items()}
    csv_query = parse_qs(urlsplit(link(page, "Download all 120 segments as CSV")).query)
    assert csv_query.pop("format") == ["csv"]
    assert csv_query == {key: [value] for key, value in filters.items()}
    # Following the link keeps the filter applied: another role finds nothing.
    following = client.get(link(page, "Next page")).text
    assert "Segments 51–100 of 120" in following
    assert 'value="gp_member" selected' in following
    page = client.get(url_of(study), {**filters, "role": "chair", "page": "2"}).text
    assert "0 segments coded" in page and "There is only 1 page" in page


def test_csv_has_every_segment_in_order_with_a_header(client, team, codes, long_interview):
    study, users = team
    client.force_login(users["lead"])
    response = client.get(url_of(study), {**theme(codes), "format": "csv", "page": "2"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="ui-study-segments-integration.csv"'
    )
    header = response.content.decode("utf-8").splitlines()[0].split(",")
    assert header == [*SEGMENT_CSV_COLUMNS, "data"]  # the sources and codings are simulated
    rows = csv_rows(response)
    expected = queries.segments_for_code(study, codes["integration"], visible_to=users["lead"])
    assert len(rows) == len(expected) == REMARKS
    assert [row["text"] for row in rows] == [s.text for s in expected]
    first = rows[0]
    start = long_interview.text.index(remark(1))
    assert first == {
        "source": "Long interview (simulated)",
        "cases": "",
        "speakers": first["speakers"],
        "start": str(start),
        "end": str(start + len(remark(1))),
        "code": "Partners",
        "coder": "coder",
        "text": remark(1),
        "data": "simulated",
    }
    assert "P001" in first["speakers"]


def test_csv_and_page_keep_blind_mode(client, team, transcript, codes, long_interview):
    study, users = team
    case = actions.ensure_case(study=study, kind="site", name="CCG A", actor=users["lead"])
    actions.attach_sources_to_case(case=case, sources=[transcript], actor=users["lead"])
    text = transcript.text
    spans = {}
    for coder, phrase in (("coder", "integrated care team"), ("coder2", "the pathway board")):
        start = text.index(phrase)
        spans[coder] = actions.apply_coding(
            source=transcript,
            code=codes["partners"],
            start=start,
            end=start + len(phrase),
            coder=users[coder],
        )
    # coder2 also coded on the long interview, which is not under a blind check.
    start = long_interview.text.index(remark(7))
    actions.apply_coding(
        source=long_interview,
        code=codes["partners"],
        start=start,
        end=start + 6,
        coder=users["coder2"],
    )
    assignment = ReliabilityAssignment.objects.create(study=study, source=transcript, blind=True)
    assignment.coders.set([users["coder"], users["coder2"]])

    client.force_login(users["coder"])
    rows = csv_rows(client.get(url_of(study), {**theme(codes), "format": "csv"}))
    texts = [row["text"] for row in rows]
    assert len(rows) == REMARKS + 2
    assert "integrated care team" in texts and "the pathway board" not in texts
    assert ("Remark", "coder2") in {(row["text"], row["coder"]) for row in rows}
    assert {row["cases"] for row in rows if row["source"] == transcript.title} == {"CCG A (site)"}
    # The page counts what the coder may see, and shows the same (the short transcript
    # was made first, so its segments lead the first page).
    page = client.get(url_of(study), theme(codes)).text
    assert "122 segments coded" in page
    assert "integrated care team" in "".join(shown_texts(page))
    assert "the pathway board" not in page

    # The lead is not in the blind check: every coding.
    client.force_login(users["lead"])
    rows = csv_rows(client.get(url_of(study), {**theme(codes), "format": "csv"}))
    assert len(rows) == REMARKS + 3
    assert "the pathway board" in [row["text"] for row in rows]


@pytest.mark.parametrize("role", ["viewer", "interviewer"])
def test_roles_without_retrieval_get_neither_the_page_nor_the_csv(
    client, team, codes, long_interview, role
):
    study, users = team
    client.force_login(users[role])
    assert client.get(url_of(study), theme(codes)).status_code == 403
    assert client.get(url_of(study), {**theme(codes), "format": "csv"}).status_code == 403


def test_csv_of_a_bad_query_shows_the_form_with_its_error(client, team, codes, long_interview):
    study, users = team
    client.force_login(users["coder"])
    response = client.get(url_of(study), {"code": "999999", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Select a valid choice" in response.text


@pytest.mark.browser
def test_paged_retrieval_in_chromium_passes_axe(sign_in, demo_site, axe_script):
    """On the demo: the first theme with more than one page of segments, its next page
    reached through the page links, both pages checked by axe-core."""
    page = sign_in("lead")
    base = f"{demo_site['url']}/studies/ccg-clinical-leadership/casework/segments/"
    page.goto(base)
    themes = page.locator("#id_code option").evaluate_all(
        "options => options.filter(o => !o.textContent.startsWith('—')).map(o => o.value)"
    )
    pages = page.get_by_role("navigation", name="Pages of segments")
    for value in themes:
        page.goto(f"{base}?code={value}&include_subcodes=on")
        if pages.count():
            break
    else:
        pytest.fail("no theme of the demo has more than one page of segments")
    expect(page.get_by_text(re.compile(r"^Segments 1–50 of [\d,]+"))).to_be_visible()
    assert axe_violations(page, axe_script) == []
    pages.get_by_role("link", name="Next page").click()
    expect(page.get_by_text(re.compile(r"^Segments 51–100 of [\d,]+"))).to_be_visible()
    expect(pages.locator('[aria-current="page"]')).to_have_text(re.compile(r"^Page 2 of \d+$"))
    expect(page).to_have_url(re.compile(rf"code={value}&include_subcodes=on&page=2$"))
    assert axe_violations(page, axe_script) == []
