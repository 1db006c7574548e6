"""The engine's picture of an instrument: items, choices, bind expressions, places.

Built from pyxform's reading of an XLSForm (or from a compiled XForm), so the engine
does not depend on pyxform's internal classes, which pyxform says may change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# Attributes holding XPath expressions, with the survey-sheet column each comes from.
EXPRESSION_COLUMNS = {
    "relevant": "relevant",
    "required": "required",
    "readonly": "read_only",
    "constraint": "constraint",
    "calculation": "calculation",
    "default": "default",
    "choice_filter": "choice_filter",
    "repeat_count": "repeat_count",
}

# Item kinds: what the engine does with an item.
QUESTION = "question"  # asked; takes an answer
NOTE = "note"  # shown, never answered
CALCULATE = "calculate"  # computed from its calculation
METADATA = "metadata"  # filled in by the engine (start, today, instanceID …)
HIDDEN = "hidden"  # holds a value nobody asks for (hidden, audit)
GROUP = "group"
REPEAT = "repeat"


@dataclass(frozen=True)
class Place:
    """Where something sits in the source file, for messages."""

    sheet: str | None = None
    row: int | None = None
    row_label: str = "row"
    element: str | None = None  # for compiled XForms, which have no sheets

    def describe(self, column: str | None = None) -> str:
        parts = []
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"{self.row_label} {self.row}")
        if self.element:
            parts.append(self.element)
        if column:
            parts.append(f"column {column}" if self.sheet else f"attribute {column}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One defect in a form, with the place that holds it."""

    message: str
    place: Place = field(default_factory=Place)
    column: str | None = None

    def describe(self, source: str | None = None) -> str:
        where = self.place.describe(self.column)
        prefix = ", ".join(p for p in (source, where) if p)
        return f"{prefix}: {self.message}" if prefix else self.message


class InstrumentError(ValueError):
    """A form that cannot be used, with every problem found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(p.describe(source) for p in problems))


@dataclass(frozen=True)
class Choice:
    name: str
    labels: dict[str, str]
    columns: dict[str, str]  # other choice-sheet columns, read by choice_filter expressions

    def label(self, language: str | None = None) -> str:
        return pick_text(self.labels, language) or self.name


@dataclass
class Item:
    name: str
    kind: str
    type: str  # XLSForm type name: text, integer, select_one, group, start …
    path: tuple[str, ...]
    place: Place
    labels: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)
    list_name: str | None = None
    choices: tuple[Choice, ...] = ()
    or_other: bool = False
    appearance: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    relevant: str | None = None
    required: str | None = None
    required_message: dict[str, str] = field(default_factory=dict)
    readonly: str | None = None
    constraint: str | None = None
    constraint_message: dict[str, str] = field(default_factory=dict)
    calculation: str | None = None
    default: str | None = None
    choice_filter: str | None = None
    repeat_count: str | None = None
    preload: str | None = None
    children: list[Item] = field(default_factory=list)
    parent: Item | None = field(default=None, repr=False)
    columns: dict[str, str] = field(default_factory=dict)  # attribute -> source column name
    compiled: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return "/".join(self.path)

    @property
    def is_container(self) -> bool:
        return self.kind in (GROUP, REPEAT)

    def label(self, language: str | None = None) -> str:
        return pick_text(self.labels, language)

    def column_for(self, attribute: str) -> str:
        return self.columns.get(attribute, EXPRESSION_COLUMNS.get(attribute, attribute))

    def ancestors(self) -> list[Item]:
        chain = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def repeat_ancestors(self) -> list[Item]:
        """Enclosing repeats, outermost first (including the item itself if a repeat)."""
        chain = [a for a in self.ancestors() if a.kind == REPEAT]
        if self.kind == REPEAT:
            chain.append(self)
        return chain


def pick_text(texts: dict[str, str], language: str | None) -> str:
    if not texts:
        return ""
    if language and language in texts:
        return texts[language]
    if "default" in texts:
        return texts["default"]
    return next(iter(texts.values()))


@dataclass
class Instrument:
    """A form read and checked, ready for ``engine.FormSession``."""

    source: str
    title: str
    form_id: str
    version: str
    root_name: str
    items: list[Item]
    languages: list[str]
    default_language: str | None = None
    warnings: list[str] = field(default_factory=list)

    def walk(self):
        """Every item in document order."""

        def visit(items):
            for item in items:
                yield item
                yield from visit(item.children)

        yield from visit(self.items)

    def item(self, key: str) -> Item:
        """An item by its path (``group/name``) or, where unique, by its name."""
        by_key = {item.key: item for item in self.walk()}
        if key in by_key:
            return by_key[key]
        named = [item for item in self.walk() if item.name == key]
        if len(named) == 1:
            return named[0]
        if not named:
            raise KeyError(f"the form has no item {key!r}")
        raise KeyError(f"the name {key!r} is used more than once; give its path")

    def summary(self) -> dict:
        items = list(self.walk())
        by_type = Counter(item.type for item in items if item.kind not in (GROUP, REPEAT, METADATA))
        expressions = Counter()
        for item in items:
            for attribute in EXPRESSION_COLUMNS:
                if attribute in item.compiled:
                    expressions[attribute] += 1
        return {
            "title": self.title,
            "form_id": self.form_id,
            "version": self.version,
            "items_by_type": dict(sorted(by_type.items())),
            "groups": sum(1 for i in items if i.kind == GROUP and i.name != "meta"),
            "repeats": sum(1 for i in items if i.kind == REPEAT),
            "metadata": sum(1 for i in items if i.kind == METADATA),
            "expressions": {a: expressions.get(a, 0) for a in EXPRESSION_COLUMNS},
            "languages": list(self.languages),
        }
