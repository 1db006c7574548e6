"""OpenDocument text (.odt): the paragraphs and headings of content.xml.

Parsed with defusedxml (an uploaded file is untrusted: no entity expansion, no external
entities). Inline structure is flattened: ``text:s`` is spaces, ``text:tab`` a tab,
``text:line-break`` a newline, ``text:span`` and links contribute their text.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .errors import SourceFileError

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_P, _H = f"{{{TEXT}}}p", f"{{{TEXT}}}h"
_S, _TAB, _BREAK = f"{{{TEXT}}}s", f"{{{TEXT}}}tab", f"{{{TEXT}}}line-break"
# Footnote bodies and tracked deletions are not part of the running text.
_SKIPPED = {f"{{{TEXT}}}note", f"{{{TEXT}}}tracked-changes"}


def _inline_text(element: Element) -> str:
    parts = [element.text or ""]
    for child in element:
        if child.tag == _S:
            parts.append(" " * int(child.get(f"{{{TEXT}}}c", "1") or 1))
        elif child.tag == _TAB:
            parts.append("\t")
        elif child.tag == _BREAK:
            parts.append("\n")
        elif child.tag not in _SKIPPED:
            parts.append(_inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _blocks(element: Element):
    for child in element:
        if child.tag in (_P, _H):
            yield _inline_text(child)
        elif child.tag not in _SKIPPED:
            yield from _blocks(child)


def read_odt(file_name: str, data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            try:
                content = archive.read("content.xml")
            except KeyError:
                raise SourceFileError(
                    file_name, "is not an OpenDocument text: it has no content.xml"
                ) from None
    except zipfile.BadZipFile:
        raise SourceFileError(
            file_name, "is not an OpenDocument file (not a zip archive)"
        ) from None
    try:
        root = fromstring(content)
    except ParseError as error:
        line, column = error.position
        raise SourceFileError(
            file_name, f"content.xml is not well-formed XML (its line {line}, column {column})"
        ) from None
    except DefusedXmlException as error:
        raise SourceFileError(file_name, f"content.xml refused: {error}") from None
    body = root.find(f"{{{OFFICE}}}body")
    text_body = body.find(f"{{{OFFICE}}}text") if body is not None else None
    if text_body is None:
        raise SourceFileError(file_name, "content.xml has no office:body/office:text")
    return "\n".join(_blocks(text_body))
