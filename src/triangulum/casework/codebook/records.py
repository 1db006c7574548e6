"""A code as the exchange formats see it: its path in the tree and its descriptive fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
RQ = re.compile(r"^(?:RQ)?\s*(\d+)$", re.IGNORECASE)


class CodebookFileError(ValueError):
    """A codebook file that cannot be imported; the message names the file and row."""

    def __init__(self, file_name: str, problem: str, *, row: int | None = None, column: str = ""):
        where = file_name
        if row is not None:
            where += f", row {row}"
        if column:
            where += f", column {column}"
        super().__init__(f"{where}: {problem}")
        self.file_name = file_name
        self.row = row
        self.column = column
        self.problem = problem


@dataclass(frozen=True)
class CodeRecord:
    """One code: ``path`` is "Parent/Child" (its own name last)."""

    path: str
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    example: str = ""
    colour: str = ""
    rq: tuple[int, ...] = ()
    guid: str = ""  # kept from a REFI codebook, so codes keep their identity across tools
    row: int | None = field(default=None, compare=False)  # where it came from, for messages

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def parent_path(self) -> str | None:
        return "/".join(self.parts[:-1]) or None


def normalise_path(path: str) -> str:
    return "/".join(" ".join(part.split()) for part in path.strip().strip("/").split("/"))


def parse_rq(text: str) -> tuple[int, ...]:
    """``"RQ1; RQ3"`` or ``"1,3"`` → ``(1, 3)``; ValueError naming the bad item."""
    numbers = []
    for item in re.split(r"[;,\s]+(?=RQ|\d)|[;,]", text or ""):
        item = item.strip()
        if not item:
            continue
        match = RQ.match(item)
        if not match:
            raise ValueError(f'"{item}" is not a research question (write e.g. "RQ1; RQ3")')
        numbers.append(int(match.group(1)))
    return tuple(sorted(set(numbers)))


def format_rq(numbers) -> str:
    return "; ".join(f"RQ{n}" for n in sorted(numbers))


def check_records(records: list[CodeRecord], file_name: str) -> list[CodeRecord]:
    """Checks a whole codebook: names, colours, duplicate paths, parents before children."""
    seen: dict[str, CodeRecord] = {}
    for record in records:
        if not record.path or any(not part for part in record.parts):
            raise CodebookFileError(
                file_name, f'"{record.path}" is not a code path', row=record.row, column="path"
            )
        if any(len(part) > 200 for part in record.parts):
            raise CodebookFileError(
                file_name,
                "a code name is longer than 200 characters",
                row=record.row,
                column="path",
            )
        if record.colour and not COLOUR.match(record.colour):
            raise CodebookFileError(
                file_name,
                f'"{record.colour}" is not a colour of the form #RRGGBB',
                row=record.row,
                column="colour",
            )
        key = record.path.casefold()
        if key in seen:
            first = seen[key].row
            raise CodebookFileError(
                file_name,
                f'code "{record.path}" appears twice'
                + (f" (first in row {first})" if first is not None else ""),
                row=record.row,
                column="path",
            )
        parent = record.parent_path
        if parent is not None and parent.casefold() not in seen:
            raise CodebookFileError(
                file_name,
                f'the parent "{parent}" of "{record.name}" must come before it',
                row=record.row,
                column="path",
            )
        seen[key] = record
    return records
