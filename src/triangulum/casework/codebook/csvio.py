"""Codebooks as CSV: one row per code, parents before children.

Columns: path ("RQ1 Modes/Formal roles"), name, definition, inclusion, exclusion,
example, colour, rq ("RQ1; RQ4"). ``name`` repeats the last part of the path, for people
reading the sheet; on import the path decides, and a name that disagrees is an error.
Rows are numbered as a spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import csv
import io

from .records import (
    COLOUR,
    CodebookFileError,
    CodeRecord,
    check_records,
    format_rq,
    normalise_path,
    parse_rq,
)

COLUMNS = ("path", "name", "definition", "inclusion", "exclusion", "example", "colour", "rq")
REQUIRED = ("path",)


def write_codebook_csv(records) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(
            [
                record.path,
                record.name,
                record.definition,
                record.inclusion,
                record.exclusion,
                record.example,
                record.colour,
                format_rq(record.rq),
            ]
        )
    return buffer.getvalue()


def read_codebook_csv(data: bytes, file_name: str = "codebook.csv") -> list[CodeRecord]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise CodebookFileError(
            file_name, "is not UTF-8; save it as CSV UTF-8 and import it again", row=row
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CodebookFileError(file_name, "is empty") from None
    except csv.Error as error:
        raise CodebookFileError(file_name, f"cannot be read as CSV ({error})", row=1) from None
    names = [h.strip().lower() for h in header]
    unknown = [h for h in names if h and h not in COLUMNS]
    if unknown:
        raise CodebookFileError(
            file_name,
            f"unknown column(s) {', '.join(unknown)}; expected: {', '.join(COLUMNS)}",
            row=1,
        )
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise CodebookFileError(file_name, f"no {', '.join(missing)} column", row=1)
    duplicated = {h for h in names if h and names.count(h) > 1}
    if duplicated:
        raise CodebookFileError(
            file_name, f"column(s) {', '.join(sorted(duplicated))} appear more than once", row=1
        )
    records = []
    row = 1
    try:
        for row, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(names):
                raise CodebookFileError(
                    file_name, f"{len(values)} values but only {len(names)} columns", row=row
                )
            cells = dict(zip(names, [v.strip() for v in values], strict=False))
            path = normalise_path(cells.get("path", ""))
            if not path:
                raise CodebookFileError(file_name, "the path is empty", row=row, column="path")
            name = " ".join(cells.get("name", "").split())
            if name and name != path.split("/")[-1]:
                raise CodebookFileError(
                    file_name,
                    f'name "{name}" differs from the last part of the path "{path}"',
                    row=row,
                    column="name",
                )
            colour = cells.get("colour", "").lower()
            if colour and not colour.startswith("#"):
                colour = f"#{colour}"
            if colour and not COLOUR.match(colour):
                raise CodebookFileError(
                    file_name,
                    f'"{cells.get("colour")}" is not a colour of the form #RRGGBB',
                    row=row,
                    column="colour",
                )
            try:
                rq = parse_rq(cells.get("rq", ""))
            except ValueError as error:
                raise CodebookFileError(file_name, str(error), row=row, column="rq") from None
            records.append(
                CodeRecord(
                    path=path,
                    definition=cells.get("definition", ""),
                    inclusion=cells.get("inclusion", ""),
                    exclusion=cells.get("exclusion", ""),
                    example=cells.get("example", ""),
                    colour=colour,
                    rq=rq,
                    row=row,
                )
            )
    except csv.Error as error:
        raise CodebookFileError(
            file_name, f"cannot be read as CSV ({error})", row=row + 1
        ) from None
    if not records:
        raise CodebookFileError(file_name, "has no codes")
    return check_records(records, file_name)
