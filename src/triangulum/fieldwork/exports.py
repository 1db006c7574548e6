"""Exports of a wave: answers wide and long, SPSS and Stata files, dictionary, paradata.

Exports identify respondents by pseudonym only (names, numbers and e-mail addresses stay
in the contact records). Single-choice answers are numbered 1…k in the order of the
form's choice list (or keep their own number when every choice name is a whole number),
so SPSS and Stata can carry value labels; multiple-choice answers become one 0/1
variable per option there.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import runner
from .models import CallAttempt, Interview, Wave
from .xlsform.model import QUESTION, Item

KINDS = {
    "wide": {
        "label": "Answers, one row per respondent (CSV, codes)",
        "extension": "csv",
        "content_type": "text/csv; charset=utf-8",
    },
    "wide-labels": {
        "label": "Answers, one row per respondent (CSV, option labels)",
        "extension": "csv",
        "content_type": "text/csv; charset=utf-8",
    },
    "long": {
        "label": "Answers, one row per answer (CSV with question and option labels)",
        "extension": "csv",
        "content_type": "text/csv; charset=utf-8",
    },
    "sav": {
        "label": "SPSS (.sav) with variable and value labels",
        "extension": "sav",
        "content_type": "application/x-spss-sav",
    },
    "dta": {
        "label": "Stata (.dta) with variable and value labels",
        "extension": "dta",
        "content_type": "application/x-stata-dta",
    },
    "dictionary": {
        "label": "Data dictionary (CSV)",
        "extension": "csv",
        "content_type": "text/csv; charset=utf-8",
    },
    "paradata": {
        "label": "Call records, paradata (CSV)",
        "extension": "csv",
        "content_type": "text/csv; charset=utf-8",
    },
}

META_COLUMNS = [
    ("interview_id", "Interview identifier"),
    ("pseudonym", "Respondent pseudonym"),
    ("organisation_code", "Organisation ODS code"),
    ("organisation_name", "Organisation name"),
    ("region", "NHS region"),
    ("role", "Respondent's role"),
    ("mode", "Mode of completion"),
    ("status", "Case status"),
    ("disposition", "AAPOR disposition code"),
    ("instrument_version", "Instrument version"),
    ("simulated", "Simulated data (1 = simulated)"),
]


@dataclass
class Variable:
    name: str
    item: Item
    indices: tuple[int, ...]
    path: str
    label: str
    codes: dict[str, int] = field(default_factory=dict)


def _safe_name(text: str, used: set[str]) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)[:32] or "v"
    if not re.match(r"[A-Za-z]", name):
        name = ("v" + name)[:32]
    base, n = name, 2
    while name.lower() in used:
        suffix = f"_{n}"
        name = base[: 32 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def _codes(item: Item) -> dict[str, int]:
    names = [c.name for c in item.choices]
    if names and all(re.fullmatch(r"-?\d+", n) for n in names):
        return {n: int(n) for n in names}
    return {n: i for i, n in enumerate(names, start=1)}


def _instrument(wave: Wave):
    version = wave.instrument_version
    return runner.instrument_from_bytes(version.file_name, bytes(version.file_bytes))


def _interviews(wave: Wave):
    return (
        Interview.objects.filter(wave=wave)
        .select_related("participant__organisation", "wave__instrument_version")
        .prefetch_related("answers__instrument_version")
        .order_by("participant__pseudonym")
    )


def variables(wave: Wave, answer_paths: set[str]) -> list[Variable]:
    """One variable per question (repeat instances found in the data numbered _1, _2 …)."""
    instrument = _instrument(wave)
    used = {c for c, _ in META_COLUMNS}
    out = []
    by_item: dict[str, list[tuple[tuple[int, ...], str]]] = {}
    for path in answer_paths:
        try:
            item, indices = runner.parse_item_path(instrument, path)
        except KeyError:
            continue
        if indices:
            by_item.setdefault(item.key, []).append((indices, path))
    for item in instrument.walk():
        if item.kind != QUESTION:
            continue
        label = item.label() or item.name
        codes = _codes(item) if item.type == "select_one" else {}
        if not item.repeat_ancestors():
            out.append(
                Variable(
                    _safe_name(item.name, used),
                    item,
                    (),
                    runner.item_path(instrument, item, ()),
                    label,
                    codes,
                )
            )
            continue
        for indices, path in sorted(by_item.get(item.key, [])):
            suffix = "_".join(str(i + 1) for i in indices)
            out.append(
                Variable(
                    _safe_name(f"{item.name}_{suffix}", used),
                    item,
                    indices,
                    path,
                    f"{label} [{suffix}]",
                    codes,
                )
            )
    return out


def _meta(interview: Interview) -> dict:
    org = interview.participant.organisation
    return {
        "interview_id": interview.pk,
        "pseudonym": interview.participant.pseudonym,
        "organisation_code": org.ods_code if org else "",
        "organisation_name": org.name if org else "",
        "region": org.region_name if org else "",
        "role": interview.participant.role_category,
        "mode": interview.mode,
        "status": interview.status,
        "disposition": interview.disposition,
        "instrument_version": interview.wave.instrument_version.version,
        "simulated": 1 if interview.is_simulated else 0,
    }


def _choice_label(item: Item, text: str) -> str:
    labels = {c.name: c.label() for c in item.choices}
    return "; ".join(labels.get(part, part) for part in str(text).split())


def _table(wave: Wave):
    interviews = list(_interviews(wave))
    paths = {a.item_path for i in interviews for a in i.answers.all()}
    return interviews, variables(wave, paths)


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def wide(wave: Wave, *, labels: bool = False) -> tuple[bytes, int]:
    interviews, columns = _table(wave)
    rows = [[c for c, _ in META_COLUMNS] + [v.name for v in columns]]
    for interview in interviews:
        answers = {a.item_path: a.value for a in interview.answers.all()}
        meta = _meta(interview)
        row = [meta[c] for c, _ in META_COLUMNS]
        for variable in columns:
            value = answers.get(variable.path)
            if value in (None, ""):
                row.append("")
            elif labels and variable.item.choices:
                row.append(_choice_label(variable.item, value))
            else:
                row.append(value)
        rows.append(row)
    return _csv(rows), len(interviews)


def long(wave: Wave) -> tuple[bytes, int]:
    instrument = _instrument(wave)
    header = [
        "interview_id",
        "pseudonym",
        "item_path",
        "variable",
        "question",
        "value",
        "value_label",
        "mode",
        "instrument_version",
        "answered_at",
        "simulated",
    ]
    rows = [header]
    for interview in _interviews(wave):
        for answer in sorted(interview.answers.all(), key=lambda a: a.id):
            try:
                item, _ = runner.parse_item_path(instrument, answer.item_path)
            except KeyError:
                item = None
            rows.append(
                [
                    interview.pk,
                    interview.participant.pseudonym,
                    answer.item_path,
                    item.name if item else "",
                    (item.label() or item.name) if item else "",
                    answer.value,
                    _choice_label(item, answer.value) if item and item.choices else "",
                    answer.mode,
                    answer.instrument_version.version,
                    answer.answered_at.isoformat(),
                    1 if interview.is_simulated else 0,
                ]
            )
    return _csv(rows), len(rows) - 1


def dictionary(wave: Wave) -> tuple[bytes, int]:
    _, columns = _table(wave)
    rows = [
        ["variable", "item_path", "type", "label", "relevant", "constraint", "required", "codes"]
    ]
    for name, label in META_COLUMNS:
        rows.append([name, "", "metadata", label, "", "", "", ""])
    for v in columns:
        codes = (
            "; ".join(f"{v.codes.get(c.name, c.name)}={c.label()}" for c in v.item.choices)
            if v.item.choices
            else ""
        )
        rows.append(
            [
                v.name,
                v.path,
                v.item.type,
                v.label,
                v.item.relevant or "",
                v.item.constraint or "",
                v.item.required or "",
                codes,
            ]
        )
    return _csv(rows), len(columns)


def paradata(wave: Wave) -> tuple[bytes, int]:
    calls = (
        CallAttempt.objects.filter(interview__wave=wave)
        .select_related("interview__participant__organisation", "interviewer")
        .order_by("interview__participant__pseudonym", "started_at", "id")
    )
    rows = [
        [
            "interview_id",
            "pseudonym",
            "organisation_code",
            "attempt",
            "started_at",
            "ended_at",
            "seconds",
            "interviewer",
            "outcome",
            "aapor_code",
            "simulated",
        ]
    ]
    attempt: dict[int, int] = {}
    for call in calls:
        attempt[call.interview_id] = attempt.get(call.interview_id, 0) + 1
        org = call.interview.participant.organisation
        seconds = round((call.ended_at - call.started_at).total_seconds()) if call.ended_at else ""
        rows.append(
            [
                call.interview_id,
                call.interview.participant.pseudonym,
                org.ods_code if org else "",
                attempt[call.interview_id],
                call.started_at.isoformat(),
                call.ended_at.isoformat() if call.ended_at else "",
                seconds,
                call.interviewer.username if call.interviewer else "",
                call.outcome,
                call.aapor_code,
                1 if call.is_simulated else 0,
            ]
        )
    return _csv(rows), len(rows) - 1


def _frame(wave: Wave):
    import pandas as pd

    interviews, columns = _table(wave)
    data: dict[str, list] = {c: [] for c, _ in META_COLUMNS}
    labels = dict(META_COLUMNS)
    value_labels: dict[str, dict] = {}
    numeric = {"integer", "decimal", "range"}
    expanded: list[tuple[str, Variable, str | None]] = []
    used = {c.lower() for c in data}
    for v in columns:
        if v.item.type == "select_multiple":
            for choice in v.item.choices:
                name = _safe_name(f"{v.name}_{choice.name}", used)
                expanded.append((name, v, choice.name))
                labels[name] = f"{v.label}: {choice.label()}"[:80]
                value_labels[name] = {0: "not chosen", 1: "chosen"}
        else:
            expanded.append((v.name, v, None))
            labels[v.name] = v.label[:80]
            if v.codes:
                value_labels[v.name] = {
                    code: c.label()[:120]
                    for c in v.item.choices
                    for name, code in v.codes.items()
                    if name == c.name
                }
    for name, _, _ in expanded:
        data[name] = []
    for interview in interviews:
        answers = {a.item_path: a.value for a in interview.answers.all()}
        meta = _meta(interview)
        for c, _ in META_COLUMNS:
            data[c].append(meta[c])
        for name, v, choice in expanded:
            value = answers.get(v.path)
            empty = value in (None, "")
            if choice is not None:
                data[name].append(None if empty else float(choice in str(value).split()))
            elif v.codes:
                data[name].append(None if empty else float(v.codes.get(str(value), -1)))
            elif v.item.type in numeric:
                data[name].append(None if empty else float(value))
            else:
                data[name].append("" if empty else str(value))
    numeric_columns = {"interview_id", "simulated"} | {
        name
        for name, v, choice in expanded
        if choice is not None or v.codes or v.item.type in numeric
    }
    frame = pd.DataFrame(
        {
            name: pd.Series(values, dtype="float64")
            if name in numeric_columns
            else pd.Series(values, dtype="object")
            for name, values in data.items()
        }
    )
    return frame, labels, value_labels, len(interviews)


def statistical(wave: Wave, kind: str) -> tuple[bytes, int]:
    import pyreadstat

    frame, labels, value_labels, count = _frame(wave)
    note = "SIMULATED DATA" if wave.is_simulated else ""
    file_label = f"{wave.study.slug} {wave.name}{' (simulated)' if note else ''}"[:80]
    with tempfile.TemporaryDirectory(prefix="triangulum-export-") as folder:
        target = Path(folder) / f"export.{kind}"
        column_labels = [labels.get(c, c) for c in frame.columns]
        if kind == "sav":
            pyreadstat.write_sav(
                frame,
                str(target),
                file_label=file_label,
                column_labels=column_labels,
                variable_value_labels=value_labels,
                note=note or None,
            )
        else:
            pyreadstat.write_dta(
                frame,
                str(target),
                file_label=file_label,
                column_labels=column_labels,
                variable_value_labels=value_labels,
            )
        return target.read_bytes(), count


def build(wave: Wave, kind: str) -> tuple[bytes, int]:
    if kind == "wide":
        return wide(wave)
    if kind == "wide-labels":
        return wide(wave, labels=True)
    if kind == "long":
        return long(wave)
    if kind == "dictionary":
        return dictionary(wave)
    if kind == "paradata":
        return paradata(wave)
    if kind in ("sav", "dta"):
        return statistical(wave, kind)
    raise ValueError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")
