"""Codebooks as REFI-QDA ``.qdc`` files (Codebook.xsd), through ``casework.refi``.

A REFI code has one free-text Description. Triangulum's definition comes first in it,
then labelled paragraphs for inclusion, exclusion, example and research questions, so
other tools show everything readably and a Triangulum import gets the fields back.
A description without those labels is read as the definition alone.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path

from triangulum.casework import refi

from .records import CodebookFileError, CodeRecord, check_records, format_rq, parse_rq

_LABELS = {
    "Inclusion": "inclusion",
    "Exclusion": "exclusion",
    "Example": "example",
    "Research questions": "rq",
}
_SECTION = re.compile(r"^(?P<label>" + "|".join(map(re.escape, _LABELS)) + r"): ?", re.MULTILINE)


def description_of(record: CodeRecord) -> str:
    parts = [record.definition] if record.definition else []
    for label, name in _LABELS.items():
        value = format_rq(record.rq) if name == "rq" else getattr(record, name)
        if value:
            parts.append(f"{label}: {value}")
    return "\n\n".join(parts)


def fields_of(description: str) -> dict:
    """Definition, inclusion, exclusion, example and rq from a code's Description."""
    matches = [
        m
        for m in _SECTION.finditer(description)
        if m.start() == 0 or description[m.start() - 1] == "\n"
    ]
    fields: dict = {"definition": description[: matches[0].start()] if matches else description}
    for position, match in enumerate(matches):
        following = matches[position + 1] if position + 1 < len(matches) else None
        end = following.start() if following else len(description)
        fields[_LABELS[match.group("label")]] = description[match.end() : end]
    fields = {k: v.strip() for k, v in fields.items()}
    rq_text = fields.pop("rq", "")
    try:
        fields["rq"] = parse_rq(rq_text)
    except ValueError:
        # Not ours after all: keep the text where a reader will see it.
        fields["definition"] = description.strip()
        for name in ("inclusion", "exclusion", "example"):
            fields.pop(name, None)
        fields["rq"] = ()
    return fields


def codebook_qdc_bytes(records, *, name: str, origin: str = "Triangulum") -> bytes:
    """The records (parents before children) as a standalone ``.qdc`` codebook."""
    children: dict[str | None, list[CodeRecord]] = {}
    for record in records:
        key = record.parent_path.casefold() if record.parent_path else None
        children.setdefault(key, []).append(record)

    def build(record: CodeRecord) -> refi.Code:
        return refi.Code(
            guid=(record.guid or str(uuid.uuid4())).lower(),
            name=record.name,
            colour=record.colour.lower() or None,
            description=description_of(record),
            children=tuple(build(c) for c in children.get(record.path.casefold(), [])),
        )

    project = refi.Project(
        name=name,
        kind="codebook",
        origin=origin,
        codes=tuple(build(r) for r in children.get(None, [])),
    )
    return refi.codebook_xml(project)


def records_from_project(project: refi.Project, file_name: str) -> list[CodeRecord]:
    records = []

    def walk(code: refi.Code, parent: str | None) -> None:
        name = " ".join(code.name.split()).replace("/", "∕")  # "/" separates path levels
        path = f"{parent}/{name}" if parent else name
        records.append(
            CodeRecord(
                path=path, colour=code.colour or "", guid=code.guid, **fields_of(code.description)
            )
        )
        for child in code.children:
            walk(child, path)

    for code in project.codes:
        walk(code, None)
    if not records:
        raise CodebookFileError(file_name, "holds no codes")
    return check_records(records, file_name)


def read_codebook_qdc(path: str | Path) -> tuple[list[CodeRecord], list[str]]:
    """The codes of a ``.qdc`` (or the codebook of a ``.qdpx``/``.qde``) and what the
    reader noted about departures from the standard."""
    path = Path(path)
    try:
        project = refi.read_refi(path)
    except refi.BrokenFileError as error:
        where = ""
        if error.line is not None:
            where = f" (line {error.line}, column {error.column})"
        raise CodebookFileError(path.name, f"{error}{where}") from None
    except refi.RefiError as error:
        raise CodebookFileError(path.name, str(error)) from None
    return records_from_project(project, path.name), [str(d) for d in project.deviations]


def read_codebook_qdc_bytes(data: bytes, file_name: str) -> tuple[list[CodeRecord], list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(file_name).name
        path.write_bytes(data)
        return read_codebook_qdc(path)
