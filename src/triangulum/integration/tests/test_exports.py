"""Joint-display downloads open in their own tools and hold every row, every cell's
evidence (as full addresses) and every meta-inference."""

import io
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from triangulum.integration import exports, queries
from triangulum.studies.models import Role

from . import web_fixtures

pytestmark = pytest.mark.django_db
world = web_fixtures.world
BASE = "https://triangulum.example"


def _expected(world):
    table = queries.display_table(world.display, role=None)
    addresses = [
        BASE + link.url for row in table.rows for cell in row.cells for link in cell.evidence
    ]
    return table, addresses


def _download(world, fmt: str, role=Role.VIEWER):
    client = Client()
    client.force_login(world.users[role])
    url = reverse("integration:display", args=[world.study.slug, world.display.slug])
    return client.get(url, {"format": fmt})


def test_xlsx_holds_every_row_cell_evidence_address_and_meta_inference(world):
    from openpyxl import load_workbook

    table, addresses = _expected(world)
    book = load_workbook(io.BytesIO(exports.display_xlsx(world.display, base_url=BASE)))
    assert book.sheetnames == ["Joint display", "Evidence"]
    sheet = book["Joint display"]
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    header_at = next(i for i, row in enumerate(values) if row[0] == "Row")
    assert list(values[header_at]) == ["Row", "Survey, wave 2", "Case studies", "Meta-inference"]
    body = values[header_at + 1 :]
    assert [row[0] for row in body] == [row.row.label for row in table.rows]
    assert body[0][1].startswith("61% agree")
    assert body[0][3].startswith("Survey and cases agree: GPs lead redesign.")
    assert "Written by researcher" in body[0][3]
    assert body[1][3] in (None, "")
    assert any("Simulated data" in str(row[0]) for row in values[:header_at])
    evidence = list(book["Evidence"].iter_rows(values_only=True))
    assert evidence[0] == ("Row", "Column", "Strand", "Kind", "Evidence", "Address")
    listed = [row[5] for row in evidence[1:] if row and len(row) > 5 and row[5]]
    assert listed == addresses
    assert {row[2] for row in evidence[1:] if row and row[2]} == {"Survey", "Case study"}


def test_docx_holds_a_table_with_a_repeated_header_and_every_row(world):
    from docx import Document

    table, addresses = _expected(world)
    document = Document(io.BytesIO(exports.display_docx(world.display, base_url=BASE)))
    (grid,) = document.tables
    assert len(grid.rows) == len(table.rows) + 1
    assert [c.text for c in grid.rows[0].cells] == [
        "Row",
        "Survey, wave 2",
        "Case studies",
        "Meta-inference",
    ]
    assert "<w:tblHeader" in grid.rows[0]._tr.xml
    for docx_row, row in zip(grid.rows[1:], table.rows, strict=True):
        assert docx_row.cells[0].text == row.row.label
        assert docx_row.cells[-1].text.startswith(row.row.meta_inference)
    text = "\n".join(cell.text for row in grid.rows for cell in row.cells)
    for address in addresses:
        assert address in text
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    assert "Simulated data" in paragraphs


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.links = []
        self.rows = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "a":
            self.links.append(attrs.get("href"))
        if tag == "tr":
            self.rows += 1


def test_html_is_self_contained_and_holds_every_row_and_address(world):
    table, addresses = _expected(world)
    html = exports.display_html(world.display, base_url=BASE).decode()
    parser = _Collector()
    parser.feed(html)
    assert parser.rows == len(table.rows) + 1
    tags = {tag for tag, _ in parser.tags}
    assert "script" not in tags
    # Nothing loaded from elsewhere: no stylesheet links, images or frames.
    assert not [a for tag, a in parser.tags if tag in {"link", "img", "iframe"}]
    assert parser.links == addresses
    for address in addresses:
        assert f'<span class="address">{address}</span>' in html.replace("&amp;", "&")
    for row in table.rows:
        assert row.row.label in html
    assert "Survey and cases agree: GPs lead redesign." in html
    assert "Simulated data" in html
    assert re.search(r"<style>.*</style>", html, re.S)


@pytest.mark.parametrize(
    "fmt,media,magic",
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
        ("html", "text/html; charset=utf-8", b"<!DOCTYPE html>"),
    ],
)
def test_a_viewer_downloads_each_format_with_full_addresses(world, fmt, media, magic):
    response = _download(world, fmt)
    assert response.status_code == 200
    assert response["Content-Type"] == media
    assert response["Content-Disposition"] == (
        f'attachment; filename="integration-study-{world.display.slug}.{fmt}"'
    )
    assert response.content.startswith(magic)
    if fmt == "html":
        assert b"http://testserver/studies/integration-study/casework/sources/" in response.content


def test_an_unknown_format_is_not_found(world):
    assert _download(world, "pdf").status_code == 404


def test_a_coder_cannot_download_a_joint_display(world):
    assert _download(world, "xlsx", role=Role.CODER).status_code == 403
