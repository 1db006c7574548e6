"""A study's case-study material to and from REFI-QDA projects (see docs/adr/0017).

``import_project`` maps the exchange model (``casework.refi``) onto the database: the code
tree with a new codebook version, plain-text sources (original kept), codings owned by
their coders, cases with their variables, notes as memos, and sets. ``export_project``
builds the exchange model from a study, for ``casework.refi``'s writer.

A project holds thousands of codings, so the import writes rows in bulk inside one
transaction and records one summary audit event instead of one event per row. Everything
is checked before the first write; a refused import leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

import triangulum
from triangulum.audit.actions import record
from triangulum.studies.models import Study

from . import refi
from .actions import CaseworkError, codebook_snapshot
from .importers import find_turns
from .models import Case, Code, CodebookVersion, Coding, Memo, Source, Turn
from .refi.archive import open_container
from .refi.reader import NON_GUID_NAMESPACE
from .refi.xmltree import parse

# Triangulum's own identifiers for things that have no GUID in the database (users,
# variables, selections): name-based, so the same study exports the same GUIDs.
EXPORT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:triangulum:refi-qda:export")
PLACEHOLDER_PREFIX = "refi-"
SET_MEMO_PREFIX = "REFI-QDA set: "
# "/" separates levels in code paths, so a "/" inside a code's name is stored as U+2215
# (which looks the same) and written back as "/".
PATH_SEPARATOR, NAME_SLASH = "/", "\u2215"
_SECTIONS = (("inclusion", "Inclusion"), ("exclusion", "Exclusion"), ("example", "Example"))
_CASE_KIND_NOTE = re.compile(r"^Triangulum case kind: (\w+)$")
_MEMBER_LINE = re.compile(r"^- (code|source|note) .*\{([0-9a-f-]{36})\}\s*$", re.MULTILINE)
_GUID = re.compile(
    r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$"
)


class ExchangeError(CaseworkError):
    """An import refused, with every reason in ``problems``; nothing was stored."""

    def __init__(self, message: str, problems: list[str] | None = None, *, field=None):
        self.problems = list(problems or [])
        full = message + "".join(f"\n- {p}" for p in self.problems)
        super().__init__(full, field=field)


class MissingSourcesError(ExchangeError):
    """The project lacks some source texts and the user did not choose to import the rest."""


@dataclass
class ImportReport:
    """What an import stored, what it left out and what it adjusted."""

    project_name: str
    origin: str
    kind: str
    counts: dict[str, int] = field(default_factory=dict)
    missing_sources: list[str] = field(default_factory=list)
    not_imported: list[str] = field(default_factory=list)
    adjusted: list[str] = field(default_factory=list)
    placeholders_created: list[str] = field(default_factory=list)
    codebook_version: int | None = None
    deviations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "project": self.project_name,
            "origin": self.origin,
            "kind": self.kind,
            "counts": self.counts,
            "codebook_version": self.codebook_version,
            "missing_sources": self.missing_sources,
            "not_imported": self.not_imported,
            "adjusted": self.adjusted,
            "placeholders_created": self.placeholders_created,
            "deviations": self.deviations,
        }


# --- import -------------------------------------------------------------------------------


def _normal_guid(raw: str) -> str:
    """The reader's form of an identifier: a lower-case GUID, or a UUID5 of a non-GUID."""
    match = _GUID.match(raw.strip())
    return match.group(1).lower() if match else str(uuid.uuid5(NON_GUID_NAMESPACE, raw.strip()))


def original_texts(path: Path) -> dict[str, tuple[str, bytes]]:
    """Each text source's text as the file holds it (before canonicalisation), by GUID.

    The reader gives canonical text only; the original is kept beside it, as for any
    imported file, so what the exporter wrote can always be looked at again.
    """
    container = open_container(Path(path))
    found: dict[str, tuple[str, bytes]] = {}
    try:
        root = parse(container.xml_bytes, container.xml_name)
        for node in root.iter():
            if node.tag != "TextSource" or "guid" not in node.attrs:
                continue
            guid = _normal_guid(node.attrs["guid"])
            content = node.find("PlainTextContent")
            where = node.attrs.get("plainTextPath", "")
            if content is not None:
                found[guid] = (f"{guid}.txt", content.text.encode("utf-8"))
            elif where.startswith("internal://"):
                name = where[len("internal://") :]
                data = container.read_internal(name)
                if data is not None:
                    found[guid] = (name, data)
    finally:
        container.close()
    return found


def _split_description(description: str) -> dict[str, str]:
    """A REFI description as code fields; "Inclusion:"/"Exclusion:"/"Example:" paragraphs
    at its end (as Triangulum writes them) go back to their own fields."""
    fields = {"definition": description.strip(), "inclusion": "", "exclusion": "", "example": ""}
    paragraphs = description.strip().split("\n\n")
    while paragraphs:
        last = paragraphs[-1]
        for name, label in _SECTIONS:
            if last.startswith(f"{label}: ") and not fields[name]:
                fields[name] = last[len(label) + 2 :].strip()
                paragraphs.pop()
                break
        else:
            break
    fields["definition"] = "\n\n".join(paragraphs).strip()
    return fields


def _join_description(code: Code) -> str:
    parts = [code.definition.strip()] if code.definition.strip() else []
    for name, label in _SECTIONS:
        value = getattr(code, name).strip()
        if value:
            parts.append(f"{label}: {value}")
    return "\n\n".join(parts)


def _username_for(name: str) -> str:
    cleaned = re.sub(r"[^\w.@+-]+", "-", name.strip(), flags=re.ASCII).strip("-") or "user"
    return (PLACEHOLDER_PREFIX + cleaned)[:150]


def _is_placeholder(user) -> bool:
    return (
        user.username.startswith(PLACEHOLDER_PREFIX)
        and not user.is_active
        and not user.has_usable_password()
    )


def _jsonable_value(value):
    if isinstance(value, Decimal):
        if not value.is_finite():  # "NaN" parses as a Decimal but JSON has no such number
            return str(value)
        if value == value.to_integral_value() and "." not in str(value):
            return int(value)
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


class _Importer:
    def __init__(self, *, study: Study, project: refi.Project, actor, accept_missing: bool,
                 coder_map: Mapping | None, case_kind: str, originals: dict) -> None:  # fmt: skip
        self.study = study
        self.project = project
        self.actor = actor
        self.accept_missing = accept_missing
        self.coder_map = dict(coder_map or {})
        self.case_kind = case_kind
        self.originals = originals
        self.report = ImportReport(project.name, project.origin, project.kind)
        self.problems: list[str] = []

    # -- checks, all before any write ------------------------------------------------------

    def check(self) -> None:
        project = self.project
        missing = project.missing_sources()
        if missing and not self.accept_missing:
            details = [str(d) for d in project.deviations if d.kind == "missing"]
            if len(details) != len(missing):
                details = [f"TextSource {s.name!r} ({s.guid})" for s in missing]
            raise MissingSourcesError(
                f"{len(missing)} source text(s) are missing from {project.name!r}; nothing "
                "was imported. Import the rest anyway with --accept-missing-sources.",
                details,
                field="accept_missing_sources",
            )
        if self.case_kind not in Case.Kind.values:
            raise ExchangeError(
                f'"{self.case_kind}" is not a kind of case; choose one of: '
                f"{', '.join(Case.Kind.values)}.",
                field="case_kind",
            )
        self.check_guid_clashes()
        self.check_users()
        if self.problems:
            raise ExchangeError(
                f"{project.name!r} cannot be imported into study {self.study.slug!r}; nothing "
                "was imported.",
                self.problems,
            )

    def check_guid_clashes(self) -> None:
        # The same GUID already in the study means this file came from the study or was
        # imported into it before: merging would need decisions the import cannot make.
        study = self.study
        for label, model, guids in (
            ("code", Code, {c.guid for c in self.project.all_codes()}),
            ("source", Source, {s.guid for s in self.project.sources if s.text is not None}),
            ("case", Case, {c.guid for c in self.project.cases}),
            (
                "note",
                Memo,
                {n.guid for n in self.project.notes} | {s.guid for s in self.project.sets},
            ),
        ):
            if not guids:
                continue
            clashes = list(
                model.objects.filter(study=study, guid__in=list(guids)).values_list(
                    "guid", flat=True
                )
            )
            for guid in sorted(str(g) for g in clashes)[:20]:
                self.problems.append(
                    f"{label} {guid} is already in this study (the file was exported from it or "
                    "imported into it before); import into a new study instead"
                )
            if len(clashes) > 20:
                self.problems.append(f"… and {len(clashes) - 20} more {label}(s) already present")

    def check_users(self) -> None:
        User = get_user_model()
        self.users: dict[str, object] = {}
        self.new_placeholders: dict[str, str] = {}
        for user in self.project.users:
            target = None
            for key in (user.guid, user.name, user.id):
                if key and key in self.coder_map:
                    target = self.coder_map[key]
                    break
            if target is not None:
                if isinstance(target, str):
                    found = User.objects.filter(username=target).first()
                    if found is None:
                        self.problems.append(
                            f"user {user.name or user.guid!r} is mapped to {target!r}, which is "
                            "not a Triangulum account"
                        )
                        continue
                    target = found
                self.users[user.guid] = target
                continue
            username = _username_for(user.name or user.id or user.guid[:8])
            existing = User.objects.filter(username=username).first()
            if existing is not None and not _is_placeholder(existing):
                self.problems.append(
                    f"user {user.name!r} would become the placeholder account {username!r}, "
                    "but a real account has that name; map this user to an account (coder_map)"
                )
                continue
            if existing is not None:
                self.users[user.guid] = existing
            else:
                self.new_placeholders[user.guid] = username

    # -- writing ---------------------------------------------------------------------------

    def run(self) -> ImportReport:
        self.check()
        with transaction.atomic():
            self.create_placeholders()
            self.store_codes()
            self.store_sources()
            self.store_codings()
            self.store_cases()
            self.store_notes()
            self.store_sets()
            self.report.deviations = [str(d) for d in self.project.deviations]
            record(
                actor=self.actor,
                action="casework.refi_import",
                obj=self.study,
                study_id=self.study.id,
                after={
                    "project": self.project.name,
                    "origin": self.project.origin,
                    "counts": self.report.counts,
                    "codebook_version": self.report.codebook_version,
                    "missing_sources": self.report.missing_sources,
                    "placeholders_created": self.report.placeholders_created,
                    "adjusted": self.report.adjusted[:200],
                    "not_imported": self.report.not_imported[:200],
                },
            )
        return self.report

    def create_placeholders(self) -> None:
        User = get_user_model()
        made: dict[str, object] = {}
        for guid, username in self.new_placeholders.items():
            if username in made:  # two REFI users with one name are one placeholder
                self.users[guid] = made[username]
                continue
            account = User(username=username, is_active=False)
            account.set_unusable_password()
            account.save()
            made[username] = account
            self.users[guid] = account
            self.report.placeholders_created.append(username)
        self.report.counts["users"] = len({u.pk for u in self.users.values()})

    def user_for(self, guid: str | None):
        if guid is not None and guid in self.users:
            return self.users[guid]
        return None

    def fallback_coder(self):
        """Who owns a coding the file attributes to no known user: the importing user,
        or else one placeholder for the file's unattributed codings."""
        if getattr(self, "_fallback", None) is None:
            actor = self.actor
            if actor is not None and not isinstance(actor, str) and actor.is_authenticated:
                self._fallback = actor
            else:
                User = get_user_model()
                username = PLACEHOLDER_PREFIX + "unattributed"
                account = User.objects.filter(username=username).first()
                if account is None:
                    account = User(username=username, is_active=False)
                    account.set_unusable_password()
                    account.save()
                    self.report.placeholders_created.append(username)
                self._fallback = account
        return self._fallback

    # codes

    def store_codes(self) -> None:
        self.codes: dict[str, Code] = {}
        # Sibling names must differ (case aside); the study's own top-level codes count.
        used_names: dict[tuple[int, str], int] = defaultdict(int)
        for name in Code.objects.filter(study=self.study, parent=None, is_active=True).values_list(
            "name", flat=True
        ):
            used_names[(id(None), name.casefold())] += 1
        level = [(code, None, order) for order, code in enumerate(self.project.codes)]
        while level:
            rows, children = [], []
            for code, parent, order in level:
                name = " ".join(code.name.split()) or f"Code {code.guid[:8]}"
                if PATH_SEPARATOR in name:
                    name = name.replace(PATH_SEPARATOR, NAME_SLASH)
                    self.report.adjusted.append(
                        f'code {code.name!r}: "/" stored as U+2215, since "/" separates code paths'
                    )
                if len(name) > 200:
                    self.report.adjusted.append(
                        f"code {code.name[:40]!r}…: name cut to 200 characters"
                    )
                    name = name[:200]
                key = (id(parent), name.casefold())
                used_names[key] += 1
                if used_names[key] > 1:
                    renamed = f"{name[:190]} ({used_names[key]})"
                    self.report.adjusted.append(
                        f"code {name!r} is already a code at that level; imported as {renamed!r}"
                    )
                    name = renamed
                    used_names[(id(parent), name.casefold())] += 1
                fields = _split_description(code.description)
                rows.append(
                    Code(
                        study=self.study,
                        guid=uuid.UUID(code.guid),
                        parent=parent,
                        name=name,
                        colour=code.colour or "",
                        order=order,
                        **fields,
                    )
                )
                if not code.is_codable:
                    self.report.adjusted.append(
                        f"code {name!r} is marked not codable in the file; Triangulum codes are all codable"
                    )
            created = Code.objects.bulk_create(rows)
            for (code, _, _), row in zip(level, created, strict=True):
                self.codes[code.guid] = row
                children.extend((child, row, i) for i, child in enumerate(code.children))
            level = children
        self.report.counts["codes"] = len(self.codes)
        latest = (
            CodebookVersion.objects.select_for_update()
            .filter(study=self.study)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        origin = f" ({self.project.origin})" if self.project.origin else ""
        self.version = CodebookVersion.objects.create(
            study=self.study,
            number=(latest or 0) + 1,
            note=f"imported from REFI-QDA {self.project.kind} {self.project.name!r}{origin}"[:300],
            snapshot=codebook_snapshot(self.study),
            created_by=self.user_or_none(self.actor),
        )
        self.report.codebook_version = self.version.number

    @staticmethod
    def user_or_none(actor):
        if actor is None or isinstance(actor, str) or not actor.is_authenticated:
            return None
        return actor

    # sources

    def store_sources(self) -> None:
        self.sources: dict[str, Source] = {}
        participants = {p.pseudonym.casefold(): p for p in self.study.participants.all()}
        rows, kept = [], []
        for source in self.project.sources:
            if source.text is None:
                self.report.missing_sources.append(f"{source.name} ({source.guid})")
                continue
            turns = find_turns(source.text, known_labels=list(participants))
            title = (source.name.strip() or f"Source {source.guid[:8]}")[:300]
            original_name, original = self.originals.get(
                source.guid, (f"{source.guid}.txt", source.text.encode("utf-8"))
            )
            rows.append(
                Source(
                    study=self.study,
                    guid=uuid.UUID(source.guid),
                    title=title,
                    kind=Source.Kind.INTERVIEW if turns else Source.Kind.DOCUMENT,
                    text=source.text,
                    description=source.description,
                    original_name=original_name[:255],
                    original_media_type="text/plain",
                    original_bytes=original,
                    original_sha256=hashlib.sha256(original).hexdigest(),
                    created_by=self.user_for(source.creating_user) or self.user_or_none(self.actor),
                )
            )
            kept.append((source, turns))
            if source.variable_values:
                self.report.not_imported.append(
                    f"source {source.name!r}: {len(source.variable_values)} variable value(s) "
                    "(Triangulum keeps variables on cases)"
                )
        created = Source.objects.bulk_create(rows, batch_size=200)
        turn_rows = []
        for (source, turns), row in zip(kept, created, strict=True):
            self.sources[source.guid] = row
            for index, turn in enumerate(turns):
                turn_rows.append(
                    Turn(
                        source=row,
                        index=index,
                        speaker_label=turn.label[:100],
                        participant=participants.get(turn.label.casefold()),
                        start=turn.start,
                        end=turn.end,
                        timestamp=turn.timestamp[:40],
                    )
                )
        Turn.objects.bulk_create(turn_rows, batch_size=2000)
        self.report.counts["sources"] = len(self.sources)
        if self.project.other_sources:
            self.report.not_imported.append(
                f"{len(self.project.other_sources)} picture, PDF, audio or video source(s)"
            )

    # codings

    def store_codings(self) -> None:
        self.codings: dict[str, Coding] = {}
        self.selection_first_coding: dict[str, str] = {}
        self.selection_source: dict[str, Source] = {}
        rows, keys = [], []
        seen_guids: set[str] = set()
        empty = unattached = 0

        def add(source_row, start, end, coding, fallback_user):
            nonlocal empty
            if end <= start:
                empty += 1
                return None
            guid = coding.guid if coding.guid not in seen_guids else str(uuid.uuid4())
            seen_guids.add(guid)
            coder = (
                self.user_for(coding.creating_user)
                or self.user_for(fallback_user)
                or self.fallback_coder()
            )
            rows.append(
                Coding(
                    source=source_row,
                    code=self.codes[coding.code_guid],
                    start=start,
                    end=end,
                    coder=coder,
                    codebook_version=self.version,
                    guid=uuid.UUID(guid),
                )
            )
            keys.append(coding.guid)
            return coding.guid

        for source in self.project.sources:
            row = self.sources.get(source.guid)
            if row is None:
                dropped = len(source.codings) + sum(len(s.codings) for s in source.selections)
                if dropped:
                    self.report.not_imported.append(
                        f"{dropped} coding(s) in {source.name!r}, whose text is missing"
                    )
                continue
            for selection in source.selections:
                self.selection_source[selection.guid] = row
                if not selection.codings:
                    unattached += 1
                for coding in selection.codings:
                    made = add(row, selection.start, selection.end, coding, selection.creating_user)
                    if made is not None:
                        self.selection_first_coding.setdefault(selection.guid, made)
            for coding in source.codings:
                add(row, 0, len(row.text), coding, source.creating_user)
        created = Coding.objects.bulk_create(rows, batch_size=2000)
        for key, row in zip(keys, created, strict=True):
            self.codings.setdefault(key, row)
        self.report.counts["codings"] = len(created)
        if empty:
            self.report.not_imported.append(f"{empty} coding(s) of empty selections")
        if unattached:
            self.report.not_imported.append(
                f"{unattached} selection(s) without a code (Triangulum keeps coded segments only)"
            )

    # cases

    def store_cases(self) -> None:
        self.cases: dict[str, Case] = {}
        variables = {v.guid: v for v in self.project.variables}
        taken = set(Case.objects.filter(study=self.study).values_list("kind", "name"))
        rows, memberships = [], []
        for case in self.project.cases:
            kind = self.case_kind
            match = _CASE_KIND_NOTE.match(case.description)
            if match and match.group(1) in Case.Kind.values:
                kind = match.group(1)
            elif case.description:
                self.report.not_imported.append(
                    f"case {case.name!r}: its description (Triangulum cases have none)"
                )
            name = " ".join(case.name.split())[:300] or f"Case {case.guid[:8]}"
            base, number = name, 1
            while (kind, name) in taken:
                number += 1
                name = f"{base[:290]} ({number})"
            if name != base:
                self.report.adjusted.append(
                    f"case {base!r} already exists as a {kind} case; imported as {name!r}"
                )
            taken.add((kind, name))
            attributes = {
                variables[v.variable_guid].name: _jsonable_value(v.value)
                for v in case.variable_values
                if v.value is not None and v.variable_guid in variables
            }
            rows.append(
                Case(study=self.study, guid=uuid.UUID(case.guid), kind=kind, name=name,
                     attributes=attributes)
            )  # fmt: skip
            sources = [self.sources[g] for g in case.source_refs if g in self.sources]
            for guid in case.selection_refs:
                source = self.selection_source.get(guid)
                if source is not None and source not in sources:
                    sources.append(source)
            memberships.append(sources)
            if case.code_refs:
                self.report.not_imported.append(
                    f"case {case.name!r}: {len(case.code_refs)} code reference(s)"
                )
            if case.selection_refs:
                self.report.adjusted.append(
                    f"case {case.name!r}: selection references kept as links to their sources"
                )
        created = Case.objects.bulk_create(rows)
        through = Case.sources.through
        links = []
        for case, row, sources in zip(self.project.cases, created, memberships, strict=True):
            self.cases[case.guid] = row
            links.extend(through(case_id=row.pk, source_id=s.pk) for s in sources)
        through.objects.bulk_create(links, batch_size=2000)
        self.report.counts["cases"] = len(created)
        self.report.counts["variables"] = len(self.project.variables)

    # notes

    def note_owners(self) -> dict[str, dict[str, object]]:
        owners: dict[str, dict[str, object]] = defaultdict(dict)
        extra: list[str] = []

        def attach(note_guid: str, field_name: str, target) -> None:
            if target is None:
                return
            slot = owners[note_guid]
            if field_name in slot and slot[field_name] is not target:
                extra.append(note_guid)
                return
            slot[field_name] = target

        for code in self.project.all_codes():
            for guid in code.note_refs:
                attach(guid, "code", self.codes.get(code.guid))
        for source in self.project.sources:
            for guid in source.note_refs:
                attach(guid, "source", self.sources.get(source.guid))
            for selection in source.selections:
                first = self.selection_first_coding.get(selection.guid)
                for guid in selection.note_refs:
                    attach(guid, "coding", self.codings.get(first) if first else None)
                for coding in selection.codings:
                    for guid in coding.note_refs:
                        attach(guid, "coding", self.codings.get(coding.guid))
        if extra:
            self.report.adjusted.append(
                f"{len(extra)} note reference(s) beyond the first of their kind kept only once "
                "(a memo is attached to one source, code and coding at most)"
            )
        return owners

    def store_notes(self) -> None:
        owners = self.note_owners()
        rows = []
        for note in self.project.notes:
            rows.append(
                Memo(
                    study=self.study,
                    guid=uuid.UUID(note.guid),
                    title=note.name[:300],
                    text=note.text,
                    author=self.user_for(note.creating_user) or self.user_or_none(self.actor),
                    **owners.get(note.guid, {}),
                )
            )
        Memo.objects.bulk_create(rows)
        self.report.counts["notes"] = len(rows)

    # sets

    def store_sets(self) -> None:
        # Triangulum has no model for REFI-QDA sets: each is kept as a study memo whose
        # member lines carry the members' GUIDs, readable by people and by the export.
        code_names = {c.guid: c.name for c in self.project.all_codes()}
        source_names = {s.guid: s.name for s in self.project.sources}
        note_names = {n.guid: n.name for n in self.project.notes}
        rows = []
        for item in self.project.sets:
            lines = []
            for guid in item.member_codes:
                if guid in self.codes:
                    lines.append(f"- code {code_names[guid]} {{{guid}}}")
            for guid in item.member_sources:
                if guid in self.sources:
                    lines.append(f"- source {source_names[guid]} {{{guid}}}")
                else:
                    self.report.not_imported.append(
                        f"set {item.name!r}: member source {source_names.get(guid, guid)!r} "
                        "(its text is missing)"
                    )
            for guid in item.member_notes:
                if guid in note_names:
                    lines.append(f"- note {note_names[guid] or guid} {{{guid}}}")
            text = (
                (item.description + "\n\n" if item.description else "")
                + "Members (one per line; the GUID in braces identifies each):\n"
                + "\n".join(lines)
            )
            rows.append(
                Memo(
                    study=self.study,
                    guid=uuid.UUID(item.guid),
                    title=(SET_MEMO_PREFIX + item.name)[:300],
                    text=text,
                    author=self.user_or_none(self.actor),
                )
            )
        Memo.objects.bulk_create(rows)
        self.report.counts["sets"] = len(rows)


def import_project(
    *,
    study: Study,
    actor,
    project: refi.Project | None = None,
    path: str | Path | None = None,
    accept_missing_sources: bool = False,
    coder_map: Mapping | None = None,
    case_kind: str = Case.Kind.PARTICIPANT,
    crlf_counts_as: int = 2,
) -> ImportReport:
    """Import a REFI-QDA project (or codebook) into ``study``; give ``project`` or ``path``.

    Refuses (ExchangeError, nothing stored) a file with missing source texts unless
    ``accept_missing_sources``, and any file whose codes, sources, cases or notes carry
    GUIDs already in the study. REFI users become inactive placeholder accounts
    ``refi-<name>`` unless ``coder_map`` maps their GUID, name or id to an account (or a
    username). ``case_kind`` is the kind given to the file's cases.
    """
    if (project is None) == (path is None):
        raise TypeError("give either project or path")
    originals: dict = {}
    if path is not None:
        project = refi.read_refi(path, crlf_counts_as=crlf_counts_as)
        if project.kind == "project" and project.sources:
            originals = original_texts(Path(path))
    importer = _Importer(
        study=study, project=project, actor=actor, accept_missing=accept_missing_sources,
        coder_map=coder_map, case_kind=case_kind, originals=originals,
    )  # fmt: skip
    return importer.run()


# --- export -------------------------------------------------------------------------------


def _guid(*parts) -> str:
    return str(uuid.uuid5(EXPORT_NAMESPACE, ":".join(str(p) for p in parts)))


def _exported_name(user) -> str:
    # A placeholder goes back out under the name it came in with.
    if _is_placeholder(user):
        return user.username[len(PLACEHOLDER_PREFIX) :]
    return user.username


def _variable_type(values: list) -> str:
    if all(isinstance(v, bool) for v in values):
        return "Boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "Integer"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "Float"
    return "Text"


def _typed(value, kind: str):
    if kind == "Float":
        return Decimal(str(value))
    if kind == "Text" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return value


def _clean_colour(colour: str) -> str | None:
    colour = (colour or "").strip().lower()
    return colour if re.fullmatch(r"#[0-9a-f]{6}", colour) else None


def export_project(study: Study, *, user=None) -> refi.Project:
    """The exchange model of ``study``: codes, plain-text sources with their codings,
    users, cases with variables, memos as notes, and sets.

    ``user`` limits codings to what that user may see (blind reliability checks);
    None exports everything, as for the study lead.
    """
    from .queries import visibility_filter

    users: dict[int, refi.User] = {}

    def user_guid(account) -> str | None:
        if account is None:
            return None
        if account.pk not in users:
            name = _exported_name(account)
            users[account.pk] = refi.User(guid=_guid("user", account.username), name=name)
        return users[account.pk].guid

    # Plain rows, not model instances: a study holds 100,000 codings and more.
    codings = list(
        Coding.objects.filter(source__study=study)
        .filter(visibility_filter(study, user) if user is not None else Q())
        .order_by("source_id", "start", "end", "id")
        .values_list("id", "source_id", "start", "end", "code_id", "coder_id", "guid",
                     "created_at", named=True)
    )  # fmt: skip
    accounts = get_user_model().objects.in_bulk({c.coder_id for c in codings})

    def coder_guid(coder_id: int) -> str | None:
        return user_guid(accounts[coder_id])

    used_code_ids = {c.code_id for c in codings}
    all_codes = list(Code.objects.filter(study=study).order_by("order", "name", "id"))
    wanted = {c.id for c in all_codes if c.is_active or c.id in used_code_ids}
    # An inactive code that still holds codings needs its ancestors in the tree too.
    parent_of = {c.id: c.parent_id for c in all_codes}
    for code_id in list(wanted):
        current = parent_of.get(code_id)
        while current is not None and current not in wanted:
            wanted.add(current)
            current = parent_of.get(current)
    memos = list(
        Memo.objects.filter(study=study).select_related("author").order_by("created_at", "id")
    )
    set_memos = [m for m in memos if m.title.startswith(SET_MEMO_PREFIX)]
    note_memos = [m for m in memos if not m.title.startswith(SET_MEMO_PREFIX)]
    visible_coding_ids = {c.id for c in codings}
    note_memos = [m for m in note_memos if m.coding_id is None or m.coding_id in visible_coding_ids]
    memo_refs: dict[tuple[str, int], list[str]] = defaultdict(list)
    for memo in note_memos:
        for kind in ("code", "source", "coding"):
            target = getattr(memo, f"{kind}_id")
            if target is not None:
                memo_refs[(kind, target)].append(str(memo.guid))

    children: dict[int | None, list[Code]] = defaultdict(list)
    for code in all_codes:
        if code.id in wanted:
            parent = code.parent_id if code.parent_id in wanted else None
            children[parent].append(code)

    def build(code: Code) -> refi.Code:
        return refi.Code(
            guid=str(code.guid),
            name=code.name.replace(NAME_SLASH, PATH_SEPARATOR),
            colour=_clean_colour(code.colour),
            description=_join_description(code),
            note_refs=tuple(memo_refs.get(("code", code.id), ())),
            children=tuple(build(child) for child in children.get(code.id, [])),
        )

    codes = tuple(build(code) for code in children.get(None, []))
    code_guids = {c.id: str(c.guid) for c in all_codes}

    by_source: dict[int, list] = defaultdict(list)
    for coding in codings:
        by_source[coding.source_id].append(coding)
    sources = []
    source_rows = list(
        Source.objects.filter(study=study).select_related("created_by").order_by("title", "id")
    )
    for source in source_rows:
        spans: dict[tuple[int, int], list[Coding]] = {}
        for coding in by_source.get(source.id, []):
            spans.setdefault((coding.start, coding.end), []).append(coding)
        selections = []
        for (start, end), group in spans.items():
            selections.append(
                refi.TextSelection(
                    guid=_guid("selection", source.guid, start, end),
                    start=start,
                    end=end,
                    creating_user=coder_guid(group[0].coder_id),
                    created=group[0].created_at,
                    codings=tuple(
                        refi.Coding(
                            guid=str(c.guid),
                            code_guid=code_guids[c.code_id],
                            creating_user=coder_guid(c.coder_id),
                            created=c.created_at,
                            note_refs=tuple(memo_refs.get(("coding", c.id), ())),
                        )
                        for c in group
                    ),
                )
            )
        sources.append(
            refi.TextSource(
                guid=str(source.guid),
                name=source.title,
                text=source.text,
                description=source.description.strip(),
                creating_user=user_guid(source.created_by),
                created=source.created_at,
                selections=tuple(selections),
                note_refs=tuple(memo_refs.get(("source", source.id), ())),
            )
        )

    cases = list(
        Case.objects.filter(study=study).prefetch_related("sources").order_by("kind", "name")
    )
    values_by_name: dict[str, list] = defaultdict(list)
    for case in cases:
        for name, value in (case.attributes or {}).items():
            if value is not None:
                values_by_name[name].append(value)
    variables = {
        name: refi.Variable(guid=_guid("variable", study.slug, name), name=name,
                            type=_variable_type(values))
        for name, values in sorted(values_by_name.items())
    }  # fmt: skip
    exported_cases = tuple(
        refi.Case(
            guid=str(case.guid),
            name=case.name,
            description=f"Triangulum case kind: {case.kind}",
            variable_values=tuple(
                refi.VariableValue(variables[name].guid, _typed(value, variables[name].type))
                for name, value in sorted((case.attributes or {}).items())
                if value is not None
            ),
            source_refs=tuple(str(s.guid) for s in sorted(case.sources.all(), key=lambda s: s.id)),
        )
        for case in cases
    )

    notes = tuple(
        refi.Note(
            guid=str(memo.guid),
            name=memo.title,
            text=memo.text.strip(),
            creating_user=user_guid(memo.author),
            created=memo.created_at,
        )
        for memo in note_memos
    )
    attached = {guid for refs in memo_refs.values() for guid in refs}
    project_note_refs = tuple(
        str(m.guid)
        for m in note_memos
        if str(m.guid) not in attached and m.case_id is None and m.initiative_id is None
    )
    sets = _export_sets(set_memos, code_guids.values(), [s.guid for s in source_rows],
                        [n.guid for n in notes])  # fmt: skip
    return refi.Project(
        name=study.title or study.slug,
        origin=f"Triangulum {triangulum.__version__}",
        users=tuple(users.values()),
        codes=codes,
        variables=tuple(variables.values()),
        cases=exported_cases,
        sources=tuple(sources),
        notes=notes,
        sets=sets,
        note_refs=project_note_refs,
    )


def _export_sets(set_memos, code_guids, source_guids, note_guids) -> tuple[refi.Set, ...]:
    codes = {str(g) for g in code_guids}
    sources = {str(g) for g in source_guids}
    notes = {str(g) for g in note_guids}
    found = []
    for memo in set_memos:
        members: dict[str, list[str]] = {"code": [], "source": [], "note": []}
        for kind, guid in _MEMBER_LINE.findall(memo.text):
            if guid in {"code": codes, "source": sources, "note": notes}[kind]:
                members[kind].append(guid)
        head = memo.text.split("Members (one per line", 1)[0].strip()
        found.append(
            refi.Set(
                guid=str(memo.guid),
                name=memo.title[len(SET_MEMO_PREFIX) :] or str(memo.guid),
                description=head,
                member_codes=tuple(members["code"]),
                member_sources=tuple(members["source"]),
                member_notes=tuple(members["note"]),
            )
        )
    return tuple(found)


def export_qdpx(study: Study, out: str | Path, *, user=None, actor=None) -> Path:
    """Write ``study`` as a ``.qdpx`` (valid against Project.xsd) and audit the export."""
    project = export_project(study, user=user)
    path = refi.write_qdpx(project, out)
    counts = project.counts()
    record(
        actor=actor if actor is not None else user,
        action="casework.refi_export",
        obj=study,
        study_id=study.id,
        after={"file": Path(out).name, "counts": counts},
    )
    return path
