"""Checks that a Project keeps the exchange model's invariants, so it can be written validly.

The reader establishes these invariants for what it reads; a project built by other code
(the database export a later session adds) is checked here before it is written.
"""

from __future__ import annotations

import re

from .. import textoffsets
from .model import VARIABLE_TYPES, Project, TextSource

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _strings(value, where: str):
    """Every string inside ``value`` (a dataclass tree) with a description of where it is."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, tuple):
        for item in value:
            yield from _strings(item, where)
    elif hasattr(value, "__dataclass_fields__"):
        label = getattr(value, "name", "") or getattr(value, "guid", "")
        for name in value.__dataclass_fields__:
            # Source texts travel as .txt files, not inside the XML.
            if name == "deviations" or (name == "text" and isinstance(value, TextSource)):
                continue
            yield from _strings(getattr(value, name), f"{type(value).__name__} {label!r} {name}")


def export_problems(project: Project) -> list[str]:
    """Every reason ``project`` cannot be written as a valid ``.qdpx`` (empty if none)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for where, text in _strings(project, "project"):
        bad = _NOT_XML.search(text)
        if bad:
            problems.append(f"{where}: holds U+{ord(bad.group()):04X}, which XML cannot carry")

    def define(guid: str, what: str) -> None:
        if not _GUID.match(guid):
            problems.append(f"{what}: {guid!r} is not a lower-case GUID")
        elif guid in seen:
            problems.append(f"{what}: GUID {guid} is also used by {seen[guid]}")
        else:
            seen[guid] = what

    for user in project.users:
        define(user.guid, f"user {user.name!r}")
    codes = list(project.all_codes())
    for code in codes:
        define(code.guid, f"code {code.name!r}")
        if not code.name:
            problems.append(f"code {code.guid}: has no name")
        if code.colour is not None and not _COLOUR.match(code.colour):
            problems.append(f"code {code.name!r}: colour {code.colour!r} is not #rrggbb")
    code_guids = {code.guid for code in codes}
    variable_types = {}
    for variable in project.variables:
        define(variable.guid, f"variable {variable.name!r}")
        if variable.type not in VARIABLE_TYPES:
            problems.append(f"variable {variable.name!r}: type {variable.type!r} is not standard")
        variable_types[variable.guid] = variable.type
    for source in project.sources:
        what = f"source {source.name!r}"
        define(source.guid, what)
        if source.text is None:
            problems.append(f"{what}: has no text (it was missing when read)")
            continue
        if not textoffsets.is_canonical(source.text):
            problems.append(f"{what}: text is not canonical (NFC with \\n line endings)")
        for selection in source.selections:
            define(selection.guid, f"selection {selection.guid} in {what}")
            if not 0 <= selection.start <= selection.end <= len(source.text):
                problems.append(
                    f"{what}: selection [{selection.start}, {selection.end}) is outside its "
                    f"text of {len(source.text)} characters"
                )
            for coding in selection.codings:
                define(coding.guid, f"coding {coding.guid} in {what}")
                if coding.code_guid not in code_guids:
                    problems.append(f"{what}: coding {coding.guid} refers to an unknown code")
        for coding in source.codings:
            define(coding.guid, f"coding {coding.guid} in {what}")
            if coding.code_guid not in code_guids:
                problems.append(f"{what}: coding {coding.guid} refers to an unknown code")
    if project.other_sources:
        problems.append(
            f"{len(project.other_sources)} non-text source(s) cannot be written: Triangulum "
            "exports plain-text sources only"
        )
    for case in project.cases:
        define(case.guid, f"case {case.name!r}")
        for value in case.variable_values:
            if value.variable_guid not in variable_types:
                problems.append(
                    f"case {case.name!r}: value for unknown variable {value.variable_guid}"
                )
    for note in project.notes:
        define(note.guid, f"note {note.name!r}")
    for item in project.sets:
        define(item.guid, f"set {item.name!r}")
    return problems
