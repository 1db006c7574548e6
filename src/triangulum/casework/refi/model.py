"""The exchange model: what Triangulum reads from and writes to REFI-QDA files.

Plain frozen dataclasses with tuples, so two projects compare equal exactly when they
hold the same content (``read(write(project)) == project``). Invariants the reader
establishes and the writer relies on:

- every GUID is lower-case, without braces (a non-GUID identifier in the file is
  replaced by a name-based UUID, and the replacement reported);
- colours are ``#rrggbb`` in lower case;
- text is canonical (NFC, ``\\n`` line endings) and selections are ``[start, end)`` in
  code points of it;
- descriptions and note texts are stripped of surrounding white space.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")
VariableValueType = str | bool | int | Decimal | dt.date | dt.datetime


@dataclass(frozen=True)
class Deviation:
    """Something in a file that departs from the standard, or that was not imported.

    ``kind`` is ``"nonstandard"`` (the file departs from REFI-QDA and was read anyway),
    ``"missing"`` (a source text the file points at is not there) or ``"not_imported"``
    (standard content Triangulum does not hold, such as a picture source).
    """

    kind: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class User:
    guid: str
    name: str = ""
    id: str = ""


@dataclass(frozen=True)
class Code:
    guid: str
    name: str
    is_codable: bool = True
    colour: str | None = None
    description: str = ""
    note_refs: tuple[str, ...] = ()
    children: tuple[Code, ...] = ()

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Coding:
    guid: str
    code_guid: str
    creating_user: str | None = None
    created: dt.datetime | None = None
    note_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextSelection:
    guid: str
    start: int
    end: int
    name: str = ""
    description: str = ""
    creating_user: str | None = None
    created: dt.datetime | None = None
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class VariableValue:
    variable_guid: str
    value: VariableValueType | None


@dataclass(frozen=True)
class TextSource:
    """A plain-text source. ``text`` is None where the file points at a text it lacks."""

    guid: str
    name: str
    text: str | None
    description: str = ""
    creating_user: str | None = None
    created: dt.datetime | None = None
    modifying_user: str | None = None
    modified: dt.datetime | None = None
    selections: tuple[TextSelection, ...] = ()
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[str, ...] = ()
    variable_values: tuple[VariableValue, ...] = ()


@dataclass(frozen=True)
class OtherSource:
    """A picture, PDF, audio or video source: counted and reported, not imported."""

    guid: str
    name: str
    kind: str
    selection_count: int = 0
    coding_count: int = 0


@dataclass(frozen=True)
class Variable:
    guid: str
    name: str
    type: str
    description: str = ""


@dataclass(frozen=True)
class Case:
    guid: str
    name: str = ""
    description: str = ""
    code_refs: tuple[str, ...] = ()
    variable_values: tuple[VariableValue, ...] = ()
    source_refs: tuple[str, ...] = ()
    selection_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    guid: str
    name: str = ""
    text: str = ""
    creating_user: str | None = None
    created: dt.datetime | None = None


@dataclass(frozen=True)
class Set:
    guid: str
    name: str
    description: str = ""
    member_codes: tuple[str, ...] = ()
    member_sources: tuple[str, ...] = ()
    member_notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Project:
    """A REFI-QDA project, or a codebook (``kind == "codebook"``: codes and sets only)."""

    name: str
    kind: str = "project"
    origin: str = ""
    description: str = ""
    creating_user: str | None = None
    created: dt.datetime | None = None
    modifying_user: str | None = None
    modified: dt.datetime | None = None
    users: tuple[User, ...] = ()
    codes: tuple[Code, ...] = ()
    variables: tuple[Variable, ...] = ()
    cases: tuple[Case, ...] = ()
    sources: tuple[TextSource, ...] = ()
    other_sources: tuple[OtherSource, ...] = ()
    notes: tuple[Note, ...] = ()
    sets: tuple[Set, ...] = ()
    note_refs: tuple[str, ...] = ()
    # What the reader found; not part of the content, so left out of equality.
    deviations: tuple[Deviation, ...] = field(default=(), compare=False)

    def all_codes(self):
        for code in self.codes:
            yield from code.walk()

    def missing_sources(self) -> tuple[TextSource, ...]:
        return tuple(source for source in self.sources if source.text is None)

    def counts(self) -> dict[str, int]:
        """How many of each kind of thing the project holds (non-text sources included)."""
        text_selections = sum(len(s.selections) for s in self.sources)
        text_codings = sum(
            len(s.codings) + sum(len(sel.codings) for sel in s.selections) for s in self.sources
        )
        return {
            "users": len(self.users),
            "codes": sum(1 for _ in self.all_codes()),
            "sources": len(self.sources) + len(self.other_sources),
            "text_sources": len(self.sources),
            "missing_texts": len(self.missing_sources()),
            "selections": text_selections + sum(s.selection_count for s in self.other_sources),
            "codings": text_codings + sum(s.coding_count for s in self.other_sources),
            "cases": len(self.cases),
            "variables": len(self.variables),
            "notes": len(self.notes),
            "sets": len(self.sets),
        }
