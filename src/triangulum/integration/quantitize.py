"""Quantitizing codings: case × code matrices of presence, counts or shares of text, and
cross-tabulations of them against survey variables. No Django here.

The inputs are what the casework queries give for each case and code: the number of
codings, the characters they cover (overlaps counted once) and the length of the case's
text. A measure turns them into one number per cell:

- ``presence``: 1 when the case has at least ``min_count`` codings of the code, else 0;
- ``count``: the number of codings;
- ``share``: characters coded ÷ characters of the case's sources (None for a case with
  no text, where a share means nothing).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

MEASURES = {
    "presence": "Presence (1 if coded, else 0)",
    "count": "Count of codings",
    "share": "Share of the case's text coded",
}


class QuantitizeError(ValueError):
    """Inputs that cannot be quantitized; the message names the case and code at fault."""


@dataclass(frozen=True)
class CellCoding:
    """What the codings of one case and one code amount to."""

    count: int = 0
    characters: int = 0  # characters covered, overlapping codings counted once
    coding_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class QuantitizedMatrix:
    measure: str
    rows: tuple[Hashable, ...]
    columns: tuple[Hashable, ...]
    values: Mapping[tuple[Hashable, Hashable], float | int | None]
    min_count: int = 1

    def value(self, row: Hashable, column: Hashable) -> float | int | None:
        return self.values[(row, column)]

    def column_values(self, column: Hashable) -> dict[Hashable, float | int | None]:
        return {row: self.values[(row, column)] for row in self.rows}


def _check_measure(measure: str) -> None:
    if measure not in MEASURES:
        raise QuantitizeError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")


def quantitize(
    cells: Mapping[tuple[Hashable, Hashable], CellCoding],
    *,
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    text_lengths: Mapping[Hashable, int],
    measure: str,
    min_count: int = 1,
) -> QuantitizedMatrix:
    """One number per case (row) and code (column); a missing cell is a cell with no codings."""
    _check_measure(measure)
    if min_count < 1:
        raise QuantitizeError(f"the presence threshold must be at least 1 coding (got {min_count})")
    values: dict[tuple[Hashable, Hashable], float | int | None] = {}
    for row in rows:
        length = text_lengths.get(row, 0)
        if length < 0:
            raise QuantitizeError(f"case {row!r}: a text length cannot be negative ({length})")
        for column in columns:
            cell = cells.get((row, column), CellCoding())
            if cell.count < 0 or cell.characters < 0:
                raise QuantitizeError(
                    f"case {row!r}, code {column!r}: counts cannot be negative "
                    f"({cell.count} codings, {cell.characters} characters)"
                )
            if measure == "presence":
                values[(row, column)] = 1 if cell.count >= min_count else 0
            elif measure == "count":
                values[(row, column)] = cell.count
            elif length == 0:
                values[(row, column)] = None
            else:
                if cell.characters > length:
                    raise QuantitizeError(
                        f"case {row!r}, code {column!r}: {cell.characters} characters coded "
                        f"but the case's text has only {length}"
                    )
                values[(row, column)] = cell.characters / length
    return QuantitizedMatrix(
        measure=measure,
        rows=tuple(rows),
        columns=tuple(columns),
        values=values,
        min_count=min_count,
    )


# --- beside survey variables ------------------------------------------------------------


def merge(
    matrix: QuantitizedMatrix,
    survey: Mapping[Hashable, Mapping[str, object]],
    *,
    column_names: Mapping[Hashable, str],
    survey_columns: Sequence[str],
    row_names: Mapping[Hashable, str],
) -> tuple[list[str], list[list[object]]]:
    """A flat table, one row per case: its name, the survey variables, then the
    quantitized codes (a case without survey data gets empty survey cells)."""
    header = ["case", *survey_columns, *(column_names[c] for c in matrix.columns)]
    body = []
    for row in matrix.rows:
        answers = survey.get(row, {})
        body.append(
            [
                row_names[row],
                *(answers.get(name) for name in survey_columns),
                *(matrix.value(row, column) for column in matrix.columns),
            ]
        )
    return header, body


@dataclass
class CrossTab:
    """Cases counted by a survey variable (rows) and a quantitized code (columns)."""

    row_values: list[object]
    column_values: list[object]
    cases: dict[tuple[object, object], list[Hashable]]
    missing: list[Hashable] = field(default_factory=list)  # no value on one variable

    def count(self, row_value, column_value) -> int:
        return len(self.cases.get((row_value, column_value), ()))

    def row_total(self, row_value) -> int:
        return sum(self.count(row_value, c) for c in self.column_values)

    def column_total(self, column_value) -> int:
        return sum(self.count(r, column_value) for r in self.row_values)

    @property
    def total(self) -> int:
        return sum(len(cases) for cases in self.cases.values())


def cross_tabulate(
    rows: Sequence[Hashable],
    *,
    survey_values: Mapping[Hashable, object],
    code_values: Mapping[Hashable, object],
    survey_order: Sequence[object] = (),
    code_order: Sequence[object] = (0, 1),
) -> CrossTab:
    """Count cases by their survey value and their quantitized code value.

    Categories are listed in ``survey_order`` (then any other values met, sorted), so a
    scale keeps its order and empty categories still show; a case missing either value
    is counted apart.
    """
    cases: dict[tuple[object, object], list[Hashable]] = {}
    missing = []
    seen_rows, seen_columns = [], []
    for row in rows:
        survey_value = survey_values.get(row)
        code_value = code_values.get(row)
        if survey_value in (None, "") or code_value is None:
            missing.append(row)
            continue
        cases.setdefault((survey_value, code_value), []).append(row)
        seen_rows.append(survey_value)
        seen_columns.append(code_value)

    def ordered(order: Sequence[object], seen: list[object]) -> list[object]:
        extra = sorted({v for v in seen if v not in order}, key=str)
        return [*order, *extra]

    return CrossTab(
        row_values=ordered(survey_order, seen_rows),
        column_values=ordered(code_order, seen_columns),
        cases=cases,
        missing=missing,
    )


# --- tables out ---------------------------------------------------------------------------


def table_csv(header: Sequence[str], body: Sequence[Sequence[object]]) -> str:
    """CSV text (None as an empty cell)."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    for row in body:
        writer.writerow(["" if value is None else value for value in row])
    return stream.getvalue()


def table_xlsx(
    header: Sequence[str],
    body: Sequence[Sequence[object]],
    *,
    sheet: str,
    about: Sequence[tuple[str, object]] = (),
) -> bytes:
    """An XLSX workbook: the table on one sheet, what it is on a sheet called "about"."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    data = book.active
    data.title = sheet[:31]
    data.append(list(header))
    for cell in data[1]:
        cell.font = Font(bold=True)
    for row in body:
        data.append([v if isinstance(v, int | float | str) or v is None else str(v) for v in row])
    data.freeze_panes = "B2"
    if about:
        notes = book.create_sheet("about")
        for label, value in about:
            notes.append([label, value if isinstance(value, int | float | str) else str(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
