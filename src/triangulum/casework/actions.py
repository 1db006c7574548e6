"""Every change to case-study material: sources and turns, the codebook, codings, memos, cases.

Each function takes keyword arguments, checks everything before writing, runs in one
transaction and writes an audit event with the study's id. ``actor`` is a user, or a
string naming a system actor ("triangulum demo").

Offsets are ``[start, end)`` in code points of a source's canonical text.

Every change to the codebook (create, edit, rename, move, merge, split, import) records a
new ``CodebookVersion`` holding a snapshot of all codes; each coding records the version
current when it was made (see docs/adr/0014-casework-sources-and-codebook-versions.md).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction

from triangulum.audit.actions import record, snapshot
from triangulum.studies.models import Participant, ResearchQuestion, Study

from .importers import SourceFileError, TurnSpan, find_turns, read_source_file
from .models import (
    Case,
    Code,
    CodebookVersion,
    Coding,
    Initiative,
    Memo,
    Source,
    Turn,
)
from .textoffsets import canonicalise


class CaseworkError(ValueError):
    """A change that cannot be made; ``field`` names the input at fault, where there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
CODE_FIELDS = ("definition", "inclusion", "exclusion", "example", "colour")


# --- sources ----------------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in Source.Kind.values:
        raise CaseworkError(
            f'"{kind}" is not a kind of source; choose one of: {", ".join(Source.Kind.values)}.',
            field="kind",
        )


def _check_site_and_phase(study: Study, phase) -> None:
    if phase is not None and phase.study_id != study.id:
        raise CaseworkError(f'phase "{phase}" belongs to another study.', field="phase")


def _participants_by_label(study: Study, speaker_map: Mapping | None) -> dict[str, Participant]:
    """Speaker labels (case-folded) → participants: pseudonyms, then the explicit map."""
    by_label = {p.pseudonym.casefold(): p for p in study.participants.all()}
    for label, target in (speaker_map or {}).items():
        if isinstance(target, Participant):
            participant = target
            if participant.study_id != study.id:
                raise CaseworkError(
                    f'speaker "{label}" is mapped to {participant}, who is in another study.',
                    field="speaker_map",
                )
        else:
            participant = by_label.get(str(target).casefold())
            if participant is None:
                raise CaseworkError(
                    f'speaker "{label}" is mapped to "{target}", which is not a participant '
                    "pseudonym in this study.",
                    field="speaker_map",
                )
        by_label[" ".join(str(label).split()).casefold()] = participant
    return by_label


def _turn_rows(source: Source, turns: Iterable[TurnSpan], by_label) -> list[Turn]:
    return [
        Turn(
            source=source,
            index=index,
            speaker_label=turn.label[:100],
            participant=by_label.get(turn.label.casefold()),
            start=turn.start,
            end=turn.end,
            timestamp=turn.timestamp[:40],
        )
        for index, turn in enumerate(turns)
    ]


def _source_after(source: Source, turns: int) -> dict:
    values = snapshot(
        source,
        [
            "title",
            "kind",
            "site",
            "phase",
            "original_name",
            "original_media_type",
            "original_sha256",
            "is_simulated",
        ],
    )
    values["characters"] = len(source.text)
    values["turns"] = turns
    return values


@dataclass(frozen=True)
class SourceFile:
    """One file to import: its name and bytes, and an optional title."""

    file_name: str
    data: bytes
    title: str | None = None


def _title_from(file_name: str) -> str:
    stem = file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return (stem or file_name)[:300]


def import_sources(
    *,
    study: Study,
    files: Sequence[SourceFile],
    kind: str,
    actor,
    site=None,
    phase=None,
    speaker_map: Mapping | None = None,
    simulated: bool = False,
) -> list[Source]:
    """Import many files in one transaction: every file is read first, then all are stored.

    A file that cannot be read raises CaseworkError naming it, and nothing is stored.
    """
    _check_kind(kind)
    _check_site_and_phase(study, phase)
    by_label = _participants_by_label(study, speaker_map)
    known = list(by_label)
    read = []
    for item in files:
        try:
            read.append((item, read_source_file(item.file_name, item.data, known_labels=known)))
        except SourceFileError as error:
            raise CaseworkError(str(error), field="file") from None
    with transaction.atomic():
        sources = Source.objects.bulk_create(
            [
                Source(
                    study=study,
                    title=(item.title or _title_from(item.file_name))[:300],
                    kind=kind,
                    text=result.text,
                    site=site,
                    phase=phase,
                    original_name=result.file_name[:255],
                    original_media_type=result.media_type,
                    original_bytes=item.data,
                    original_sha256=result.sha256,
                    is_simulated=simulated,
                    created_by=_user(actor),
                )
                for item, result in read
            ]
        )
        if any(source.pk is None for source in sources):  # backends without RETURNING
            raise RuntimeError("bulk_create did not return primary keys")
        turns = []
        for source, (_, result) in zip(sources, read, strict=True):
            turns.extend(_turn_rows(source, result.turns, by_label))
        Turn.objects.bulk_create(turns, batch_size=2000)
        for source, (_, result) in zip(sources, read, strict=True):
            record(
                actor=actor,
                action="source.import",
                obj=source,
                study_id=study.id,
                after=_source_after(source, len(result.turns)),
            )
    return sources


def import_source(
    *,
    study: Study,
    file_name: str,
    data: bytes,
    kind: str,
    actor,
    site=None,
    phase=None,
    title: str | None = None,
    simulated: bool = False,
    speaker_map: Mapping | None = None,
) -> Source:
    """Import one file (.txt, .md, .docx, .pdf, .odt, .vtt, .srt), keeping the original."""
    [source] = import_sources(
        study=study,
        files=[SourceFile(file_name, data, title)],
        kind=kind,
        actor=actor,
        site=site,
        phase=phase,
        speaker_map=speaker_map,
        simulated=simulated,
    )
    return source


def create_source_from_text(
    *,
    study: Study,
    title: str,
    text: str,
    kind: str,
    actor,
    site=None,
    phase=None,
    simulated: bool = False,
    speaker_map: Mapping | None = None,
) -> Source:
    """A source from text already in hand (canonicalised here; turns recognised)."""
    _check_kind(kind)
    _check_site_and_phase(study, phase)
    title = (title or "").strip()
    if not title:
        raise CaseworkError("a source needs a title.", field="title")
    canonical, _ = canonicalise(text)
    if not canonical.strip():
        raise CaseworkError(f'source "{title}" has no text.', field="text")
    by_label = _participants_by_label(study, speaker_map)
    turns = find_turns(canonical, known_labels=list(by_label))
    with transaction.atomic():
        source = Source.objects.create(
            study=study,
            title=title[:300],
            kind=kind,
            text=canonical,
            site=site,
            phase=phase,
            is_simulated=simulated,
            created_by=_user(actor),
        )
        Turn.objects.bulk_create(_turn_rows(source, turns, by_label))
        record(
            actor=actor,
            action="source.create",
            obj=source,
            study_id=study.id,
            after=_source_after(source, len(turns)),
        )
    return source


def link_turn(*, turn: Turn, participant: Participant | None, actor) -> Turn:
    """Link a speaker turn to a participant (or unlink it with ``None``)."""
    source = turn.source
    if participant is not None and participant.study_id != source.study_id:
        raise CaseworkError(f"{participant} is in another study.", field="participant")
    with transaction.atomic():
        before = snapshot(turn, ["participant"])
        turn.participant = participant
        turn.save(update_fields=["participant"])
        record(
            actor=actor,
            action="turn.link",
            obj=turn,
            study_id=source.study_id,
            before=before,
            after=snapshot(turn, ["participant"]),
        )
    return turn


def _user(actor):
    if actor is None or isinstance(actor, str):
        return None
    return actor if getattr(actor, "is_authenticated", False) else None


# --- the codebook: versions -------------------------------------------------------------


def codebook_snapshot(study: Study) -> list[dict]:
    """Every code of the study as plain records (active or not), parents before children."""
    codes = list(Code.objects.filter(study=study).order_by("order", "name", "id"))
    rq_numbers: dict[int, list[int]] = {}
    through = Code.research_questions.through.objects.filter(code__study=study)
    for code_id, number in through.values_list("code_id", "researchquestion__number"):
        rq_numbers.setdefault(code_id, []).append(number)
    by_id = {code.id: code for code in codes}
    records = []
    for code in _parents_first(codes, by_id):
        records.append(
            {
                "id": code.id,
                "guid": str(code.guid),
                "parent": str(by_id[code.parent_id].guid) if code.parent_id else None,
                "name": code.name,
                "path": code_path(code, by_id),
                "definition": code.definition,
                "inclusion": code.inclusion,
                "exclusion": code.exclusion,
                "example": code.example,
                "colour": code.colour,
                "rq": sorted(rq_numbers.get(code.id, [])),
                "order": code.order,
                "active": code.is_active,
            }
        )
    return records


def _parents_first(codes: list[Code], by_id: dict[int, Code]) -> list[Code]:
    children: dict[int | None, list[Code]] = {}
    for code in codes:
        parent = code.parent_id if code.parent_id in by_id else None
        children.setdefault(parent, []).append(code)
    ordered: list[Code] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        code = stack.pop()
        ordered.append(code)
        stack.extend(reversed(children.get(code.id, [])))
    return ordered


def code_path(code: Code, by_id: Mapping[int, Code] | None = None) -> str:
    """``"RQ1 Modes/Formal roles"``: the names from the top of the tree down to ``code``."""
    names = []
    seen = set()
    current: Code | None = code
    while current is not None and current.id not in seen:
        seen.add(current.id)
        names.append(current.name)
        if current.parent_id is None:
            break
        current = by_id[current.parent_id] if by_id is not None else current.parent
    return "/".join(reversed(names))


def _record_version(study: Study, *, actor, note: str) -> CodebookVersion:
    latest = (
        CodebookVersion.objects.select_for_update()
        .filter(study=study)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return CodebookVersion.objects.create(
        study=study,
        number=(latest or 0) + 1,
        note=note[:300],
        snapshot=codebook_snapshot(study),
        created_by=_user(actor),
    )


def current_codebook_version(study: Study) -> CodebookVersion:
    """The study's latest codebook version (version 1, of the codebook as it is, if none)."""
    version = CodebookVersion.objects.filter(study=study).order_by("-number").first()
    if version is not None:
        return version
    with transaction.atomic():
        Study.objects.select_for_update().filter(pk=study.pk).exists()
        version = CodebookVersion.objects.filter(study=study).order_by("-number").first()
        if version is None:
            version = _record_version(study, actor=None, note="first version")
    return version


# --- the codebook: codes ----------------------------------------------------------------


def _research_questions(study: Study, research_questions) -> list[ResearchQuestion]:
    """RQ objects from objects, numbers or "RQ2"-style names; refuses unknown ones."""
    wanted = list(research_questions or ())
    if not wanted:
        return []
    available = {rq.number: rq for rq in study.research_questions.all()}
    result = []
    for item in wanted:
        if isinstance(item, ResearchQuestion):
            if item.study_id != study.id:
                raise CaseworkError(f"{item} belongs to another study.", field="research_questions")
            result.append(item)
            continue
        text = str(item).strip().upper().removeprefix("RQ")
        if not text.isdigit() or int(text) not in available:
            known = ", ".join(f"RQ{n}" for n in sorted(available)) or "none"
            raise CaseworkError(
                f'"{item}" is not a research question of this study (it has: {known}).',
                field="research_questions",
            )
        result.append(available[int(text)])
    return result


def _check_code_fields(*, name: str, colour: str) -> None:
    if not name:
        raise CaseworkError("a code needs a name.", field="name")
    if "/" in name:
        raise CaseworkError(
            f'code name "{name}" contains "/", which separates levels in code paths.',
            field="name",
        )
    if len(name) > 200:
        raise CaseworkError(
            f'code name "{name[:40]}…" is longer than 200 characters.', field="name"
        )
    if colour and not COLOUR.match(colour):
        raise CaseworkError(
            f'colour "{colour}" is not a colour of the form #RRGGBB.', field="colour"
        )


def _check_sibling_name(study: Study, *, name: str, parent, exclude_id=None) -> None:
    siblings = Code.objects.filter(study=study, parent=parent, is_active=True, name__iexact=name)
    if exclude_id is not None:
        siblings = siblings.exclude(pk=exclude_id)
    if siblings.exists():
        where = f'under "{parent.name}"' if parent is not None else "at the top level"
        raise CaseworkError(f'there is already a code "{name}" {where}.', field="name")


def _check_parent(study: Study, parent) -> None:
    if parent is not None and (parent.study_id != study.id or not parent.is_active):
        raise CaseworkError(
            f'parent code "{parent}" is not an active code of this study.', field="parent"
        )


def _code_after(code: Code) -> dict:
    values = snapshot(code, ["name", "parent", *CODE_FIELDS, "is_active", "order"])
    values["rq"] = sorted(code.research_questions.values_list("number", flat=True))
    return values


def _new_code(
    study: Study,
    *,
    name: str,
    parent=None,
    definition="",
    inclusion="",
    exclusion="",
    example="",
    colour="",
    research_questions=(),
    order: int | None = None,
) -> Code:
    """Check and create one code (no version, no audit: the caller does both)."""
    name = " ".join((name or "").split())
    colour = (colour or "").strip().lower()
    _check_code_fields(name=name, colour=colour)
    _check_parent(study, parent)
    _check_sibling_name(study, name=name, parent=parent)
    questions = _research_questions(study, research_questions)
    if order is None:
        last = (
            Code.objects.filter(study=study, parent=parent)
            .order_by("-order")
            .values_list("order", flat=True)
            .first()
        )
        order = 0 if last is None else last + 1
    code = Code.objects.create(
        study=study,
        parent=parent,
        name=name,
        definition=(definition or "").strip(),
        inclusion=(inclusion or "").strip(),
        exclusion=(exclusion or "").strip(),
        example=(example or "").strip(),
        colour=colour,
        order=order,
    )
    if questions:
        code.research_questions.set(questions)
    return code


def create_code(
    *,
    study: Study,
    name: str,
    actor,
    parent=None,
    definition="",
    inclusion="",
    exclusion="",
    example="",
    colour="",
    research_questions=(),
) -> Code:
    """Add a code (at the top level, or under ``parent``); records a codebook version."""
    with transaction.atomic():
        code = _new_code(
            study,
            name=name,
            parent=parent,
            definition=definition,
            inclusion=inclusion,
            exclusion=exclusion,
            example=example,
            colour=colour,
            research_questions=research_questions,
        )
        version = _record_version(study, actor=actor, note=f"created {code_path(code)}")
        record(
            actor=actor,
            action="code.create",
            obj=code,
            study_id=study.id,
            after={**_code_after(code), "codebook_version": version.number},
        )
    return code


def _check_active(code: Code, role: str = "code") -> None:
    if not code.is_active:
        raise CaseworkError(
            f'code "{code.name}" was merged or retired and can no longer be changed.', field=role
        )


def update_code(*, code: Code, actor, research_questions=None, **changes) -> Code:
    """Edit a code's name, definition, inclusion, exclusion, example, colour or RQs."""
    allowed = {"name", *CODE_FIELDS}
    unknown = set(changes) - allowed
    if unknown:
        raise CaseworkError(f"unknown code field(s): {', '.join(sorted(unknown))}.")
    _check_active(code)
    study = code.study
    with transaction.atomic():
        before = _code_after(code)
        if "name" in changes:
            changes["name"] = " ".join((changes["name"] or "").split())
        if "colour" in changes:
            changes["colour"] = (changes["colour"] or "").strip().lower()
        for field in CODE_FIELDS[:-1]:
            if field in changes:
                changes[field] = (changes[field] or "").strip()
        name = changes.get("name", code.name)
        _check_code_fields(name=name, colour=changes.get("colour", code.colour))
        if name.casefold() != code.name.casefold():
            _check_sibling_name(study, name=name, parent=code.parent, exclude_id=code.id)
        for field, value in changes.items():
            setattr(code, field, value)
        code.save()
        if research_questions is not None:
            code.research_questions.set(_research_questions(study, research_questions))
        after = _code_after(code)
        if after == before:
            return code
        renamed = before["name"] != after["name"]
        note = (
            f'renamed "{before["name"]}" to "{after["name"]}"'
            if renamed and len(changes) == 1
            else f"edited {code_path(code)}"
        )
        version = _record_version(study, actor=actor, note=note)
        record(
            actor=actor,
            action="code.rename" if renamed and len(changes) == 1 else "code.update",
            obj=code,
            study_id=study.id,
            before=before,
            after={**after, "codebook_version": version.number},
        )
    return code


def rename_code(*, code: Code, name: str, actor) -> Code:
    """Rename a code; its codings stay with it."""
    return update_code(code=code, actor=actor, name=name)


def move_code(*, code: Code, parent: Code | None, actor) -> Code:
    """Put ``code`` (with its sub-codes and codings) under ``parent``; refuses cycles."""
    _check_active(code)
    study = code.study
    if parent is not None:
        _check_parent(study, parent)
        parent_of = dict(Code.objects.filter(study=study).values_list("id", "parent_id"))
        current = parent.id
        while current is not None:
            if current == code.id:
                raise CaseworkError(
                    f'cannot move "{code.name}" under "{parent.name}": '
                    f'"{parent.name}" is "{code.name}" itself or one of its sub-codes.',
                    field="parent",
                )
            current = parent_of.get(current)
    if (parent.id if parent else None) == code.parent_id:
        return code
    with transaction.atomic():
        _check_sibling_name(study, name=code.name, parent=parent, exclude_id=code.id)
        before = _code_after(code)
        code.parent = parent
        code.save(update_fields=["parent"])
        where = f'under "{parent.name}"' if parent else "to the top level"
        version = _record_version(study, actor=actor, note=f'moved "{code.name}" {where}')
        record(
            actor=actor,
            action="code.move",
            obj=code,
            study_id=study.id,
            before=before,
            after={**_code_after(code), "codebook_version": version.number},
        )
    return code


def merge_codes(*, source_code: Code, target_code: Code, actor) -> Code:
    """Merge ``source_code`` into ``target_code``: its codings and sub-codes move to the
    target and it is deactivated (kept, so older versions and audit events still resolve).

    Where the same coder coded the same segment with both codes, one coding would be a
    duplicate of the other; the source's copy is deleted rather than kept twice.
    """
    study = source_code.study
    if source_code.pk == target_code.pk:
        raise CaseworkError("a code cannot be merged into itself.", field="target_code")
    if target_code.study_id != source_code.study_id:
        raise CaseworkError("codes of different studies cannot be merged.", field="target_code")
    _check_active(source_code, "source_code")
    _check_active(target_code, "target_code")
    parent_of = dict(Code.objects.filter(study=study).values_list("id", "parent_id"))
    current = target_code.parent_id
    while current is not None:
        if current == source_code.id:
            raise CaseworkError(
                f'cannot merge "{source_code.name}" into its own sub-code "{target_code.name}".',
                field="target_code",
            )
        current = parent_of.get(current)
    with transaction.atomic():
        target_spans = set(
            Coding.objects.filter(code=target_code).values_list(
                "source_id", "start", "end", "coder_id"
            )
        )
        duplicates = [
            pk
            for pk, *span in Coding.objects.filter(code=source_code).values_list(
                "pk", "source_id", "start", "end", "coder_id"
            )
            if tuple(span) in target_spans
        ]
        Coding.objects.filter(pk__in=duplicates).delete()
        moved = Coding.objects.filter(code=source_code).update(code=target_code)
        for child in Code.objects.filter(parent=source_code, is_active=True):
            _check_sibling_name(study, name=child.name, parent=target_code, exclude_id=child.id)
        Code.objects.filter(parent=source_code).update(parent=target_code)
        source_code.is_active = False
        source_code.save(update_fields=["is_active"])
        version = _record_version(
            study, actor=actor, note=f'merged "{source_code.name}" into "{target_code.name}"'
        )
        record(
            actor=actor,
            action="code.merge",
            obj=source_code,
            study_id=study.id,
            before={"code": source_code.id, "target": target_code.id},
            after={
                "codings_moved": moved,
                "duplicates_removed": len(duplicates),
                "codebook_version": version.number,
            },
        )
    return target_code


@dataclass(frozen=True)
class SplitPart:
    """One new code a split makes, and which of the old code's codings go to it.

    Codings are chosen by ``coding_ids``, or by ``rule`` (a callable taking a segment
    record — ``casework.queries.Segment`` — and returning True for codings it takes).
    """

    name: str
    coding_ids: tuple[int, ...] = ()
    rule: object = None
    definition: str = ""
    colour: str = ""


def split_code(
    *, code: Code, parts: Sequence[SplitPart], actor, retire: bool = False
) -> list[Code]:
    """Split ``code`` into new sub-codes, dividing its codings between them.

    The new codes are made children of ``code``; a coding goes to the first part that
    claims it, and codings no part claims stay with ``code``. With ``retire=True`` every
    coding must be claimed and ``code`` is deactivated afterwards.
    """
    from .queries import segments_for_code  # queries imports nothing from here at load time

    _check_active(code)
    study = code.study
    if not parts:
        raise CaseworkError("a split needs at least one part.", field="parts")
    names = [" ".join(p.name.split()).casefold() for p in parts]
    if len(set(names)) != len(names):
        raise CaseworkError("two parts of the split have the same name.", field="parts")
    segments = segments_for_code(study, code, include_subcodes=False)
    own_ids = {s.coding_id for s in segments}
    claims: dict[int, int] = {}
    for index, part in enumerate(parts):
        if part.coding_ids and part.rule is not None:
            raise CaseworkError(
                f'part "{part.name}": give coding ids or a rule, not both.', field="parts"
            )
        foreign = set(part.coding_ids) - own_ids
        if foreign:
            raise CaseworkError(
                f'part "{part.name}": coding(s) {", ".join(map(str, sorted(foreign)))} are not '
                f'codings of "{code.name}".',
                field="parts",
            )
        chosen = (
            [s.coding_id for s in segments if part.rule(s)]
            if part.rule is not None
            else list(part.coding_ids)
        )
        for coding_id in chosen:
            claims.setdefault(coding_id, index)
    if retire and set(claims) != own_ids:
        left = sorted(own_ids - set(claims))
        raise CaseworkError(
            f'{len(left)} coding(s) of "{code.name}" would be left on a retired code '
            f"(first: {left[:5]}); assign every coding to a part.",
            field="parts",
        )
    with transaction.atomic():
        new_codes = [
            _new_code(
                study,
                name=part.name,
                parent=code,
                definition=part.definition,
                colour=part.colour or code.colour,
                research_questions=list(code.research_questions.all()),
            )
            for part in parts
        ]
        moved = []
        for index, new_code in enumerate(new_codes):
            ids = [cid for cid, owner in claims.items() if owner == index]
            moved.append(Coding.objects.filter(pk__in=ids, code=code).update(code=new_code))
        if retire:
            code.is_active = False
            code.save(update_fields=["is_active"])
        version = _record_version(
            study,
            actor=actor,
            note=f'split "{code.name}" into ' + ", ".join(f'"{c.name}"' for c in new_codes),
        )
        record(
            actor=actor,
            action="code.split",
            obj=code,
            study_id=study.id,
            before={"code": code.id, "codings": len(own_ids)},
            after={
                "parts": [
                    {"code": c.id, "name": c.name, "codings": n}
                    for c, n in zip(new_codes, moved, strict=True)
                ],
                "retired": retire,
                "codebook_version": version.number,
            },
        )
    return new_codes


# --- codings ----------------------------------------------------------------------------


def _check_span(source: Source, start: int, end: int, length: int | None = None) -> None:
    if length is None:
        length = len(source.text)
    if not (isinstance(start, int) and isinstance(end, int)):
        raise CaseworkError("a segment's start and end must be whole numbers.", field="start")
    if not 0 <= start < end <= length:
        raise CaseworkError(
            f"segment [{start}, {end}) is not a non-empty span within "
            f'"{source.title}" ({length} characters).',
            field="start" if not 0 <= start < length else "end",
        )


def apply_coding(
    *,
    source: Source,
    code: Code,
    start: int,
    end: int,
    coder,
    actor=None,
    simulated: bool = False,
    version: CodebookVersion | None = None,
) -> Coding:
    """Code ``[start, end)`` of ``source`` with ``code`` for ``coder``.

    ``version`` lets a bulk caller pass the current codebook version it already looked
    up; by default it is looked up here (one indexed query).
    """
    if code.study_id != source.study_id:
        raise CaseworkError(f'code "{code.name}" belongs to another study.', field="code")
    if not code.is_active:
        raise CaseworkError(
            f'code "{code.name}" was merged or retired; choose the code it became.', field="code"
        )
    if coder is None or isinstance(coder, str):
        raise CaseworkError("a coding needs a coder (a user).", field="coder")
    _check_span(source, start, end)
    with transaction.atomic():
        if version is None:
            version = (
                CodebookVersion.objects.filter(study_id=source.study_id).order_by("-number").first()
            ) or current_codebook_version(source.study)
        elif version.study_id != source.study_id:
            raise CaseworkError("codebook version of another study.", field="version")
        coding = Coding.objects.create(
            source=source,
            code=code,
            start=start,
            end=end,
            coder=coder,
            codebook_version=version,
            is_simulated=simulated,
        )
        record(
            actor=actor if actor is not None else coder,
            action="coding.apply",
            obj=coding,
            object_label=f"{code.name} [{start}, {end})",
            study_id=source.study_id,
            after={
                "source": source.id,
                "code": code.id,
                "start": start,
                "end": end,
                "coder": coder.id,
                "codebook_version": version.number,
            },
        )
    return coding


def adjust_coding(*, coding: Coding, start: int, end: int, actor) -> Coding:
    """Move a coding's boundaries (its code, coder and version stay)."""
    source = coding.source
    _check_span(source, start, end)
    if (start, end) == (coding.start, coding.end):
        return coding
    with transaction.atomic():
        before = {"start": coding.start, "end": coding.end}
        coding.start, coding.end = start, end
        coding.save(update_fields=["start", "end"])
        record(
            actor=actor,
            action="coding.adjust",
            obj=coding,
            object_label=f"{coding.code.name} [{start}, {end})",
            study_id=source.study_id,
            before=before,
            after={"start": start, "end": end},
        )
    return coding


def delete_coding(*, coding: Coding, actor) -> None:
    with transaction.atomic():
        before = snapshot(coding, ["source", "code", "start", "end", "coder", "codebook_version"])
        study_id = coding.source.study_id
        label = f"{coding.code.name} [{coding.start}, {coding.end})"
        coding_id = coding.pk
        coding.delete()
        record(
            actor=actor,
            action="coding.delete",
            object_type="casework.coding",
            object_id=str(coding_id),
            object_label=label,
            study_id=study_id,
            before=before,
        )


# --- memos and cases --------------------------------------------------------------------


def add_memo(
    *,
    study: Study,
    text: str,
    author,
    title="",
    source=None,
    code=None,
    coding=None,
    case=None,
    initiative=None,
) -> Memo:
    """A memo on the study, or on one source, code, coding, case or initiative of it."""
    text = (text or "").strip()
    if not text:
        raise CaseworkError("a memo needs some text.", field="text")
    for name, target, study_id in (
        ("source", source, getattr(source, "study_id", None)),
        ("code", code, getattr(code, "study_id", None)),
        ("coding", coding, coding.source.study_id if coding is not None else None),
        ("case", case, getattr(case, "study_id", None)),
        ("initiative", initiative, getattr(initiative, "study_id", None)),
    ):
        if target is not None and study_id != study.id:
            raise CaseworkError(f"the {name} belongs to another study.", field=name)
    with transaction.atomic():
        memo = Memo.objects.create(
            study=study,
            title=(title or "").strip()[:300],
            text=text,
            author=_user(author),
            source=source,
            code=code,
            coding=coding,
            case=case,
            initiative=initiative,
        )
        record(
            actor=author,
            action="memo.add",
            obj=memo,
            study_id=study.id,
            after=snapshot(
                memo, ["title", "text", "source", "code", "coding", "case", "initiative"]
            ),
        )
    return memo


def update_memo(*, memo: Memo, text: str, actor, title: str | None = None) -> Memo:
    text = (text or "").strip()
    if not text:
        raise CaseworkError("a memo needs some text.", field="text")
    with transaction.atomic():
        before = snapshot(memo, ["title", "text"])
        memo.text = text
        if title is not None:
            memo.title = title.strip()[:300]
        memo.save()
        record(
            actor=actor,
            action="memo.update",
            obj=memo,
            study_id=memo.study_id,
            before=before,
            after=snapshot(memo, ["title", "text"]),
        )
    return memo


def ensure_case(
    *,
    study: Study,
    kind: str,
    name: str,
    actor,
    organisation=None,
    participant=None,
    initiative: Initiative | None = None,
    attributes: dict | None = None,
) -> Case:
    """The case of this kind and name, created if missing; given attributes are merged in.

    Audited only when something changes, so calling it again is cheap and silent.
    """
    if kind not in Case.Kind.values:
        raise CaseworkError(
            f'"{kind}" is not a kind of case; choose one of: {", ".join(Case.Kind.values)}.',
            field="kind",
        )
    name = " ".join((name or "").split())
    if not name:
        raise CaseworkError("a case needs a name.", field="name")
    if participant is not None and participant.study_id != study.id:
        raise CaseworkError(f"{participant} is in another study.", field="participant")
    if initiative is not None and initiative.study_id != study.id:
        raise CaseworkError(f'initiative "{initiative}" is in another study.', field="initiative")
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(study=study, kind=kind, name=name).first()
        before = (
            snapshot(case, ["organisation", "participant", "initiative", "attributes"])
            if case
            else None
        )
        if case is None:
            case = Case(study=study, kind=kind, name=name)
        if organisation is not None:
            case.organisation = organisation
        if participant is not None:
            case.participant = participant
        if initiative is not None:
            case.initiative = initiative
        if attributes:
            case.attributes = {**(case.attributes or {}), **attributes}
        after = snapshot(case, ["organisation", "participant", "initiative", "attributes"])
        if after != before:
            case.save()
            record(
                actor=actor,
                action="case.create" if before is None else "case.update",
                obj=case,
                study_id=study.id,
                before=before,
                after={"kind": kind, "name": name, **after},
            )
    return case


def attach_sources_to_case(*, case: Case, sources: Iterable[Source], actor) -> Case:
    sources = list(sources)
    for source in sources:
        if source.study_id != case.study_id:
            raise CaseworkError(f'source "{source}" is in another study.', field="sources")
    with transaction.atomic():
        existing = set(case.sources.values_list("pk", flat=True))
        new = [s for s in sources if s.pk not in existing]
        if new:
            case.sources.add(*new)
            record(
                actor=actor,
                action="case.attach_sources",
                obj=case,
                study_id=case.study_id,
                after={"sources": [s.pk for s in new]},
            )
    return case


# --- the codebook: import and the built-in framework ------------------------------------


@dataclass(frozen=True)
class CodebookImport:
    """What importing a codebook did."""

    version: CodebookVersion
    created: int
    updated: int
    unchanged: int


def _active_codes_by_path(study: Study) -> dict[str, Code]:
    codes = list(Code.objects.filter(study=study))
    by_id = {c.id: c for c in codes}
    return {code_path(c, by_id).casefold(): c for c in codes if c.is_active}


def import_codebook(
    *,
    study: Study,
    records,
    actor,
    note: str,
    update_existing: bool = True,
    file_name: str = "codebook",
) -> CodebookImport:
    """Bring the codebook in line with ``records`` (CodeRecords, parents first).

    A record whose path names an existing active code updates it (unless
    ``update_existing`` is False); any other record creates a code under its parent.
    Codes not in the records are left alone. Everything is checked before anything is
    written; one codebook version is recorded if anything changed.
    """
    from .codebook.records import CodebookFileError, check_records

    records = check_records(list(records), file_name)
    existing = _active_codes_by_path(study)
    available_rqs = set(study.research_questions.values_list("number", flat=True))
    used_guids = set(Code.objects.filter(study=study).values_list("guid", flat=True))
    for entry in records:
        unknown = sorted(set(entry.rq) - available_rqs)
        if unknown:
            raise CodebookFileError(
                file_name,
                f"{', '.join(f'RQ{n}' for n in unknown)} is not a research question of this "
                f"study (it has: {', '.join(f'RQ{n}' for n in sorted(available_rqs)) or 'none'})",
                row=entry.row,
                column="rq",
            )
    created = updated = unchanged = 0
    with transaction.atomic():
        Study.objects.select_for_update().filter(pk=study.pk).exists()
        rqs = {rq.number: rq for rq in study.research_questions.all()}
        for entry in records:
            key = entry.path.casefold()
            fields = {
                "definition": entry.definition,
                "inclusion": entry.inclusion,
                "exclusion": entry.exclusion,
                "example": entry.example,
                "colour": entry.colour.lower(),
            }
            code = existing.get(key)
            if code is not None:
                current_rq = tuple(sorted(code.research_questions.values_list("number", flat=True)))
                same = all(getattr(code, k) == v for k, v in fields.items()) and (
                    current_rq == tuple(sorted(entry.rq))
                )
                if same or not update_existing:
                    unchanged += 1
                    continue
                for name, value in fields.items():
                    setattr(code, name, value)
                code.save()
                code.research_questions.set([rqs[n] for n in entry.rq])
                updated += 1
                continue
            parent = existing.get(entry.parent_path.casefold()) if entry.parent_path else None
            code = _new_code(
                study,
                name=entry.name,
                parent=parent,
                research_questions=[rqs[n] for n in entry.rq],
                **fields,
            )
            if entry.guid:
                try:
                    guid = uuid.UUID(entry.guid)
                except ValueError:
                    guid = None
                if guid is not None and guid not in used_guids:
                    code.guid = guid
                    code.save(update_fields=["guid"])
                    used_guids.add(guid)
            existing[key] = code
            created += 1
        if created or updated:
            version = _record_version(study, actor=actor, note=note)
            record(
                actor=actor,
                action="codebook.import",
                object_type="casework.codebookversion",
                object_id=str(version.pk),
                object_label=f"{version}: {note}"[:300],
                study_id=study.id,
                after={
                    "created": created,
                    "updated": updated,
                    "unchanged": unchanged,
                    "codebook_version": version.number,
                },
            )
        else:
            version = current_codebook_version(study)
    return CodebookImport(version, created, updated, unchanged)


def install_builtin_codebook(*, study: Study, actor) -> CodebookVersion:
    """Install the CCG study's initial framework; idempotent.

    Codes of the framework the study lacks are added; codes it already has are left as
    the researchers have refined them. A second call changes nothing.
    """
    from .codebook.framework import builtin_framework

    name, records = builtin_framework()
    return import_codebook(
        study=study,
        records=records,
        actor=actor,
        note=f"installed {name}",
        update_existing=False,
        file_name="ccg-framework.toml",
    ).version
