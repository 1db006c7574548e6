"""What every renderer agrees on: numbering, heading levels, labels. No Django.

The three renderers must number tables and figures the same way and nest
headings the same way, or a reader comparing the Word and PDF versions (or a
citation "Table 4") would find different things. So the walk over a Report
that assigns those numbers lives here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .document import Block, Checklist, Figure, Heading, Inline, Num, Report, Section, Table

CHECKLIST_COLUMNS = ("No.", "Item", "Where addressed", "Status")
_NUMERIC = re.compile(r"^[\s−\-+]?[£$€]?[\d.,]+\s*(%|pp|pts)?$")
PROVENANCE_TITLE = "Provenance"
PROVENANCE_INTRO = (
    "The data, code and settings this report was built from. Building it again "
    "from the same inputs gives the same document."
)
CONTENTS_TITLE = "Contents"
KIND_NAMES = {
    "practitioner": "Practitioner report",
    "guidance": "Guidance document",
    "article": "Article pack",
}


@dataclass(frozen=True)
class Placed:
    """A block with the outline level and caption number it gets in every format.

    ``level`` is the heading depth in the document outline: 1 for a top
    section's title, one deeper per nesting; a Heading block gets its section's
    level plus its own, but never more than one below the previous heading, so
    the outline never skips a level (screen readers and Word's navigation pane
    depend on that). ``number`` is the running table or figure number (tables
    and checklists share one sequence because both render as tables).
    """

    block: Block | Section
    level: int = 0
    number: int = 0
    anchor: str = ""


def walk(report: Report) -> Iterator[Placed]:
    """The report in reading order: each section (as itself) and each block, placed."""
    counters = {"table": 0, "figure": 0, "section": 0}
    previous = [0]

    def heading_level(wanted: int) -> int:
        level = min(wanted, previous[0] + 1)
        previous[0] = level
        return level

    def visit(section: Section, depth: int) -> Iterator[Placed]:
        counters["section"] += 1
        yield Placed(section, heading_level(depth), anchor=f"section-{counters['section']}")
        for block in section.blocks:
            if isinstance(block, Heading):
                yield Placed(block, heading_level(depth + block.level))
            elif isinstance(block, (Table, Checklist)):
                counters["table"] += 1
                yield Placed(block, number=counters["table"], anchor=f"table-{counters['table']}")
            elif isinstance(block, Figure):
                counters["figure"] += 1
                yield Placed(
                    block, number=counters["figure"], anchor=f"figure-{counters['figure']}"
                )
            else:
                yield Placed(block)
        for subsection in section.subsections:
            yield from visit(subsection, depth + 1)

    for section in report.sections:
        yield from visit(section, 1)


def caption_label(block: Block, number: int) -> str:
    """ "Table 3." / "Figure 2." — the caption prefix."""
    return f"{'Figure' if isinstance(block, Figure) else 'Table'} {number}."


def contents(report: Report, max_level: int = 2) -> list[tuple[int, str, str]]:
    """(level, title, anchor) of each section down to ``max_level``, plus provenance."""
    entries = [
        (placed.level, placed.block.title, placed.anchor)
        for placed in walk(report)
        if isinstance(placed.block, Section) and placed.level <= max_level
    ]
    entries.append((1, PROVENANCE_TITLE, "provenance"))
    return entries


def document_title(report: Report) -> str:
    return f"{report.title} — {report.study_title}" if report.study_title else report.title


@dataclass(frozen=True)
class ColumnPlan:
    """Fixed column widths (percent of the table) and the type size (percent) they assume."""

    widths: tuple[float, ...]
    type_size: int = 100


def plan_columns(
    columns: tuple[str, ...],
    rows: tuple[tuple[Inline, ...], ...],
    line_chars: int = 74,
) -> ColumnPlan:
    """Column widths sized to the text each column holds, for paged layout.

    Paged layout uses these as fixed widths: letting WeasyPrint measure every
    cell to size the columns was most of the time it spent on a report full of
    tables. Each column first gets its longest word (so "1,098" or "purposive"
    never breaks inside; words over 18 characters may) and, for text, room for
    14 characters, plus the cell padding. A table whose columns need more than
    a line of ``line_chars`` characters (A4 at the table's type size,
    calibrated on DejaVu Sans) is set smaller, down to 70%. What is left of
    the line goes to the columns whose cells are longer than their floor, in
    proportion (up to 40 characters: longer text wraps anyway).
    """
    if not columns:
        return ColumnPlan(())
    padding = 3  # the cell's padding and borders, in characters
    floors: list[int] = []
    wants: list[int] = []
    for index, header in enumerate(columns):
        cells = [
            cell.text if isinstance(cell, Num) else str(cell)
            for row in rows
            for cell in row[index : index + 1]
        ]
        # Headers are bold, about a sixth wider than the body text.
        header_word = max((len(word) for word in header.split()), default=1) * 7 // 6 + 1
        cell_word = max((len(word) for text in cells for word in text.split()), default=1)
        longest = max((len(text) for text in cells), default=0)
        floor = max(min(max(header_word, cell_word), 18), min(longest, 14))
        floors.append(floor + padding)
        wants.append(max(min(longest, 40) - floor, 0))
    need = sum(floors)
    type_size = 100
    while need * type_size > line_chars * 100 and type_size > 70:
        type_size -= 10
    spare = line_chars * 100 / type_size - need
    extra = sum(wants)
    widths = [
        floor + (spare * want / extra if spare > 0 and extra else 0)
        for floor, want in zip(floors, wants, strict=True)
    ]
    total = sum(widths)
    return ColumnPlan(tuple(round(100 * width / total, 1) for width in widths), type_size)


def is_numeric(cell: Inline) -> bool:
    """A number cell (right-aligned in every format): a Num, or text like "1,098" or "62%"."""
    return isinstance(cell, Num) or bool(_NUMERIC.match(cell))
