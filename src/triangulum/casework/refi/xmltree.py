"""A small element tree that remembers where each element starts, parsed by defusedxml.

The standard library's ElementTree forgets line numbers, and a report that says
"line 132" is worth more than one that says "somewhere in the codebook".
"""

from __future__ import annotations

import io
import xml.sax
import xml.sax.handler
from dataclasses import dataclass, field

import defusedxml.sax
from defusedxml.common import DefusedXmlException

from .errors import BrokenFileError

XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass
class Node:
    namespace: str | None
    tag: str
    attrs: dict[str, str]
    line: int
    column: int
    children: list[Node] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)
    xsi_schema_location: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def find(self, tag: str) -> Node | None:
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def findall(self, tag: str) -> list[Node]:
        return [child for child in self.children if child.tag == tag]

    def iter(self):
        yield self
        for child in self.children:
            yield from child.iter()


class _Builder(xml.sax.handler.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.locator = None
        self.stack: list[Node] = []
        self.root: Node | None = None

    def setDocumentLocator(self, locator) -> None:
        self.locator = locator

    def startElementNS(self, name, qname, attrs) -> None:
        namespace, tag = name
        plain: dict[str, str] = {}
        schema_location = None
        for (attr_ns, attr_name), value in attrs.items():
            if attr_ns == XSI and attr_name == "schemaLocation":
                schema_location = value
            elif attr_ns is None:
                plain[attr_name] = value
        node = Node(
            namespace=namespace,
            tag=tag,
            attrs=plain,
            line=self.locator.getLineNumber(),
            column=self.locator.getColumnNumber() + 1,
            xsi_schema_location=schema_location,
        )
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElementNS(self, name, qname) -> None:
        self.stack.pop()

    def characters(self, content: str) -> None:
        if self.stack:
            self.stack[-1].text_parts.append(content)


def parse(data: bytes, display_name: str) -> Node:
    """Parse ``data``; a file that is not well-formed raises BrokenFileError with line and column.

    Columns are counted from 1, as editors show them (expat counts from 0).
    """
    parser = defusedxml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_namespaces, True)
    builder = _Builder()
    parser.setContentHandler(builder)
    try:
        parser.parse(io.BytesIO(data))
    except xml.sax.SAXParseException as error:
        raise BrokenFileError(
            f"{display_name}, line {error.getLineNumber()}, column "
            f"{error.getColumnNumber() + 1}: not well-formed XML ({error.getMessage()})",
            line=error.getLineNumber(),
            column=error.getColumnNumber() + 1,
        ) from error
    except DefusedXmlException as error:
        raise BrokenFileError(
            f"{display_name}: refused, the XML uses a construct that can attack the reader "
            f"({type(error).__name__}: {error})"
        ) from error
    if builder.root is None:
        raise BrokenFileError(f"{display_name}: holds no XML element")
    return builder.root
