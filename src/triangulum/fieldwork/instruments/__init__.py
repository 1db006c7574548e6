"""The CCG study's own survey instruments: wave 1 (2014) and wave 2 (2016).

The forms are kept as XLSForm markdown (``.md``), which pyxform reads and which diffs
line by line; ``crosswalk.csv`` pairs each item of one wave with its counterpart in the
other. Every asked item carries the research questions it serves in an extra survey
column, ``rq``, which pyxform keeps in its survey JSON: ``rq_tags`` reads it from there.

Pure Python (pyxform only): the demo and the tests share these helpers.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform

DIRECTORY = Path(__file__).resolve().parent
INSTRUMENT_SLUG = "ccg-governing-body-survey"
INSTRUMENT_TITLE = "CCG governing body survey"
WAVE_FILES = {
    1: DIRECTORY / "ccg_governing_body_survey_2014.md",
    2: DIRECTORY / "ccg_governing_body_survey_2016.md",
}
CROSSWALK = DIRECTORY / "crosswalk.csv"
RQ_CODES = ("RQ1", "RQ2", "RQ3", "RQ4")
CROSSWALK_STATUSES = ("same", "changed", "new", "dropped")
# Kinds of survey-JSON node that are not asked, so carry no research-question tag.
UNASKED_TYPES = {"note", "calculate", "group", "repeat", "start", "end", "today", "deviceid"}


@dataclass(frozen=True)
class CrosswalkRow:
    wave1_name: str
    wave2_name: str
    status: str
    note: str


def survey_json(path: Path) -> dict:
    """pyxform's JSON survey of a form file (what ``InstrumentVersion.form_json`` keeps)."""
    definition = get_xlsform(str(path))
    return workbook_to_json(
        workbook_dict=definition,
        form_name=None,
        fallback_form_name=definition.fallback_form_name or path.stem,
        warnings=[],
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def asked_nodes(form_json: dict) -> list[dict]:
    """The survey JSON's nodes a respondent answers, in document order (groups opened)."""
    found: list[dict] = []

    def visit(nodes):
        for node in nodes:
            if node.get("type") in ("group", "repeat"):
                if node.get("name") != "meta":
                    visit(node.get("children", []))
                continue
            if node.get("type") in UNASKED_TYPES:
                continue
            found.append(node)

    visit(form_json.get("children", []))
    return found


def rq_tags(form_json: dict) -> dict[str, tuple[str, ...]]:
    """Item name → the research questions its ``rq`` cell names (empty if none)."""
    return {node["name"]: tuple(str(node.get("rq", "")).split()) for node in asked_nodes(form_json)}


def read_crosswalk(path: Path = CROSSWALK) -> list[CrosswalkRow]:
    """The item crosswalk; raises ``ValueError`` naming the row of a malformed line."""
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        expected = ["wave1_name", "wave2_name", "status", "note"]
        if reader.fieldnames != expected:
            raise ValueError(f"{path.name}: the header must be {','.join(expected)}")
        for line, record in enumerate(reader, start=2):
            status = record["status"].strip()
            if status not in CROSSWALK_STATUSES:
                raise ValueError(
                    f"{path.name}, row {line}, column status: {status!r} is not one of "
                    f"{', '.join(CROSSWALK_STATUSES)}"
                )
            rows.append(
                CrosswalkRow(
                    record["wave1_name"].strip(),
                    record["wave2_name"].strip(),
                    status,
                    record["note"].strip(),
                )
            )
    return rows
