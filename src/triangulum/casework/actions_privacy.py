"""Pseudonymisation: scanning sources for identifiers, deciding candidates, the key, exports.

The key (``Pseudonym``: an original and its replacement) is the secret: the audit trail
records what was decided — candidate, kind, pseudonym, source, offsets, who, when — and
never an original. Only the study lead reads the key (views_privacy).

Read-side helpers (``anonymised_text``, ``anonymised_segments``, ``key_rows``) live here
too, beside the actions whose results they read. See docs/adr/0016-pseudonymisation.md.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from triangulum.audit.actions import record
from triangulum.organisations.models import AreaLink, Organisation, OrganisationType
from triangulum.studies.models import Study

from . import pseudonymise as pz
from .actions import CaseworkError, code_path
from .models import Coding, Initiative, Pseudonym, PseudonymCandidate, Source, Turn

Kind = Pseudonym.Kind
Status = PseudonymCandidate.Status
PATTERN_KINDS = {pz.EMAIL, pz.PHONE, pz.NHS_NUMBER, pz.POSTCODE}
_GROUP_OF_TYPE = {
    OrganisationType.CCG: "ccg",
    OrganisationType.SUB_ICB: "sub_icb",
    OrganisationType.ICB: "icb",
    OrganisationType.HWB: "hwb",
    OrganisationType.PRACTICE: "practice",
}
# Organisation groups a lead may name by hand (trusts and other providers are not in the
# NHS organisation data Triangulum loads).
HAND_GROUPS = ("trust", "council", "practice", "ccg", "other")


class PrivacyError(CaseworkError):
    pass


# --- the register ---------------------------------------------------------------------


def study_organisations(study: Study) -> list[Organisation]:
    """Organisations a transcript of this study may name: its sites, participants' and
    initiatives' organisations, its sampled CCGs, their practices and their councils."""
    ids: set[int] = set()
    ids |= set(study.sources.exclude(site=None).values_list("site_id", flat=True))
    ids |= set(
        study.participants.exclude(organisation=None).values_list("organisation_id", flat=True)
    )
    ids |= set(study.cases.exclude(organisation=None).values_list("organisation_id", flat=True))
    initiatives = Initiative.objects.filter(study=study)
    ids |= set(initiatives.values_list("lead_organisation_id", flat=True))
    ids |= set(
        Initiative.partner_organisations.through.objects.filter(
            initiative__study=study
        ).values_list("organisation_id", flat=True)
    )
    sites = set(ids)
    try:
        from triangulum.sampling.models import SampleUnit

        sampled = set(
            SampleUnit.objects.filter(sample__study=study).values_list("organisation_id", flat=True)
        )
    except ImportError:  # pragma: no cover - sampling is always installed
        sampled = set()
    ids |= sampled
    # Practices and councils only around the sites the material comes from: a frame of
    # thousands of practices would flood the review queue with chance matches.
    ids |= set(
        Organisation.objects.filter(
            org_type=OrganisationType.PRACTICE, parent_id__in=sites
        ).values_list("id", flat=True)
    )
    ids |= set(AreaLink.objects.filter(commissioner_id__in=sites).values_list("hwb_id", flat=True))
    # Sites first, then the rest, each in id order: the labels of the organisations the
    # material is about come first and stay stable as the frame grows.
    return sorted(Organisation.objects.filter(id__in=ids), key=lambda o: (o.id not in sites, o.id))


@dataclass
class Register:
    people: list[pz.Person]
    organisations: list[pz.NamedOrganisation]
    terms: list[pz.Term]
    finder: pz.NameFinder


def register_for(study: Study) -> Register:
    participants = list(study.participants.select_related("contact").order_by("id"))
    # The people of the case studies (speakers, cases, initiative leaders) are numbered
    # first, so a study whose survey registered thousands of members still calls its
    # interviewees "GP member 3", not "GP member 1514".
    in_casework = set(
        Turn.objects.filter(source__study=study)
        .exclude(participant=None)
        .values_list("participant_id", flat=True)
    )
    in_casework |= set(
        study.cases.exclude(participant=None).values_list("participant_id", flat=True)
    )
    in_casework |= set(
        Initiative.leaders.through.objects.filter(initiative__study=study).values_list(
            "participant_id", flat=True
        )
    )
    participants.sort(key=lambda p: (p.id not in in_casework, p.id))
    labels = pz.participant_labels((p.id, p.role_category) for p in participants)
    organisations = study_organisations(study)
    org_labels = pz.organisation_labels(
        (o.id, _GROUP_OF_TYPE.get(o.org_type, "other")) for o in organisations
    )
    key = list(Pseudonym.objects.filter(study=study))
    # What the key already says wins over a freshly computed label.
    for p in key:
        if p.participant_id:
            labels[p.participant_id] = p.replacement
        if p.organisation_id:
            org_labels[p.organisation_id] = p.replacement
    people = []
    for participant in participants:
        contact = getattr(participant, "contact", None)
        if contact is not None and contact.full_name:
            people.append(pz.Person(participant.id, contact.full_name, labels[participant.id]))
    named = [
        pz.NamedOrganisation(
            o.id, o.name, org_labels[o.id], _GROUP_OF_TYPE.get(o.org_type, "other")
        )
        for o in organisations
    ]
    terms = _key_terms(key)
    return Register(people, named, terms, pz.NameFinder(people, named, terms))


def _key_terms(key: list[Pseudonym]) -> list[pz.Term]:
    """The names in the key, as terms a finder looks for (patterns are found by shape)."""
    return [
        pz.Term(
            p.original,
            p.kind,
            (pz.PARTICIPANT, p.participant_id)
            if p.participant_id
            else (pz.ORGANISATION, p.organisation_id)
            if p.organisation_id
            else (p.kind, f"term:{p.replacement}"),
            p.replacement,
        )
        for p in key
        if p.kind not in PATTERN_KINDS
    ]


# --- scanning -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    added: int
    removed: int
    kept: int


def _scan(source: Source, register: Register) -> ScanResult:
    found = pz.detect(source.text, finder=register.finder)
    existing = list(source.pseudonym_candidates.all())
    by_span = {(c.start, c.end): c for c in existing}
    decided = [c for c in existing if c.status != Status.PENDING]
    new, keep_ids = [], set()
    for candidate in found:
        same = by_span.get((candidate.start, candidate.end))
        if same is not None:
            keep_ids.add(same.id)
            continue
        # A decision already made on an overlapping span stands, unless the new span
        # holds it whole: a longer name found since ("Quillfeather-Jones" around an
        # accepted "Quillfeather", whose other half would otherwise show) is proposed.
        if any(
            c.start < candidate.end
            and candidate.start < c.end
            and not (candidate.start <= c.start and c.end <= candidate.end)
            for c in decided
        ):
            continue
        new.append(
            PseudonymCandidate(
                source=source,
                start=candidate.start,
                end=candidate.end,
                text=candidate.text[:300],
                kind=candidate.kind,
            )
        )
    stale = [c.id for c in existing if c.status == Status.PENDING and c.id not in keep_ids]
    PseudonymCandidate.objects.filter(id__in=stale).delete()
    PseudonymCandidate.objects.bulk_create(new)
    return ScanResult(added=len(new), removed=len(stale), kept=len(keep_ids))


def scan_source(*, source: Source, actor, register: Register | None = None) -> ScanResult:
    """Find candidate identifiers in one source; a rescan adds only what is new.

    Decided candidates (accepted or rejected) stay as decided; pending ones that are no
    longer found (the register changed) are dropped.
    """
    register = register or register_for(source.study)
    with transaction.atomic():
        result = _scan(source, register)
        record(
            actor=actor,
            action="pseudonymisation.scan",
            obj=source,
            object_label=f"scan of source {source.pk}",
            study_id=source.study_id,
            after={"added": result.added, "removed": result.removed, "kept": result.kept},
        )
    return result


def scan_study(*, study: Study, actor) -> ScanResult:
    register = register_for(study)
    totals = [0, 0, 0]
    with transaction.atomic():
        for source in Source.objects.filter(study=study).only("id", "text", "study_id"):
            result = _scan(source, register)
            totals = [totals[0] + result.added, totals[1] + result.removed, totals[2] + result.kept]
        outcome = ScanResult(*totals)
        record(
            actor=actor,
            action="pseudonymisation.scan_study",
            obj=study,
            study_id=study.id,
            after={"added": outcome.added, "removed": outcome.removed, "kept": outcome.kept},
        )
    return outcome


# --- decisions ----------------------------------------------------------------------------


def _decision_log(candidate: PseudonymCandidate, status: str) -> dict:
    return {
        "candidate": candidate.id,
        "kind": candidate.kind,
        "source": candidate.source_id,
        "start": candidate.start,
        "end": candidate.end,
        "status": status,
        "pseudonym": candidate.pseudonym.replacement if candidate.pseudonym_id else None,
    }


def _suggestion(candidate: PseudonymCandidate, register: Register) -> pz.Candidate | None:
    for found in pz.detect(candidate.text, finder=register.finder):
        if (found.start, found.end) == (0, len(candidate.text)):
            return found
    return None


def _free_label(study: Study, wanted: str, *, ref) -> str:
    """``wanted`` unless another entity already holds it; then the next in its series."""
    holders = Pseudonym.objects.filter(study=study, replacement=wanted)
    if ref is None or not holders.exists() or holders.filter(**ref).exists():
        return wanted
    stem, _, _ = wanted.rpartition(" ")
    taken = set(
        Pseudonym.objects.filter(study=study, replacement__startswith=stem + " ").values_list(
            "replacement", flat=True
        )
    )
    n = 1
    while True:
        label = f"{stem} {pz.letters(n) if stem in ('CCG', 'ICB', 'Trust', 'Council', 'Organisation') else n}"
        if label not in taken:
            return label
        n += 1


def _pseudonym_for(candidate: PseudonymCandidate, register: Register, replacement: str | None):
    study = candidate.source.study
    existing = Pseudonym.objects.filter(study=study, original=candidate.text).first()
    if existing is not None and not replacement:
        return existing, False
    kind = candidate.kind
    participant_id = organisation_id = None
    if kind in PATTERN_KINDS:
        label = pz.PATTERN_REPLACEMENTS[kind]
        ref = None
    else:
        found = _suggestion(candidate, register)
        ref_kind, ref_key = found.ref if found and found.ref else (None, None)
        if ref_kind == pz.PARTICIPANT:
            participant_id = ref_key
        elif ref_kind == pz.ORGANISATION:
            organisation_id = ref_key
        label = found.suggestion if found else (kind if kind else "identifier")
        ref = (
            {"participant_id": participant_id}
            if participant_id
            else {"organisation_id": organisation_id}
            if organisation_id
            else None
        )
        if ref is not None and not replacement:
            # Another spelling of someone already in the key takes their pseudonym.
            same_entity = Pseudonym.objects.filter(study=study, **ref).first()
            if same_entity is not None:
                label = same_entity.replacement
            else:
                label = _free_label(study, label, ref=ref)
    label = (replacement or label).strip().strip("[]").strip()
    if not label:
        raise PrivacyError("a pseudonym cannot be empty.", field="replacement")
    if existing is not None:
        existing.replacement = label[:120]
        existing.save(update_fields=["replacement"])
        return existing, False
    pseudonym = Pseudonym.objects.create(
        study=study,
        kind=kind,
        original=candidate.text,
        replacement=label[:120],
        participant_id=participant_id,
        organisation_id=organisation_id,
    )
    return pseudonym, True


def _record_new_pseudonym(pseudonym: Pseudonym, *, actor, study_id: int) -> None:
    record(
        actor=actor,
        action="pseudonym.create",
        obj=pseudonym,
        object_label=f"pseudonym {pseudonym.replacement}",
        study_id=study_id,
        after={
            "kind": pseudonym.kind,
            "replacement": pseudonym.replacement,
            "participant": pseudonym.participant_id,
            "organisation": pseudonym.organisation_id,
        },
    )


def _decide(candidate, *, status, actor, register=None, replacement=None):
    with transaction.atomic():
        candidate = (
            PseudonymCandidate.objects.select_for_update(of=("self",))
            .select_related("source__study", "pseudonym")
            .get(pk=candidate.pk)
        )
        before = _decision_log(candidate, candidate.status)
        if status == Status.ACCEPTED:
            register = register or register_for(candidate.source.study)
            pseudonym, created = _pseudonym_for(candidate, register, replacement)
            if created:
                _record_new_pseudonym(pseudonym, actor=actor, study_id=candidate.source.study_id)
            candidate.pseudonym = pseudonym
        else:
            candidate.pseudonym = None
        candidate.status = status
        candidate.decided_by = actor if not isinstance(actor, str) and actor is not None else None
        candidate.decided_at = timezone.now()
        candidate.save()
        record(
            actor=actor,
            action=f"pseudonym_candidate.{'accept' if status == Status.ACCEPTED else 'reject'}",
            obj=candidate,
            study_id=candidate.source.study_id,
            before=before,
            after=_decision_log(candidate, status),
        )
    return candidate


def accept_candidate(
    *, candidate: PseudonymCandidate, actor, replacement: str | None = None
) -> PseudonymCandidate:
    """Accept a candidate: its span will read ``[pseudonym]`` in every anonymised text.

    The pseudonym is the study-wide one for that original (or for the same person or
    organisation under another spelling); ``replacement`` overrides it.
    """
    return _decide(candidate, status=Status.ACCEPTED, actor=actor, replacement=replacement)


def reject_candidate(*, candidate: PseudonymCandidate, actor) -> PseudonymCandidate:
    """Not an identifier (a chance match): the text stays as it is."""
    return _decide(candidate, status=Status.REJECTED, actor=actor)


def accept_all_of_kind(*, study: Study, kind: str, actor, register: Register | None = None) -> int:
    """Accept every pending candidate of one kind in the study; returns how many.

    Each candidate still gets its own audit event (the log of every replacement); the
    pseudonym of each distinct original is settled once.
    """
    if kind not in Kind.values:
        raise PrivacyError(
            f'"{kind}" is not a kind of identifier; choose one of: {", ".join(Kind.values)}.',
            field="kind",
        )
    with transaction.atomic():
        pending = list(
            PseudonymCandidate.objects.select_for_update()
            .filter(source__study=study, kind=kind, status=Status.PENDING)
            .select_related("source__study")
            .order_by("source_id", "start")
        )
        if not pending:
            return 0
        if register is None and kind not in PATTERN_KINDS:
            register = register_for(study)
        by_original: dict[str, Pseudonym] = {}
        now = timezone.now()
        decided_by = actor if not isinstance(actor, str) and actor is not None else None
        for candidate in pending:
            before = _decision_log(candidate, candidate.status)
            pseudonym = by_original.get(candidate.text)
            if pseudonym is None:
                pseudonym, created = _pseudonym_for(candidate, register, None)
                if created:
                    _record_new_pseudonym(pseudonym, actor=actor, study_id=study.id)
                by_original[candidate.text] = pseudonym
            candidate.pseudonym = pseudonym
            candidate.status = Status.ACCEPTED
            candidate.decided_by = decided_by
            candidate.decided_at = now
            record(
                actor=actor,
                action="pseudonym_candidate.accept",
                obj=candidate,
                study_id=study.id,
                before=before,
                after=_decision_log(candidate, Status.ACCEPTED),
            )
        PseudonymCandidate.objects.bulk_update(
            pending, ["pseudonym", "status", "decided_by", "decided_at"], batch_size=500
        )
    return len(pending)


def add_identifier(
    *,
    study: Study,
    original: str,
    actor,
    kind: str = Kind.ORGANISATION,
    group: str = "other",
    replacement: str | None = None,
) -> Pseudonym:
    """Put a name the register does not hold into the key (a trust, a ward, a nickname);
    the next scan finds it. Its pseudonym is ``replacement`` or the next in ``group``
    ("Trust A", "Trust B")."""
    original = " ".join((original or "").split())
    if not original:
        raise PrivacyError("give the name or identifier to add.", field="original")
    if kind not in Kind.values:
        raise PrivacyError(f'"{kind}" is not a kind of identifier.', field="kind")
    if group not in HAND_GROUPS:
        raise PrivacyError(
            f'"{group}" is not a group; choose one of: {", ".join(HAND_GROUPS)}.', field="group"
        )
    with transaction.atomic():
        existing = Pseudonym.objects.filter(study=study, original=original).first()
        if existing is not None:
            return existing
        if not replacement:
            word, style = pz.ORGANISATION_GROUPS[group]
            taken = set(
                Pseudonym.objects.filter(
                    study=study, replacement__startswith=word + " "
                ).values_list("replacement", flat=True)
            )
            n = 1
            while f"{word} {pz.letters(n) if style == 'letter' else n}" in taken:
                n += 1
            replacement = f"{word} {pz.letters(n) if style == 'letter' else n}"
        pseudonym = Pseudonym.objects.create(
            study=study, kind=kind, original=original, replacement=replacement.strip("[] ")[:120]
        )
        record(
            actor=actor,
            action="pseudonym.create",
            obj=pseudonym,
            object_label=f"pseudonym {pseudonym.replacement}",
            study_id=study.id,
            after={"kind": kind, "replacement": pseudonym.replacement, "added_by_hand": True},
        )
    return pseudonym


# --- reading: anonymised texts ---------------------------------------------------------------


def _accepted(source: Source) -> list[PseudonymCandidate]:
    return list(
        source.pseudonym_candidates.filter(status=Status.ACCEPTED)
        .exclude(pseudonym=None)
        .select_related("pseudonym")
        .order_by("start", "end")
    )


def anonymised_text(
    source: Source, accepted: list[PseudonymCandidate] | None = None
) -> tuple[str, pz.OffsetMap]:
    """The source's text with every accepted identifier read as ``[pseudonym]``.

    ``accepted`` lets a caller that loaded the study's decisions at once pass them in.
    """
    accepted = pz.resolve_overlaps(
        pz.Candidate(c.start, c.end, "", c.kind, None, c.pseudonym.replacement)
        for c in (_accepted(source) if accepted is None else accepted)
    )
    return pz.anonymise(
        source.text, [pz.Replacement(c.start, c.end, c.suggestion) for c in accepted]
    )


def key_rows(study: Study) -> list[Pseudonym]:
    """The key, for the lead: every original with its pseudonym."""
    return list(Pseudonym.objects.filter(study=study).order_by("replacement", "original"))


def label_anonymiser(study: Study):
    """A function that pseudonymises short labels (titles, case names, memo text) with the
    key as it stands: every original in the key, as a whole word in any case, becomes
    ``[pseudonym]``, and so do the forms the finder knows of a name in the key (possessive,
    double-barrelled, with initials, broken across a line)."""
    rows = sorted(Pseudonym.objects.filter(study=study), key=lambda p: -len(p.original))
    if not rows:
        return lambda text: text
    table = {p.original.casefold(): p.replacement for p in rows}
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(p.original) for p in rows) + r")(?!\w)",
        re.IGNORECASE,
    )
    finder = pz.NameFinder(terms=_key_terms(rows))

    def anonymise_label(text: str) -> str:
        if not text:
            return text
        found = [
            *finder.find(text),
            *(
                pz.Candidate(
                    m.start(), m.end(), m.group(), "key", None, table[m.group().casefold()]
                )
                for m in pattern.finditer(text)
            ),
        ]
        replaced, _ = pz.anonymise(
            text,
            [pz.Replacement(c.start, c.end, c.suggestion) for c in pz.resolve_overlaps(found)],
        )
        return replaced

    return anonymise_label


@dataclass(frozen=True)
class AnonymisedSegment:
    coding_id: int
    source_id: int
    code: str
    coder: str
    start: int
    end: int
    text: str


def anonymised_segments(
    source: Source, text: str, offsets: pz.OffsetMap, codings, paths: dict[int, str] | None = None
) -> list:
    """Codings as they fall in the anonymised text (code paths from ``paths`` if given)."""
    paths = dict(paths or {})
    out = []
    for coding in codings:
        if coding.code_id not in paths:
            paths[coding.code_id] = code_path(coding.code)
        start, end = offsets.segment(coding.start, coding.end)
        out.append(
            AnonymisedSegment(
                coding.id,
                source.id,
                paths[coding.code_id],
                coding.coder.get_username(),
                start,
                end,
                text[start:end],
            )
        )
    return out


# --- export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    sources: int
    codings: int
    replacements: int


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _anonymised_project(study: Study, *, user, texts: dict, maps: dict, label):
    """The study's REFI-QDA project with anonymised texts, selections carried along, and
    every label (source and case names, notes) pseudonymised."""
    from .exchange import export_project

    project = export_project(study, user=user)
    by_guid = {str(s.guid): s.id for s in Source.objects.filter(study=study)}
    sources = []
    for source in project.sources:
        source_id = by_guid.get(source.guid)
        if source_id is None or source.text is None:
            continue
        offsets = maps[source_id]
        selections = []
        for sel in source.selections:
            start, end = offsets.segment(sel.start, sel.end)
            selections.append(
                replace(
                    sel,
                    start=start,
                    end=end,
                    name=label(sel.name),
                    description=label(sel.description),
                )
            )
        sources.append(
            replace(
                source,
                name=label(source.name),
                description=label(source.description),
                text=texts[source_id],
                selections=tuple(selections),
            )
        )
    return replace(
        project,
        name=label(project.name) + " (anonymised)",
        description=label(project.description),
        sources=tuple(sources),
        cases=tuple(
            replace(c, name=label(c.name), description=label(c.description)) for c in project.cases
        ),
        notes=tuple(replace(n, name=label(n.name), text=label(n.text)) for n in project.notes),
        sets=tuple(
            replace(s, name=label(s.name), description=label(s.description)) for s in project.sets
        ),
    )


def export_anonymised(
    *, study: Study, out: str | Path, actor, user=None, with_qdpx: bool = True
) -> ExportSummary:
    """Write a zip of anonymised texts, their codings (anonymised offsets and text), a log
    of every replacement, and (``with_qdpx``) a REFI-QDA project of the same.

    ``user`` limits codings to those the user may see (blind reliability checks). The
    export holds no original: names in titles and memos go through the key as well.
    """
    from .queries import blind_source_ids, code_paths

    out = Path(out)
    label = label_anonymiser(study)
    sources = list(Source.objects.filter(study=study).order_by("id"))
    texts, maps = {}, {}
    coding_rows = [["source_id", "source", "code", "coder", "start", "end", "text"]]
    log_rows = [
        [
            "candidate_id",
            "source_id",
            "kind",
            "pseudonym",
            "start",
            "end",
            "anonymised_start",
            "anonymised_end",
            "decided_by",
            "decided_at",
        ]
    ]
    manifest = [["source_id", "file", "title", "kind", "simulated"]]
    n_codings = n_replacements = 0
    paths = code_paths(study)
    accepted_by_source: dict[int, list[PseudonymCandidate]] = defaultdict(list)
    for candidate in (
        PseudonymCandidate.objects.filter(source__study=study, status=Status.ACCEPTED)
        .exclude(pseudonym=None)
        .select_related("pseudonym", "decided_by")
        .order_by("source_id", "start", "end")
    ):
        accepted_by_source[candidate.source_id].append(candidate)
    blind = blind_source_ids(study, user)
    codings_by_source: dict[int, list[Coding]] = defaultdict(list)
    for coding in (
        Coding.objects.filter(source__study=study)
        .select_related("coder")
        .order_by("source_id", "start", "end", "id")
    ):
        if coding.source_id in blind and coding.coder_id != getattr(user, "id", None):
            continue
        codings_by_source[coding.source_id].append(coding)
    for source in sources:
        accepted = accepted_by_source.get(source.id, [])
        text, offsets = anonymised_text(source, accepted)
        texts[source.id], maps[source.id] = text, offsets
        file_name = f"sources/source-{source.id:05d}.txt"
        manifest.append(
            [source.id, file_name, label(source.title), source.kind, source.is_simulated]
        )
        codings = codings_by_source.get(source.id, [])
        for segment in anonymised_segments(source, text, offsets, codings, paths):
            coding_rows.append(
                [
                    source.id,
                    label(source.title),
                    segment.code,
                    segment.coder,
                    segment.start,
                    segment.end,
                    segment.text,
                ]
            )
            n_codings += 1
        for candidate in accepted:
            start, end = offsets.segment(candidate.start, candidate.end)
            log_rows.append(
                [
                    candidate.id,
                    source.id,
                    candidate.kind,
                    candidate.pseudonym.replacement,
                    candidate.start,
                    candidate.end,
                    start,
                    end,
                    candidate.decided_by.get_username() if candidate.decided_by_id else "",
                    candidate.decided_at.isoformat() if candidate.decided_at else "",
                ]
            )
            n_replacements += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            f"Anonymised export of study '{study.slug}'. Replaced identifiers read [pseudonym]; "
            "codings.csv gives each coding's offsets in the anonymised text (Unicode code points) "
            "and the words it covers; replacements.csv logs every replacement without the "
            "original. The key is not part of this export."
            + (" The material is simulated." if study.is_simulated else "")
            + "\n",
        )
        archive.writestr("sources.csv", _csv(manifest))
        for source in sources:
            archive.writestr(f"sources/source-{source.id:05d}.txt", texts[source.id])
        archive.writestr("codings.csv", _csv(coding_rows))
        archive.writestr("replacements.csv", _csv(log_rows))
        if with_qdpx:
            from .refi.writer import qdpx_bytes

            project = _anonymised_project(study, user=user, texts=texts, maps=maps, label=label)
            archive.writestr("project.qdpx", qdpx_bytes(project))
    record(
        actor=actor,
        action="pseudonymisation.export",
        obj=study,
        study_id=study.id,
        after={
            "sources": len(sources),
            "codings": n_codings,
            "replacements": n_replacements,
            "file": out.name,
        },
    )
    return ExportSummary(out, len(sources), n_codings, n_replacements)


def pending_counts(study: Study) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for kind in PseudonymCandidate.objects.filter(
        source__study=study, status=Status.PENDING
    ).values_list("kind", flat=True):
        counts[kind] += 1
    return dict(counts)


def accepted_counts(study: Study) -> dict[int, int]:
    """Source id → how many identifiers are replaced in it."""
    counts: dict[int, int] = defaultdict(int)
    for source_id in PseudonymCandidate.objects.filter(
        source__study=study, status=Status.ACCEPTED
    ).values_list("source_id", flat=True):
        counts[source_id] += 1
    return dict(counts)
