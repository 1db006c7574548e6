"""Checks on rendered report files shared by the renderer, action and command tests."""

from __future__ import annotations

import io
import re

import docx
import pypdf
import pypdfium2
from PIL import ImageStat

from triangulum.reports.document import SIMULATED_LABEL

_URL_ATTRIBUTE = re.compile(
    r"""\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']([^"']*)["']""", re.I
)


def external_references(html: str) -> list[str]:
    """Every reference that would fetch something: anything but an in-page "#fragment"."""
    found = [value for value in _URL_ATTRIBUTE.findall(html) if not value.startswith("#")]
    found += re.findall(r"url\(\s*['\"]?(?!#)([^)'\"]+)", html)
    found += re.findall(r"@import[^;]*", html)
    if re.search(r"<link\b[^>]*rel=[\"']?stylesheet", html, re.I):
        found.append("<link rel=stylesheet>")
    if re.search(r"<script\b[^>]*\bsrc=", html, re.I):
        found.append("<script src>")
    return found


def docx_outline(data: bytes) -> list[tuple[str, str]]:
    """(style name, text) of every heading-like paragraph in a .docx."""
    document = docx.Document(io.BytesIO(data))
    return [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style.name.startswith(("Heading", "Title", "Caption"))
    ]


def docx_headers(data: bytes) -> list[str]:
    document = docx.Document(io.BytesIO(data))
    return ["\n".join(p.text for p in section.header.paragraphs) for section in document.sections]


def pdf_page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def blank_pages(data: bytes) -> list[int]:
    """Numbers (1-based) of PDF pages with nothing in the body area.

    The page margins are cut off first (they hold the running label and the
    page number on every page), then a page is blank when its pixels barely
    vary.
    """
    document = pypdfium2.PdfDocument(data)
    blank = []
    try:
        for index in range(len(document)):
            image = document[index].render(scale=0.5).to_pil().convert("L")
            width, height = image.size
            body = image.crop((0, int(height * 0.09), width, int(height * 0.92)))
            if ImageStat.Stat(body).var[0] < 1.0:
                blank.append(index + 1)
    finally:
        document.close()
    return blank


def unlabelled_pdf_pages(data: bytes) -> list[int]:
    return [
        number
        for number, text in enumerate(pdf_page_texts(data), start=1)
        if SIMULATED_LABEL not in text
    ]
