"""The report document model: what a report says, independent of its format.

Content modules (practitioner, guidance, article) build a `Report`; the three
renderers (Word, HTML, PDF) turn the same `Report` into bytes. Everything is a
frozen dataclass of tuples and strings so a Report is hashable, comparable and
cannot change between renders; nothing here imports Django.

Numbers that come from the study's results are `Num`s, never bare strings, so
each one carries the raw value and a `Cite` naming where it came from; tests
walk `Report.numbers()` and look each one up in its source.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

REPORT_KINDS = ("practitioner", "guidance", "article")
PARA_STYLES = ("body", "lead", "note", "callout")
CHECKLIST_STATUSES = ("addressed", "missing", "not applicable")
SIMULATED_LABEL = "Simulated data — not real findings"


@dataclass(frozen=True)
class Cite:
    """Where a number, quote or statement comes from.

    `ref` is a stable identifier, e.g. "analysis:<step>/<result key>#r3c2",
    "segment:<coding id>", "finding:<id>", "proposition:<id>",
    "fieldwork:wave/<slug>/rates"; `label` is the human wording; `url` a path
    in the web app, or "" when there is none.
    """

    ref: str
    label: str
    url: str = ""


@dataclass(frozen=True)
class Num:
    """An inline number traceable to its source: printed `text`, raw `value`."""

    text: str
    value: float | int
    cite: Cite

    def __str__(self) -> str:
        return self.text


Inline = str | Num


@dataclass(frozen=True)
class Heading:
    level: int  # 1..3 inside a section body (the section title sits above them)
    text: str

    def __post_init__(self) -> None:
        if self.level not in (1, 2, 3):
            raise ValueError(f"Heading level must be 1, 2 or 3, not {self.level!r}: {self.text!r}")


@dataclass(frozen=True)
class Para:
    content: tuple[Inline, ...]
    style: str = "body"  # body | lead | note | callout

    def __post_init__(self) -> None:
        if self.style not in PARA_STYLES:
            raise ValueError(f"Para style must be one of {PARA_STYLES}, not {self.style!r}")


@dataclass(frozen=True)
class Bullets:
    items: tuple[tuple[Inline, ...], ...]
    ordered: bool = False


@dataclass(frozen=True)
class Quote:
    text: str
    attribution: str  # role + pseudonym only, never a real name
    cite: Cite


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Inline, ...], ...]
    notes: tuple[str, ...] = ()
    cite: Cite | None = None
    key: str = ""

    def __post_init__(self) -> None:
        for index, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"Table {self.caption!r}: row {index} has {len(row)} cells "
                    f"but there are {len(self.columns)} columns"
                )


@dataclass(frozen=True)
class Figure:
    caption: str
    svg: str
    alt: str
    cite: Cite | None = None
    key: str = ""


@dataclass(frozen=True)
class ChecklistItem:
    number: str
    item: str
    where: str
    status: str  # "addressed" | "missing" | "not applicable"

    def __post_init__(self) -> None:
        if self.status not in CHECKLIST_STATUSES:
            raise ValueError(
                f"Checklist item {self.number}: status must be one of "
                f"{CHECKLIST_STATUSES}, not {self.status!r}"
            )


@dataclass(frozen=True)
class Checklist:
    caption: str
    items: tuple[ChecklistItem, ...]


Block = Heading | Para | Bullets | Quote | Table | Figure | Checklist


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    subsections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Provenance:
    items: tuple[tuple[str, str], ...]  # (label, value)


@dataclass(frozen=True)
class Report:
    kind: str  # "practitioner" | "guidance" | "article"
    title: str
    subtitle: str
    study_title: str
    simulated: bool  # True -> every page/part says "Simulated data"
    sections: tuple[Section, ...]
    provenance: Provenance

    def __post_init__(self) -> None:
        if self.kind not in REPORT_KINDS:
            raise ValueError(f"Report kind must be one of {REPORT_KINDS}, not {self.kind!r}")

    def blocks(self) -> Iterator[Block]:
        """Every block in reading order (sections depth first)."""
        for section in self.sections:
            yield from iter_blocks(section)

    def numbers(self) -> list[Num]:
        """Every Num anywhere in the report, in reading order."""
        found: list[Num] = []
        for block in self.blocks():
            for inline in block_inlines(block):
                if isinstance(inline, Num):
                    found.append(inline)
        return found

    def citations(self) -> list[Cite]:
        """Every Cite in reading order (numbers, quotes, tables, figures)."""
        found: list[Cite] = []
        for block in self.blocks():
            if isinstance(block, Quote):
                found.append(block.cite)
            elif isinstance(block, (Table, Figure)) and block.cite is not None:
                found.append(block.cite)
            for inline in block_inlines(block):
                if isinstance(inline, Num):
                    found.append(inline.cite)
        return found

    def text(self) -> str:
        """All text a reader could see in any format, one piece per line.

        Includes citation labels and URLs, figure alt text and the SVG source
        (its labels are visible), and the provenance appendix, so a privacy
        test on this string covers everything the renderers print.
        """
        parts = [self.title, self.subtitle, self.study_title]
        for section in self.sections:
            parts.extend(_section_text(section))
        for label, value in self.provenance.items:
            parts.extend((label, value))
        return "\n".join(part for part in parts if part)


def inline_text(content: tuple[Inline, ...]) -> str:
    """Inline content as printed."""
    return "".join(item.text if isinstance(item, Num) else item for item in content)


def iter_blocks(section: Section) -> Iterator[Block]:
    yield from section.blocks
    for subsection in section.subsections:
        yield from iter_blocks(subsection)


def block_inlines(block: Block) -> Iterator[Inline]:
    """The inline pieces of a block that may hold numbers."""
    if isinstance(block, Para):
        yield from block.content
    elif isinstance(block, Bullets):
        for item in block.items:
            yield from item
    elif isinstance(block, Table):
        for row in block.rows:
            yield from row


def _cite_text(cite: Cite | None) -> list[str]:
    return [] if cite is None else [cite.label, cite.url]


def _block_text(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return [block.text]
    if isinstance(block, Para):
        return [inline_text(block.content), *_num_cites(block.content)]
    if isinstance(block, Bullets):
        parts: list[str] = []
        for item in block.items:
            parts.append(inline_text(item))
            parts.extend(_num_cites(item))
        return parts
    if isinstance(block, Quote):
        return [block.text, block.attribution, *_cite_text(block.cite)]
    if isinstance(block, Table):
        parts = [block.caption, *block.columns]
        for row in block.rows:
            parts.extend(inline_text((cell,)) for cell in row)
            parts.extend(_num_cites(row))
        return [*parts, *block.notes, *_cite_text(block.cite)]
    if isinstance(block, Figure):
        return [block.caption, block.alt, block.svg, *_cite_text(block.cite)]
    if isinstance(block, Checklist):
        parts = [block.caption]
        for item in block.items:
            parts.extend((item.number, item.item, item.where, item.status))
        return parts
    raise TypeError(f"Not a report block: {block!r}")


def _num_cites(content: tuple[Inline, ...]) -> list[str]:
    parts: list[str] = []
    for item in content:
        if isinstance(item, Num):
            parts.extend(_cite_text(item.cite))
    return parts


def _section_text(section: Section) -> list[str]:
    parts = [section.title]
    for block in section.blocks:
        parts.extend(_block_text(block))
    for subsection in section.subsections:
        parts.extend(_section_text(subsection))
    return parts
