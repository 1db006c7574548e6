"""Reading REFI-QDA files (``.qdpx``, ``.qde``, ``.qdc``) into the exchange model.

The reader is lenient where real exports depart from the standard and strict about
well-formedness: every departure it tolerates becomes a Deviation naming the place, and
a file that is not XML at all raises BrokenFileError with line and column.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .. import textoffsets
from .archive import Container, open_container
from .errors import BrokenFileError
from .model import (
    VARIABLE_TYPES,
    Case,
    Code,
    Coding,
    Deviation,
    Note,
    OtherSource,
    Project,
    Set,
    TextSelection,
    TextSource,
    User,
    Variable,
    VariableValue,
)
from .xmltree import Node, parse

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
# Stable, so a non-GUID identifier maps to the same UUID in every read of the file.
NON_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:triangulum:refi-qda:non-guid-identifier")

_GUID = re.compile(
    r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$"
)
_COLOUR = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")

# The children each element may have, in the order Project.xsd / Codebook.xsd require.
_SEQUENCES: dict[str, tuple[str, ...]] = {
    "Project": (
        "Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links", "Sets",
        "Graphs", "Description", "NoteRef",
    ),
    "CodeBook": ("Codes", "Sets"),
    "Users": ("User",),
    "Codes": ("Code",),
    "Code": ("Description", "NoteRef", "Code"),
    "Variables": ("Variable",),
    "Variable": ("Description",),
    "Cases": ("Case",),
    "Case": ("Description", "CodeRef", "VariableValue", "SourceRef", "SelectionRef"),
    "Sets": ("Set",),
    "Set": ("Description", "MemberCode", "MemberSource", "MemberNote"),
    "Notes": ("Note",),
    "Note": (
        "Description", "PlainTextContent", "PlainTextSelection", "Coding", "NoteRef",
        "VariableValue",
    ),
    "TextSource": (
        "Description", "PlainTextContent", "PlainTextSelection", "Coding", "NoteRef",
        "VariableValue",
    ),
    "PlainTextSelection": ("Description", "Coding", "NoteRef"),
    "Coding": ("CodeRef", "NoteRef"),
}  # fmt: skip
_VALUE_ELEMENTS = {
    "TextValue": "Text",
    "BooleanValue": "Boolean",
    "IntegerValue": "Integer",
    "FloatValue": "Float",
    "DateValue": "Date",
    "DateTimeValue": "DateTime",
}
_OTHER_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")
_OTHER_SELECTIONS = (
    "PictureSelection", "PDFSelection", "AudioSelection", "VideoSelection",
    "TranscriptSelection",
)  # fmt: skip


def read_refi(path: str | Path, *, crlf_counts_as: int = 2) -> Project:
    """Read a ``.qdpx``, ``.qde`` or ``.qdc`` file into a Project.

    ``crlf_counts_as`` says how the file's selection offsets count a ``\\r\\n`` line
    ending: 2 (code points of the text as stored, the standard's reading) or 1 (for an
    exporter that counted the text with ``\\n`` endings).
    """
    if crlf_counts_as not in (1, 2):
        raise ValueError("crlf_counts_as must be 1 or 2")
    container = open_container(Path(path))
    try:
        root = parse(container.xml_bytes, container.xml_name)
        return _Reader(container, crlf_counts_as).read(root)
    finally:
        container.close()


class _Reader:
    def __init__(self, container: Container, crlf_counts_as: int) -> None:
        self.container = container
        self.crlf_counts_as = crlf_counts_as
        self.deviations: list[Deviation] = list(container.deviations)
        self.defined: dict[str, str] = {}
        self.code_guids: set[str] = set()
        self.user_guids: set[str] = set()
        self.expected_ns = PROJECT_NS
        self.reported_foreign_ns = False

    # -- reporting --------------------------------------------------------------------

    def where(self, node: Node) -> str:
        return f"{self.container.xml_name}, line {node.line}, column {node.column}"

    def deviate(self, node: Node | None, message: str, kind: str = "nonstandard") -> None:
        location = self.where(node) if node is not None else self.container.xml_name
        self.deviations.append(Deviation(kind, location, message))

    # -- values -----------------------------------------------------------------------

    def guid(self, node: Node, attr: str = "guid", *, defines: bool = False) -> str | None:
        raw = node.attrs.get(attr)
        if raw is None:
            return None
        raw = raw.strip()
        match = _GUID.match(raw)
        if match:
            value = match.group(1).lower()
        else:
            value = str(uuid.uuid5(NON_GUID_NAMESPACE, raw))
            if defines:
                self.deviate(
                    node,
                    f"{node.tag} {attr}={raw!r} is not a GUID; Triangulum uses {value} for it",
                )
        if defines:
            if value in self.defined:
                self.deviate(node, f"GUID {value} is used again (first at {self.defined[value]})")
            else:
                self.defined[value] = self.where(node)
        return value

    def required_guid(self, node: Node) -> str:
        value = self.guid(node, defines=True)
        if value is None:
            value = str(uuid.uuid5(NON_GUID_NAMESPACE, f"{node.tag}@{node.line}:{node.column}"))
            self.deviate(node, f"{node.tag} has no guid; Triangulum uses {value} for it")
        return value

    def ref(self, node: Node) -> str | None:
        value = self.guid(node, "targetGUID")
        if value is None:
            self.deviate(node, f"{node.tag} has no targetGUID; ignored")
        return value

    def user_ref(self, node: Node, attr: str) -> str | None:
        value = self.guid(node, attr)
        if value is not None and self.user_guids and value not in self.user_guids:
            self.deviate(node, f"{attr}={node.attrs[attr]!r} names no user in <Users>")
        return value

    def datetime(self, node: Node, attr: str) -> dt.datetime | None:
        raw = node.attrs.get(attr)
        if raw is None:
            return None
        try:
            value = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            self.deviate(node, f"{attr}={raw!r} is not an xsd:dateTime; ignored")
            return None
        return value

    def boolean(self, node: Node, attr: str, default: bool) -> bool:
        raw = node.attrs.get(attr)
        if raw is None:
            self.deviate(
                node, f"{node.tag} lacks the required attribute {attr}; taken as {default}"
            )
            return default
        if raw.strip() in ("true", "1"):
            return True
        if raw.strip() in ("false", "0"):
            return False
        self.deviate(node, f"{attr}={raw!r} is not an xsd:boolean; taken as {default}")
        return default

    def integer(self, node: Node, attr: str) -> int | None:
        raw = node.attrs.get(attr)
        if raw is None:
            self.deviate(node, f"{node.tag} lacks the required attribute {attr}")
            return None
        try:
            return int(raw.strip())
        except ValueError:
            self.deviate(node, f"{attr}={raw!r} is not an integer")
            return None

    def name(self, node: Node, *, required: bool) -> str:
        value = node.attrs.get("name")
        if value is None:
            if required:
                self.deviate(node, f"{node.tag} lacks the required attribute name")
            return ""
        return value

    def colour(self, node: Node) -> str | None:
        raw = node.attrs.get("color")
        if raw is None:
            return None
        match = _COLOUR.match(raw.strip())
        if not match:
            self.deviate(node, f"color={raw!r} is not an RGB colour (#rrggbb); ignored")
            return None
        digits = match.group(1).lower()
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return f"#{digits}"

    def description(self, node: Node) -> str:
        child = node.find("Description")
        return child.text.strip() if child is not None else ""

    def note_refs(self, node: Node) -> tuple[str, ...]:
        return tuple(r for r in (self.ref(n) for n in node.findall("NoteRef")) if r)

    # -- structure --------------------------------------------------------------------

    def check_children(self, node: Node, sequence: tuple[str, ...] | None = None) -> None:
        sequence = sequence or _SEQUENCES.get(node.tag)
        if sequence is None:
            return
        position = 0
        for child in node.children:
            if child.namespace != self.expected_ns and not self.reported_foreign_ns:
                self.reported_foreign_ns = True
                self.deviate(
                    child,
                    f"element {child.tag} is in namespace {child.namespace!r}, "
                    f"not {self.expected_ns!r}; read as if it were",
                )
            if child.tag not in sequence:
                self.deviate(child, f"{node.tag} may not contain {child.tag}; ignored")
                continue
            index = sequence.index(child.tag)
            if index < position:
                self.deviate(
                    child,
                    f"{child.tag} comes after {sequence[position]} inside {node.tag}; "
                    "the standard orders them the other way",
                )
            position = max(position, index)

    # -- the document -----------------------------------------------------------------

    def read(self, root: Node) -> Project:
        if root.tag == "Project":
            kind, self.expected_ns = "project", PROJECT_NS
        elif root.tag == "CodeBook":
            kind, self.expected_ns = "codebook", CODEBOOK_NS
        else:
            raise BrokenFileError(
                f"{self.where(root)}: the root element is {root.tag}, "
                "neither a REFI-QDA Project nor a CodeBook"
            )
        self.check_namespace(root)
        self.check_children(root)
        if kind == "codebook":
            return self.read_codebook(root)
        return self.read_project(root)

    def check_namespace(self, root: Node) -> None:
        if root.namespace != self.expected_ns:
            self.deviate(
                root,
                f"the {root.tag} element is in namespace {root.namespace or 'none'!r}, "
                f"not {self.expected_ns!r}; read as if it were",
            )
        location = root.xsi_schema_location
        if location:
            declared = location.split()[0]
            if declared != self.expected_ns:
                self.deviate(
                    root,
                    f"xsi:schemaLocation names namespace {declared!r} but the document "
                    f"is {self.expected_ns!r}",
                )

    def read_codebook(self, root: Node) -> Project:
        codes_node = root.find("Codes")
        codes = self.read_codes(codes_node) if codes_node is not None else ()
        if codes_node is None:
            self.deviate(root, "CodeBook lacks the required Codes element")
        sets = self.read_sets(root.find("Sets"))
        origin = root.attrs.get("origin", "")
        return Project(
            # A codebook carries no name of its own; its file name is the best there is.
            name=Path(self.container.display_name).stem,
            kind="codebook",
            origin=origin,
            codes=codes,
            sets=sets,
            deviations=tuple(self.deviations),
        )

    def read_project(self, root: Node) -> Project:
        users = self.read_users(root.find("Users"))
        codebook = root.find("CodeBook")
        codes: tuple[Code, ...] = ()
        if codebook is not None:
            self.check_children(codebook, ("Codes",))
            codes_node = codebook.find("Codes")
            codes = self.read_codes(codes_node) if codes_node is not None else ()
        variables = self.read_variables(root.find("Variables"))
        variable_types = {v.guid: v.type for v in variables}
        cases = self.read_cases(root.find("Cases"), variable_types)
        sources, others = self.read_sources(root.find("Sources"), variable_types)
        notes = self.read_notes(root.find("Notes"))
        sets = self.read_sets(root.find("Sets"))
        for tag in ("Links", "Graphs"):
            node = root.find(tag)
            if node is not None:
                self.deviate(
                    node,
                    f"{len(node.children)} {tag[:-1].lower()}(s) not imported: Triangulum "
                    f"does not hold REFI-QDA {tag.lower()}",
                    kind="not_imported",
                )
        name = root.attrs.get("name")
        if name is None:
            self.deviate(root, "Project lacks the required attribute name")
        project = Project(
            name=name or Path(self.container.display_name).stem,
            kind="project",
            origin=root.attrs.get("origin", ""),
            description=self.description(root),
            creating_user=self.user_ref(root, "creatingUserGUID"),
            created=self.datetime(root, "creationDateTime"),
            modifying_user=self.user_ref(root, "modifyingUserGUID"),
            modified=self.datetime(root, "modifiedDateTime"),
            users=users,
            codes=codes,
            variables=variables,
            cases=cases,
            sources=sources,
            other_sources=others,
            notes=notes,
            sets=sets,
            note_refs=self.note_refs(root),
        )
        self.check_references(project)
        return dataclasses.replace(project, deviations=tuple(self.deviations))

    def read_users(self, node: Node | None) -> tuple[User, ...]:
        if node is None:
            return ()
        self.check_children(node)
        users = []
        for child in node.findall("User"):
            guid = self.required_guid(child)
            users.append(
                User(guid=guid, name=child.attrs.get("name", ""), id=child.attrs.get("id", ""))
            )
            self.user_guids.add(guid)
        return tuple(users)

    def read_codes(self, node: Node) -> tuple[Code, ...]:
        self.check_children(node)
        return tuple(self.read_code(child) for child in node.findall("Code"))

    def read_code(self, node: Node) -> Code:
        self.check_children(node)
        guid = self.required_guid(node)
        self.code_guids.add(guid)
        return Code(
            guid=guid,
            name=self.name(node, required=True),
            is_codable=self.boolean(node, "isCodable", True),
            colour=self.colour(node),
            description=self.description(node),
            note_refs=self.note_refs(node),
            children=tuple(self.read_code(child) for child in node.findall("Code")),
        )

    def read_variables(self, node: Node | None) -> tuple[Variable, ...]:
        if node is None:
            return ()
        self.check_children(node)
        variables = []
        for child in node.findall("Variable"):
            self.check_children(child)
            kind = child.attrs.get("typeOfVariable", "").strip()
            if kind not in VARIABLE_TYPES:
                self.deviate(
                    child, f"typeOfVariable={kind!r} is not one of {VARIABLE_TYPES}; taken as Text"
                )
                kind = "Text"
            variables.append(
                Variable(
                    guid=self.required_guid(child),
                    name=self.name(child, required=True),
                    type=kind,
                    description=self.description(child),
                )
            )
        return tuple(variables)

    def read_variable_values(self, node: Node, types: dict[str, str]) -> tuple[VariableValue, ...]:
        values = []
        for value_node in node.findall("VariableValue"):
            ref_node = value_node.find("VariableRef")
            target = self.ref(ref_node) if ref_node is not None else None
            if target is None:
                self.deviate(value_node, "VariableValue without a VariableRef; ignored")
                continue
            if target not in types:
                self.deviate(
                    value_node,
                    f"VariableValue refers to variable {target}, which is not defined; ignored",
                )
                continue
            holders = [c for c in value_node.children if c.tag in _VALUE_ELEMENTS]
            if not holders:
                values.append(VariableValue(target, None))
                continue
            holder = holders[0]
            declared = types[target]
            if _VALUE_ELEMENTS[holder.tag] != declared:
                self.deviate(
                    holder, f"{holder.tag} given for a {declared} variable; read as {declared}"
                )
            values.append(VariableValue(target, self.typed_value(holder, declared)))
        return tuple(values)

    def typed_value(self, node: Node, kind: str):
        raw = node.text.strip()
        try:
            if kind == "Boolean":
                if raw in ("true", "1"):
                    return True
                if raw in ("false", "0"):
                    return False
                raise ValueError(raw)
            if kind == "Integer":
                return int(raw)
            if kind == "Float":
                return Decimal(raw)
            if kind == "Date":
                return dt.date.fromisoformat(raw)
            if kind == "DateTime":
                return dt.datetime.fromisoformat(raw)
        except (ValueError, InvalidOperation):
            self.deviate(node, f"{raw!r} is not a valid {kind} value; ignored")
            return None
        return node.text

    def read_cases(self, node: Node | None, types: dict[str, str]) -> tuple[Case, ...]:
        if node is None:
            return ()
        self.check_children(node)
        cases = []
        for child in node.findall("Case"):
            self.check_children(child)
            cases.append(
                Case(
                    guid=self.required_guid(child),
                    name=self.name(child, required=False),
                    description=self.description(child),
                    code_refs=self.refs(child, "CodeRef"),
                    variable_values=self.read_variable_values(child, types),
                    source_refs=self.refs(child, "SourceRef"),
                    selection_refs=self.refs(child, "SelectionRef"),
                )
            )
        return tuple(cases)

    def refs(self, node: Node, tag: str, attr: str = "targetGUID") -> tuple[str, ...]:
        found = []
        for child in node.findall(tag):
            value = self.guid(child, attr)
            if value is None:
                self.deviate(child, f"{tag} has no {attr}; ignored")
            else:
                found.append(value)
        return tuple(found)

    # -- sources ----------------------------------------------------------------------

    def read_sources(self, node: Node | None, types: dict[str, str]):
        if node is None:
            return (), ()
        texts, others = [], []
        for child in node.children:
            if child.tag == "TextSource":
                texts.append(self.read_text_source(child, types))
            elif child.tag in _OTHER_SOURCES:
                others.append(self.read_other_source(child))
            else:
                self.deviate(child, f"Sources may not contain {child.tag}; ignored")
        return tuple(texts), tuple(others)

    def read_other_source(self, node: Node) -> OtherSource:
        guid = self.required_guid(node)
        selections = sum(1 for n in node.iter() if n.tag in _OTHER_SELECTIONS)
        codings = sum(1 for n in node.iter() if n.tag == "Coding")
        name = self.name(node, required=False)
        self.deviate(
            node,
            f"{node.tag} {name!r} ({selections} selection(s), {codings} coding(s)) not "
            "imported: Triangulum holds plain-text sources only",
            kind="not_imported",
        )
        return OtherSource(
            guid=guid, name=name, kind=node.tag, selection_count=selections, coding_count=codings
        )

    def source_text(self, node: Node, label: str) -> str | None:
        content = node.find("PlainTextContent")
        path = node.attrs.get("plainTextPath")
        if content is not None and path:
            self.deviate(
                node, f"{label} has both PlainTextContent and plainTextPath; the content is used"
            )
        if content is not None:
            return content.text
        if not path:
            self.deviate(
                node, f"{label} has neither PlainTextContent nor plainTextPath", kind="missing"
            )
            return None
        if not path.startswith("internal://"):
            self.deviate(
                node,
                f"{label}: the text is outside the file ({path}); not imported",
                kind="missing",
            )
            return None
        data = self.container.read_internal(path[len("internal://") :])
        if data is None:
            self.deviate(
                node,
                f"{label}: the text {path} is missing ({self.container.sources_description()})",
                kind="missing",
            )
            return None
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            self.deviate(
                node,
                f"{label}: the text {path} is not UTF-8 (byte {error.start}); not imported",
                kind="missing",
            )
            return None

    def read_text_source(self, node: Node, types: dict[str, str]) -> TextSource:
        self.check_children(node)
        guid = self.required_guid(node)
        name = self.name(node, required=False)
        label = f"TextSource {name!r}"
        raw = self.source_text(node, label)
        text, mapping = (None, None)
        rich = node.attrs.get("richTextPath")
        if raw is not None and not raw.strip() and rich:
            self.deviate(
                node,
                f"{label}: the plain text is empty; its content is only in the rich-text "
                f"file {rich}, which Triangulum does not read",
                kind="not_imported",
            )
        if raw is not None:
            counted = raw.replace("\r\n", "\n") if self.crlf_counts_as == 1 else raw
            text, mapping = textoffsets.canonicalise(counted)
        selections = []
        for sel_node in node.findall("PlainTextSelection"):
            selection = self.read_selection(sel_node, mapping)
            if selection is not None:
                selections.append(selection)
        return TextSource(
            guid=guid,
            name=name,
            text=text,
            description=self.description(node),
            creating_user=self.user_ref(node, "creatingUser"),
            created=self.datetime(node, "creationDateTime"),
            modifying_user=self.user_ref(node, "modifyingUser"),
            modified=self.datetime(node, "modifiedDateTime"),
            selections=tuple(selections),
            codings=self.read_codings(node),
            note_refs=self.note_refs(node),
            variable_values=self.read_variable_values(node, types),
        )

    def read_selection(
        self, node: Node, mapping: textoffsets.OffsetMap | None
    ) -> TextSelection | None:
        self.check_children(node)
        guid = self.required_guid(node)
        start = self.integer(node, "startPosition")
        end = self.integer(node, "endPosition")
        if start is None or end is None:
            self.deviate(node, "selection without usable positions; ignored")
            return None
        if not 0 <= start <= end:
            self.deviate(node, f"selection [{start}, {end}) is not a range; ignored")
            return None
        if mapping is not None:
            if end > mapping.original_length:
                self.deviate(
                    node,
                    f"selection [{start}, {end}) runs past the end of its text "
                    f"({mapping.original_length} characters); ignored",
                )
                return None
            start = mapping.to_canonical(start, side="start")
            end = mapping.to_canonical(end, side="end")
        return TextSelection(
            guid=guid,
            start=start,
            end=end,
            name=node.attrs.get("name", ""),
            description=self.description(node),
            creating_user=self.user_ref(node, "creatingUser"),
            created=self.datetime(node, "creationDateTime"),
            codings=self.read_codings(node),
            note_refs=self.note_refs(node),
        )

    def read_codings(self, node: Node) -> tuple[Coding, ...]:
        codings = []
        for coding_node in node.findall("Coding"):
            self.check_children(coding_node)
            guid = self.required_guid(coding_node)
            ref_node = coding_node.find("CodeRef")
            code = self.ref(ref_node) if ref_node is not None else None
            if code is None:
                self.deviate(coding_node, "Coding without a CodeRef; ignored")
                continue
            if code not in self.code_guids:
                self.deviate(
                    coding_node,
                    f"Coding refers to code {code}, which is not in the codebook; ignored",
                )
                continue
            codings.append(
                Coding(
                    guid=guid,
                    code_guid=code,
                    creating_user=self.user_ref(coding_node, "creatingUser"),
                    created=self.datetime(coding_node, "creationDateTime"),
                    note_refs=self.note_refs(coding_node),
                )
            )
        return tuple(codings)

    # -- notes and sets ---------------------------------------------------------------

    def read_notes(self, node: Node | None) -> tuple[Note, ...]:
        if node is None:
            return ()
        self.check_children(node)
        notes = []
        for child in node.findall("Note"):
            self.check_children(child)
            guid = self.required_guid(child)
            name = self.name(child, required=False)
            text = self.source_text(child, f"Note {name!r}")
            notes.append(
                Note(
                    guid=guid,
                    name=name,
                    text=(text or "").strip(),
                    creating_user=self.user_ref(child, "creatingUser"),
                    created=self.datetime(child, "creationDateTime"),
                )
            )
        return tuple(notes)

    def read_sets(self, node: Node | None) -> tuple[Set, ...]:
        if node is None:
            return ()
        self.check_children(node)
        sets = []
        for child in node.findall("Set"):
            self.check_children(child)
            sets.append(
                Set(
                    guid=self.required_guid(child),
                    name=self.name(child, required=True),
                    description=self.description(child),
                    member_codes=self.member_codes(child),
                    member_sources=self.refs(child, "MemberSource"),
                    member_notes=self.refs(child, "MemberNote"),
                )
            )
        return tuple(sets)

    def member_codes(self, node: Node) -> tuple[str, ...]:
        # Codebook.xsd gives MemberCode a guid attribute; Project.xsd a targetGUID.
        standard = "guid" if self.expected_ns == CODEBOOK_NS else "targetGUID"
        other = "targetGUID" if standard == "guid" else "guid"
        found = []
        for child in node.findall("MemberCode"):
            if standard in child.attrs:
                value = self.guid(child, standard)
            elif other in child.attrs:
                self.deviate(
                    child,
                    f"MemberCode uses {other}= where this document type has {standard}=; read anyway",
                )
                value = self.guid(child, other)
            else:
                self.deviate(child, f"MemberCode has no {standard}; ignored")
                continue
            found.append(value)
        return tuple(found)

    # -- cross references -------------------------------------------------------------

    def check_references(self, project: Project) -> None:
        sources = {s.guid for s in project.sources} | {s.guid for s in project.other_sources}
        selections = {sel.guid for s in project.sources for sel in s.selections}
        notes = {n.guid for n in project.notes}
        location = self.container.xml_name

        def report(owner: str, kind: str, guid: str) -> None:
            self.deviations.append(
                Deviation(
                    "nonstandard",
                    location,
                    f"{owner} refers to {kind} {guid}, which the file does not define",
                )
            )

        for case in project.cases:
            owner = f"Case {case.name!r}"
            for guid in case.code_refs:
                if guid not in self.code_guids:
                    report(owner, "code", guid)
            for guid in case.source_refs:
                if guid not in sources:
                    report(owner, "source", guid)
            for guid in case.selection_refs:
                if guid not in selections:
                    report(owner, "selection", guid)
        for item in project.sets:
            owner = f"Set {item.name!r}"
            for guid in item.member_codes:
                if guid not in self.code_guids:
                    report(owner, "code", guid)
            for guid in item.member_sources:
                if guid not in sources:
                    report(owner, "source", guid)
            for guid in item.member_notes:
                if guid not in notes:
                    report(owner, "note", guid)
        owners = [("Project", project.note_refs)]
        owners += [(f"Code {c.name!r}", c.note_refs) for c in project.all_codes()]
        for source in project.sources:
            owners.append((f"TextSource {source.name!r}", source.note_refs))
            for sel in source.selections:
                owners.append((f"PlainTextSelection {sel.guid}", sel.note_refs))
                for coding in sel.codings:
                    owners.append((f"Coding {coding.guid}", coding.note_refs))
        for owner, refs in owners:
            for guid in refs:
                if guid not in notes:
                    report(owner, "note", guid)
