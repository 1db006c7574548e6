"""Read a CSV table of set memberships for QCA, checking every cell before any analysis.

Pure Python, no Django. Errors name the file, the line (the header is line 1) and the
column, and list every bad cell up to a limit, so a researcher can fix them in one pass.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from triangulum.integration.qca import QCAError, SetData

MAX_REPORTED_PROBLEMS = 10


@dataclass(frozen=True)
class SetTable:
    data: SetData
    case_id_column: str | None  # None when cases are numbered by their row
    outcome: str
    conditions: tuple[str, ...]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle)]
    except FileNotFoundError:
        raise QCAError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise QCAError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise QCAError(f"{path}: not a readable CSV file ({error})") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise QCAError(f"{path}: the file is empty; a header row of column names is needed")
    header = [cell.strip() for cell in rows[0]]
    for index, name in enumerate(header, start=1):
        if not name:
            raise QCAError(f"{path}: line 1, column {index} has no name")
        if header.count(name) > 1:
            raise QCAError(f"{path}: line 1: the column name {name!r} appears more than once")
    body = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines, often at the end of hand-edited files
        if len(row) != len(header):
            raise QCAError(
                f"{path}: line {line} has {len(row)} fields but the header has {len(header)}"
            )
        body.append([str(line), *(cell.strip() for cell in row)])
    if not body:
        raise QCAError(f"{path}: the table has a header but no cases")
    return header, body


def read_set_table(
    path: str | Path,
    *,
    outcome: str,
    conditions: Sequence[str] | None = None,
    case_id: str | None = None,
) -> SetTable:
    """Load memberships for ``outcome`` and ``conditions`` (default: every other numeric
    column) from a CSV file. The case identifier is ``case_id`` or, by default, the first
    column holding anything that is not a number."""
    path = Path(path)
    header, body = _read_rows(path)
    columns = {name: [row[i + 1] for row in body] for i, name in enumerate(header)}
    lines = [row[0] for row in body]

    def require_column(name: str, role: str) -> None:
        if name not in columns:
            raise QCAError(
                f"{path}: there is no column {name!r} for the {role}; columns: {', '.join(header)}"
            )

    numeric = [name for name in header if all(_number(v) is not None for v in columns[name])]
    if case_id is not None:
        require_column(case_id, "case identifier")
    else:
        case_id = next((name for name in header if name not in numeric), None)
    require_column(outcome, "outcome")
    if outcome == case_id:
        raise QCAError(
            f"{path}: the column {outcome!r} is both the outcome and the case identifier"
        )
    if conditions is None:
        conditions = [name for name in numeric if name not in (outcome, case_id)]
        if not conditions:
            raise QCAError(f"{path}: no numeric columns besides the outcome to use as conditions")
    else:
        for name in conditions:
            require_column(name, "conditions")
            if name == case_id:
                raise QCAError(
                    f"{path}: the column {name!r} is both a condition and the case identifier"
                )

    problems = []
    memberships: dict[str, tuple[float, ...]] = {}
    for name in [*conditions, outcome]:
        values = []
        for line, text in zip(lines, columns[name], strict=True):
            value = _number(text)
            if not text:
                problems.append(f"line {line}, column {name!r}: empty; a membership is needed")
            elif value is None:
                problems.append(f"line {line}, column {name!r}: {text!r} is not a number")
            elif not 0.0 <= value <= 1.0:
                problems.append(
                    f"line {line}, column {name!r}: {text} is not a set membership "
                    "(memberships lie between 0 and 1; calibrate raw values first)"
                )
            values.append(value if value is not None else 0.0)
        memberships[name] = tuple(values)

    if case_id is None:
        case_ids = [str(n) for n in range(1, len(body) + 1)]
    else:
        case_ids = columns[case_id]
        seen: dict[str, str] = {}
        for line, case in zip(lines, case_ids, strict=True):
            if not case:
                problems.append(f"line {line}, column {case_id!r}: the case identifier is empty")
            elif case in seen:
                problems.append(
                    f"line {line}, column {case_id!r}: case {case!r} already appears on "
                    f"line {seen[case]}"
                )
            else:
                seen[case] = line

    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        raise QCAError(
            f"{path}: {len(problems)} problem(s):\n  "
            + "\n  ".join(shown)
            + (f"\n  … and {more} more" if more else "")
        )
    return SetTable(
        data=SetData(case_ids=tuple(case_ids), memberships=memberships),
        case_id_column=case_id,
        outcome=outcome,
        conditions=tuple(conditions),
    )
