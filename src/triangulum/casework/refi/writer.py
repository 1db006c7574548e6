"""Writing the exchange model as a REFI-QDA ``.qdpx`` (or a codebook as ``.qdc``).

Output is deterministic: elements in the model's order, attributes in a fixed order,
zip members in a fixed order with a fixed timestamp, so the same project always gives
the same bytes (and an export can be checked by its hash).
"""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path

from .errors import ExportError
from .model import Code, Coding, Project, TextSelection, TextSource, VariableValue
from .reader import CODEBOOK_NS, PROJECT_NS
from .validation import export_problems

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_VALUE_ELEMENT = {
    "Text": "TextValue",
    "Boolean": "BooleanValue",
    "Integer": "IntegerValue",
    "Float": "FloatValue",
    "Date": "DateValue",
    "DateTime": "DateTimeValue",
}


def _format_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        return value.isoformat()
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def _format_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return _format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _Builder:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def element(self, parent: ET.Element | None, tag: str, **attrs) -> ET.Element:
        # Tags stay unqualified and the root declares the default namespace itself:
        # ElementTree's default_namespace option refuses unqualified attributes.
        clean = {"xmlns": self.namespace} if parent is None else {}
        for key, value in attrs.items():
            if value is None or value == "":
                continue
            if isinstance(value, dt.datetime):
                value = _format_datetime(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            clean[key] = str(value)
        if parent is None:
            return ET.Element(tag, clean)
        return ET.SubElement(parent, tag, clean)

    def text_element(self, parent: ET.Element, tag: str, text: str) -> None:
        if text:
            self.element(parent, tag).text = text

    def refs(self, parent: ET.Element, tag: str, guids, attr: str = "targetGUID") -> None:
        for guid in guids:
            self.element(parent, tag, **{attr: guid})

    def code(self, parent: ET.Element, code: Code) -> None:
        node = self.element(
            parent, "Code", guid=code.guid, name=code.name, isCodable=code.is_codable,
            color=code.colour,
        )  # fmt: skip
        self.text_element(node, "Description", code.description)
        if self.namespace == PROJECT_NS:
            self.refs(node, "NoteRef", code.note_refs)
        for child in code.children:
            self.code(node, child)

    def codings(self, parent: ET.Element, codings: tuple[Coding, ...]) -> None:
        for coding in codings:
            node = self.element(
                parent, "Coding", guid=coding.guid, creatingUser=coding.creating_user,
                creationDateTime=coding.created,
            )  # fmt: skip
            self.element(node, "CodeRef", targetGUID=coding.code_guid)
            self.refs(node, "NoteRef", coding.note_refs)

    def variable_values(self, parent, values: tuple[VariableValue, ...], types: dict[str, str]):
        for value in values:
            node = self.element(parent, "VariableValue")
            self.element(node, "VariableRef", targetGUID=value.variable_guid)
            if value.value is not None:
                holder = self.element(node, _VALUE_ELEMENT[types[value.variable_guid]])
                holder.text = _format_value(value.value)

    def selection(self, parent: ET.Element, selection: TextSelection) -> None:
        node = self.element(
            parent, "PlainTextSelection", guid=selection.guid, name=selection.name,
            startPosition=selection.start, endPosition=selection.end,
            creatingUser=selection.creating_user, creationDateTime=selection.created,
        )  # fmt: skip
        self.text_element(node, "Description", selection.description)
        self.codings(node, selection.codings)
        self.refs(node, "NoteRef", selection.note_refs)

    def source(self, parent: ET.Element, source: TextSource, types: dict[str, str]) -> None:
        node = self.element(
            parent, "TextSource", guid=source.guid, name=source.name,
            plainTextPath=f"internal://{source.guid}.txt", creatingUser=source.creating_user,
            creationDateTime=source.created, modifyingUser=source.modifying_user,
            modifiedDateTime=source.modified,
        )  # fmt: skip
        self.text_element(node, "Description", source.description)
        for selection in source.selections:
            self.selection(node, selection)
        self.codings(node, source.codings)
        self.refs(node, "NoteRef", source.note_refs)
        self.variable_values(node, source.variable_values, types)


def project_xml(project: Project) -> bytes:
    """The ``project.qde`` document for ``project`` (its sources referenced by GUID)."""
    b = _Builder(PROJECT_NS)
    root = b.element(
        None, "Project", name=project.name, origin=project.origin,
        creatingUserGUID=project.creating_user, creationDateTime=project.created,
        modifyingUserGUID=project.modifying_user, modifiedDateTime=project.modified,
    )  # fmt: skip
    if project.users:
        users = b.element(root, "Users")
        for user in project.users:
            b.element(users, "User", guid=user.guid, name=user.name, id=user.id)
    if project.codes:
        codes = b.element(b.element(root, "CodeBook"), "Codes")
        for code in project.codes:
            b.code(codes, code)
    types = {variable.guid: variable.type for variable in project.variables}
    if project.variables:
        variables = b.element(root, "Variables")
        for variable in project.variables:
            node = b.element(
                variables, "Variable", guid=variable.guid, name=variable.name,
                typeOfVariable=variable.type,
            )  # fmt: skip
            b.text_element(node, "Description", variable.description)
    if project.cases:
        cases = b.element(root, "Cases")
        for case in project.cases:
            node = b.element(cases, "Case", guid=case.guid, name=case.name)
            b.text_element(node, "Description", case.description)
            b.refs(node, "CodeRef", case.code_refs)
            b.variable_values(node, case.variable_values, types)
            b.refs(node, "SourceRef", case.source_refs)
            b.refs(node, "SelectionRef", case.selection_refs)
    if project.sources:
        sources = b.element(root, "Sources")
        for source in project.sources:
            b.source(sources, source, types)
    if project.notes:
        notes = b.element(root, "Notes")
        for note in project.notes:
            node = b.element(
                notes, "Note", guid=note.guid, name=note.name,
                creatingUser=note.creating_user, creationDateTime=note.created,
            )  # fmt: skip
            # Written even when empty: a Note must hold its text or point at it.
            b.element(node, "PlainTextContent").text = note.text
    _write_sets(b, root, project)
    b.text_element(root, "Description", project.description)
    b.refs(root, "NoteRef", project.note_refs)
    return _serialise(root)


def _write_sets(b: _Builder, root: ET.Element, project: Project) -> None:
    if not project.sets:
        return
    sets = b.element(root, "Sets")
    member_attr = "guid" if b.namespace == CODEBOOK_NS else "targetGUID"
    for item in project.sets:
        node = b.element(sets, "Set", guid=item.guid, name=item.name)
        b.text_element(node, "Description", item.description)
        b.refs(node, "MemberCode", item.member_codes, member_attr)
        if b.namespace == PROJECT_NS:
            b.refs(node, "MemberSource", item.member_sources)
            b.refs(node, "MemberNote", item.member_notes)


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _check(project: Project) -> None:
    problems = export_problems(project)
    if problems:
        raise ExportError(
            f"project {project.name!r} cannot be exported as REFI-QDA:\n- " + "\n- ".join(problems)
        )


def qdpx_bytes(project: Project) -> bytes:
    """The ``.qdpx`` archive for ``project``; ExportError lists what prevents it."""
    _check(project)
    members = [("project.qde", project_xml(project))]
    members += sorted(
        (f"sources/{source.guid}.txt", source.text.encode("utf-8")) for source in project.sources
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def write_qdpx(project: Project, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(qdpx_bytes(project))
    return path


def codebook_xml(project: Project) -> bytes:
    """A standalone codebook (``.qdc``, Codebook.xsd) holding ``project``'s codes and sets."""
    if not project.codes:
        raise ExportError(f"project {project.name!r} has no codes; a codebook needs at least one")
    problems = [p for p in export_problems(project) if p.startswith(("code ", "set "))]
    if problems:
        raise ExportError("the codebook cannot be exported:\n- " + "\n- ".join(problems))
    b = _Builder(CODEBOOK_NS)
    root = b.element(None, "CodeBook", origin=project.origin)
    codes = b.element(root, "Codes")
    for code in project.codes:
        b.code(codes, code)
    _write_sets(b, root, project)
    return _serialise(root)
