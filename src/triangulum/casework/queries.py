"""Read-side shaping for case studies: retrieval, search, code combinations, matrix coding,
co-occurrence and agreement between coders.

Queries are shaped for size (500 sources of 8,000 words, 100,000 codings): they fetch the
columns they need in a few queries, read each needed source text once and slice segments
from it in Python, let the database group codings by source and code (matrix coding and
co-occurrence read those groups, not a row per coding, where no filter needs the
individual coding), and do interval work (overlaps, turns) on sorted arrays. Offsets are
``[start, end)`` in code points of a source's canonical text.

Visibility: a coder always sees their own codings; others' codings are hidden on a source
that has a blind ``ReliabilityAssignment`` listing the coder (see ``visible_codings``).
"""

from __future__ import annotations

import bisect
import sys
import threading
import unicodedata
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Aggregate, Q, QuerySet, TextField
from django.db.models.functions import Cast

from triangulum.studies.models import Study

from . import agreement as stats
from .models import (
    Case,
    Code,
    CodebookVersion,
    Coding,
    Initiative,
    ReliabilityAssignment,
    Source,
    Turn,
)


def current_codebook_version(study: Study) -> CodebookVersion:
    """The study's latest codebook version (creates version 1 if the study has none)."""
    from .actions import current_codebook_version as current

    return current(study)


# --- visibility -------------------------------------------------------------------------


def blind_source_ids(study: Study, user) -> set[int]:
    """Sources on which ``user`` is a coder in a blind reliability check."""
    if user is None:
        return set()
    return set(
        ReliabilityAssignment.objects.filter(study=study, blind=True, coders=user).values_list(
            "source_id", flat=True
        )
    )


def visibility_filter(study: Study, user) -> Q:
    """A ``Q`` on Coding keeping what ``user`` may see (all codings when ``user`` is None)."""
    blind = blind_source_ids(study, user)
    if not blind:
        return Q()
    return ~Q(source_id__in=blind) | Q(coder=user)


def visible_codings(source: Source, user) -> QuerySet[Coding]:
    """The codings of ``source`` that ``user`` may see, in text order."""
    codings = Coding.objects.filter(source=source).select_related("code", "coder")
    if (
        user is not None
        and ReliabilityAssignment.objects.filter(source=source, blind=True, coders=user).exists()
    ):
        codings = codings.filter(coder=user)
    return codings.order_by("start", "end", "id")


def can_see_others(source: Source, user) -> bool:
    return not ReliabilityAssignment.objects.filter(source=source, blind=True, coders=user).exists()


# --- the code tree ----------------------------------------------------------------------


def code_tree(study: Study, *, active_only: bool = True) -> list[tuple[Code, int]]:
    """The study's codes in tree order, each with its depth (0 at the top)."""
    codes = Code.objects.filter(study=study)
    if active_only:
        codes = codes.filter(is_active=True)
    codes = list(codes.order_by("order", "name", "id"))
    children: dict[int | None, list[Code]] = defaultdict(list)
    ids = {c.id for c in codes}
    for code in codes:
        children[code.parent_id if code.parent_id in ids else None].append(code)
    result: list[tuple[Code, int]] = []
    stack = [(c, 0) for c in reversed(children[None])]
    while stack:
        code, depth = stack.pop()
        result.append((code, depth))
        stack.extend((c, depth + 1) for c in reversed(children[code.id]))
    return result


def descendant_ids(study: Study, code_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each code id: itself and every code below it (merged codes included)."""
    children: dict[int, list[int]] = defaultdict(list)
    for code_id, parent_id in Code.objects.filter(study=study).values_list("id", "parent_id"):
        if parent_id is not None:
            children[parent_id].append(code_id)
    result = {}
    for root in code_ids:
        found = {root}
        stack = [root]
        while stack:
            for child in children[stack.pop()]:
                if child not in found:
                    found.add(child)
                    stack.append(child)
        result[root] = found
    return result


def code_paths(study: Study) -> dict[int, str]:
    """Code id → ``"Parent/Child"`` path, for every code of the study."""
    rows = {
        pk: (name, parent)
        for pk, name, parent in Code.objects.filter(study=study).values_list(
            "id", "name", "parent_id"
        )
    }
    paths: dict[int, str] = {}

    def path(pk: int, seen=()) -> str:
        if pk in paths:
            return paths[pk]
        name, parent = rows[pk]
        value = name if parent is None or parent in seen else f"{path(parent, (*seen, pk))}/{name}"
        paths[pk] = value
        return value

    for pk in rows:
        path(pk)
    return paths


def _as_id(value) -> int:
    return value if isinstance(value, int) else value.pk


# --- cases a segment belongs to ---------------------------------------------------------

# Coding rows are plain tuples (cheap to fetch and hold by the hundred thousand):
ID, SOURCE, START, END, CODE, CODER = range(6)
_ROW_FIELDS = ("id", "source_id", "start", "end", "code_id", "coder_id")


@dataclass(frozen=True)
class CaseRef:
    id: int
    kind: str
    name: str


class CaseIndex:
    """Which cases each coding belongs to, worked out in bulk for a set of sources.

    A coding belongs to: every case its source is attached to; the site case of its
    source's site; the participant case of anyone speaking in a turn it overlaps; the
    initiative case of an initiative that lists its source or the coding itself.
    Speaker turns are loaded only when a question needs them.
    """

    def __init__(self, study: Study, source_ids: Iterable[int]):
        self.study = study
        self.source_ids = list(set(source_ids))
        self.cases = {
            c.id: c
            for c in Case.objects.filter(study=study).select_related("participant", "initiative")
        }
        self.by_source: dict[int, set[int]] = defaultdict(set)
        through = Case.sources.through.objects.filter(case__study=study).values_list(
            "source_id", "case_id"
        )
        wanted = set(self.source_ids)
        for source_id, case_id in through:
            if source_id in wanted:
                self.by_source[source_id].add(case_id)
        site_cases = defaultdict(set)
        self.participant_cases: dict[int, set[int]] = defaultdict(set)
        self.initiative_cases: dict[int, set[int]] = defaultdict(set)
        for case in self.cases.values():
            if case.kind == Case.Kind.SITE and case.organisation_id:
                site_cases[case.organisation_id].add(case.id)
            if case.participant_id:
                self.participant_cases[case.participant_id].add(case.id)
            if case.initiative_id:
                self.initiative_cases[case.initiative_id].add(case.id)
        self.site_of: dict[int, int] = dict(
            Source.objects.filter(study=study, site__isnull=False).values_list("id", "site_id")
        )
        for source_id in self.source_ids:
            site = self.site_of.get(source_id)
            if site in site_cases:
                self.by_source[source_id] |= site_cases[site]
        self.initiatives_by_source: dict[int, set[int]] = defaultdict(set)
        for source_id, initiative_id in Initiative.sources.through.objects.filter(
            initiative__study=study
        ).values_list("source_id", "initiative_id"):
            self.initiatives_by_source[source_id].add(initiative_id)
            self.by_source[source_id] |= self.initiative_cases.get(initiative_id, set())
        self.initiatives_by_coding: dict[int, set[int]] = defaultdict(set)
        for coding_id, initiative_id in Initiative.codings.through.objects.filter(
            initiative__study=study
        ).values_list("coding_id", "initiative_id"):
            self.initiatives_by_coding[coding_id].add(initiative_id)
        self._speaker_turns = None

    def _turns(self):
        if self._speaker_turns is None:
            turns: dict[int, tuple[list, list, list]] = {}
            for source_id, start, end, participant_id, role in (
                Turn.objects.filter(source_id__in=self.source_ids, participant__isnull=False)
                .order_by("source_id", "start")
                .values_list(
                    "source_id", "start", "end", "participant_id", "participant__role_category"
                )
            ):
                starts, ends, who = turns.setdefault(source_id, ([], [], []))
                starts.append(start)
                ends.append(end)
                who.append((participant_id, role))
            self._speaker_turns = turns
        return self._speaker_turns

    def participant_turns(self) -> Mapping[int, tuple]:
        """Sources with turns linked to participants, when participant cases exist (their
        codings' cases depend on the turns they overlap); empty otherwise."""
        return self._turns() if self.participant_cases else {}

    def speakers(self, source_id: int, start: int, end: int) -> list[tuple[int, str]]:
        """(participant id, role category) of each known speaker in a turn overlapping."""
        turns = self._turns().get(source_id)
        if not turns:
            return []
        starts, ends, who = turns
        # Turns do not overlap, so both their starts and their ends are sorted.
        return who[bisect.bisect_right(ends, start) : bisect.bisect_left(starts, end)]

    def case_ids(self, row) -> set[int]:
        ids = set(self.by_source.get(row[SOURCE], ()))
        if self.participant_cases:
            for participant_id, _ in self.speakers(row[SOURCE], row[START], row[END]):
                ids |= self.participant_cases.get(participant_id, set())
        for initiative_id in self.initiatives_by_coding.get(row[ID], ()):
            ids |= self.initiative_cases.get(initiative_id, set())
        return ids

    def initiatives(self, row) -> set[int]:
        return self.initiatives_by_source.get(row[SOURCE], set()) | self.initiatives_by_coding.get(
            row[ID], set()
        )

    def refs(self, ids: Iterable[int]) -> tuple[CaseRef, ...]:
        return tuple(
            sorted(
                (CaseRef(i, self.cases[i].kind, self.cases[i].name) for i in ids),
                key=lambda r: (r.kind, r.name),
            )
        )


# --- segments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One coding as retrieval shows it."""

    coding_id: int
    source_id: int
    source_title: str
    start: int
    end: int
    text: str
    code_id: int
    code_name: str
    coder_id: int
    coder_name: str
    cases: tuple[CaseRef, ...] = ()
    # Speakers of the turns where it starts and where it ends (one, if the same).
    speakers: tuple[str, ...] = ()

    @property
    def length(self) -> int:
        return self.end - self.start


FILTER_KEYS = (
    "case",
    "role",
    "organisation",
    "region",
    "phase",
    "sector",
    "source_kind",
    "attributes",
)
# Filters the database applies to the coding's source; the others are checked per coding.
_SOURCE_FILTERS = {"phase", "source_kind", "region"}


def _values(value) -> list:
    if isinstance(value, str | int) or hasattr(value, "pk"):
        return [value]
    return list(value)


def _check_filters(case_filters: Mapping | None) -> dict:
    filters = {k: v for k, v in (case_filters or {}).items() if v not in (None, "", [], ())}
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise ValueError(
            f"unknown case filter(s): {', '.join(sorted(unknown))} "
            f"(known: {', '.join(FILTER_KEYS)})"
        )
    return filters


def _source_filter(filters: dict) -> Q:
    """The part of the case filters that the database can apply to the coding's source."""
    q = Q()
    if "phase" in filters:
        ids, orders = [], []
        for value in _values(filters["phase"]):
            if hasattr(value, "pk"):
                ids.append(value.pk)
            else:
                orders.append(int(value))
        q &= Q(source__phase_id__in=ids) | Q(source__phase__order__in=orders)
    if "source_kind" in filters:
        q &= Q(source__kind__in=_values(filters["source_kind"]))
    if "region" in filters:
        q &= Q(source__site__region_name__in=_values(filters["region"])) | Q(
            source__site__region_code__in=_values(filters["region"])
        )
    return q


class _RowFilter:
    """The case filters the database cannot apply, checked per coding."""

    def __init__(self, study: Study, filters: dict, index: CaseIndex):
        self.filters = filters
        self.index = index
        self.organisations: set[int] = set()
        if "organisation" in filters:
            from triangulum.organisations.models import Organisation

            codes = []
            for value in _values(filters["organisation"]):
                if hasattr(value, "pk"):
                    self.organisations.add(value.pk)
                elif isinstance(value, int):
                    self.organisations.add(value)
                else:
                    codes.append(str(value))
            for ods in codes:
                self.organisations |= set(
                    Organisation.objects.filter(ods_code__iexact=ods).values_list("id", flat=True)
                )
        self.sectors: dict[int, set[str]] = {}
        if "sector" in filters:
            self.sectors = {
                pk: {str(s).casefold() for s in sectors or ()}
                for pk, sectors in Initiative.objects.filter(study=study).values_list(
                    "id", "sectors"
                )
            }

    def keep(self, row) -> bool:
        f = self.filters
        index = self.index
        case_ids = index.case_ids(row)
        cases = [index.cases[c] for c in case_ids]
        if "case" in f and not {_as_id(v) for v in _values(f["case"])} & case_ids:
            return False
        if "role" in f:
            roles = set(_values(f["role"]))
            spoken = {role for _, role in index.speakers(row[SOURCE], row[START], row[END])}
            attached = {c.participant.role_category for c in cases if c.participant_id}
            if not roles & (spoken | attached):
                return False
        if "organisation" in f:
            held = {c.organisation_id for c in cases if c.organisation_id}
            held.add(index.site_of.get(row[SOURCE]))
            if not self.organisations & held:
                return False
        if "sector" in f:
            wanted = {str(s).casefold() for s in _values(f["sector"])}
            initiatives = index.initiatives(row) | {
                c.initiative_id for c in cases if c.initiative_id
            }
            if not any(wanted & self.sectors.get(i, set()) for i in initiatives):
                return False
        if "attributes" in f:
            for name, value in f["attributes"].items():
                values = {str(v) for v in _values(value)}
                if not any(
                    str(c.attributes.get(name)) in values
                    for c in cases
                    if name in (c.attributes or {})
                ):
                    return False
        return True


def _coding_rows(
    study: Study,
    *,
    code_ids: Iterable[int] | None = None,
    coder=None,
    visible_to=None,
    case_filters: Mapping | None = None,
    source_ids: Iterable[int] | None = None,
    ordered: bool = True,
) -> tuple[list[tuple], CaseIndex]:
    """Coding rows (tuples: ID, SOURCE, START, END, CODE, CODER) and the CaseIndex."""
    filters = _check_filters(case_filters)
    if code_ids is not None:
        # The codes are the study's (descendant_ids checks), so their codings are too:
        # no join with the sources is needed.
        codings = Coding.objects.filter(code_id__in=list(code_ids))
    else:
        codings = Coding.objects.filter(source__study=study)
    if source_ids is not None:
        codings = codings.filter(source_id__in=list(source_ids))
    if coder is not None:
        codings = codings.filter(coder_id__in=[_as_id(c) for c in _values(coder)])
    codings = codings.filter(visibility_filter(study, visible_to) & _source_filter(filters))
    fields = list(_ROW_FIELDS)
    if ordered:
        codings = codings.order_by("source_id", "start", "end", "id")
    else:
        codings = codings.order_by()
    rows = list(codings.values_list(*fields))
    index = CaseIndex(study, {r[SOURCE] for r in rows})
    if set(filters) - _SOURCE_FILTERS:
        row_filter = _RowFilter(study, filters, index)
        rows = [row for row in rows if row_filter.keep(row)]
    return rows, index


def _check_codes(study: Study, code_ids: Iterable[int]) -> None:
    ids = set(code_ids)
    found = set(Code.objects.filter(study=study, pk__in=ids).values_list("id", flat=True))
    if ids - found:
        raise ValueError(f"code(s) {sorted(ids - found)} are not codes of this study")


def segments_for_code(
    study: Study,
    code,
    *,
    include_subcodes: bool = True,
    case_filters: Mapping | None = None,
    coder=None,
    visible_to=None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Segment]:
    """Every segment coded with ``code`` (and its sub-codes), in source and text order
    (or the page ``offset``, ``limit`` of them).

    ``case_filters`` keys: case (case or id), role (role categories of speakers), organisation
    (organisation, id or ODS code), region (region name or code of the source's site),
    phase (phase or its order number), sector (of a linked initiative), source_kind,
    attributes ({name: value} on a case). A value may be a list (any of them); keys combine
    with AND. ``visible_to`` applies the blind-coding rule for that user.
    """
    return segment_page(
        study,
        code,
        include_subcodes=include_subcodes,
        case_filters=case_filters,
        coder=coder,
        visible_to=visible_to,
        limit=limit,
        offset=offset,
    ).segments


@dataclass(frozen=True)
class SegmentPage:
    segments: list[Segment]
    total: int  # segments on all pages
    offset: int


def segment_page(
    study: Study,
    code,
    *,
    include_subcodes: bool = True,
    case_filters: Mapping | None = None,
    coder=None,
    visible_to=None,
    limit: int | None = 50,
    offset: int = 0,
) -> SegmentPage:
    """One page of ``segments_for_code`` (same arguments) and how many there are in all:
    for a page that shows a few dozen segments of thousands, only those are built."""
    code_id = _as_id(code)
    _check_codes(study, [code_id])
    ids = descendant_ids(study, [code_id])[code_id] if include_subcodes else {code_id}
    rows, index = _coding_rows(
        study, code_ids=ids, coder=coder, visible_to=visible_to, case_filters=case_filters
    )
    total = len(rows)
    if offset or limit is not None:
        rows = rows[offset : None if limit is None else offset + limit]
    return SegmentPage(_segments(rows, index), total, offset)


def segments_by_ids(study: Study, coding_ids: Iterable[int], *, visible_to=None) -> list[Segment]:
    """The segments of the given codings (for opening a matrix cell), in text order."""
    ids = list(coding_ids)
    codings = Coding.objects.filter(pk__in=ids, source__study=study)
    codings = codings.filter(visibility_filter(study, visible_to))
    rows = list(codings.order_by("source_id", "start", "end", "id").values_list(*_ROW_FIELDS))
    return _segments(rows, CaseIndex(study, {r[SOURCE] for r in rows}))


# --- source texts and speaker turns, kept between queries -------------------------------

# The most the source cache may hold (texts, their case-folded form, speaker turns):
# the benchmark's 500 transcripts of 8,000 words take about 100 MiB of it.
SOURCE_CACHE_BYTES = 256 * 2**20


@dataclass
class _Turns:
    """A source's speaker turns in (start, id) order, as arrays."""

    starts: object  # numpy int64
    ends: object  # numpy int64
    labels: list[str]
    disjoint: bool  # no turn starts before the one before it ends
    last_end: int  # the latest end (0 without turns)

    @property
    def size(self) -> int:
        return self.starts.nbytes + self.ends.nbytes + 64 * len(self.labels)


@dataclass
class _SourceEntry:
    text: str
    folded: str | None = None  # the text as search compares it, made when first searched
    turns: _Turns | None = None  # made when a query first needs the speakers

    @property
    def size(self) -> int:
        size = sys.getsizeof(self.text)
        if self.folded is not None and self.folded is not self.text:
            size += sys.getsizeof(self.folded)
        if self.turns is not None:
            size += self.turns.size
        return size


class _SourceCache:
    """Source texts, with their case-folded form and speaker turns, kept in this process so
    that a query reads them from the database once rather than at every call (reading
    and, on PostgreSQL, decompressing 500 texts of 64 KB is most of a retrieval's time).

    A source's text and turns never change after import (ADR 0014; pseudonymisation
    writes anonymised copies, not the source), so an entry stays right for as long as
    the source exists. Entries are keyed by the database and the source's id, guid and
    creation time: a source that reuses the id of one deleted or rolled back (a test, a
    re-created database) is never given the other's text. Least recently used entries
    go first once ``SOURCE_CACHE_BYTES`` is reached. See ADR 0021.
    """

    def __init__(self, budget: int):
        self.budget = budget
        self.entries: OrderedDict[tuple, _SourceEntry] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0

    def _get(self, key) -> _SourceEntry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def _put(self, key, entry: _SourceEntry, grown: int) -> None:
        if key not in self.entries:
            self.entries[key] = entry
        self.size += grown
        while self.size > self.budget and len(self.entries) > 1:
            _, dropped = self.entries.popitem(last=False)
            self.size -= dropped.size

    def texts(self, keys: Mapping[int, tuple | None]) -> dict[int, str]:
        """Source id → text, for the sources whose keys (``_source_key``) are given."""
        found, missing = {}, []
        with self.lock:
            for source_id, key in keys.items():
                entry = self._get(key)
                if entry is None:
                    missing.append(source_id)
                else:
                    found[source_id] = entry.text
        if missing:
            # (No ordering: sorting would make the database copy every text through its
            # sorter.)
            loaded = Source.objects.filter(pk__in=missing).order_by()
            for source_id, text in loaded.values_list("id", "text"):
                found[source_id] = text
                key = keys[source_id]
                if key is None:
                    continue
                with self.lock:
                    if key not in self.entries:
                        entry = _SourceEntry(text)
                        self._put(key, entry, entry.size)
        return found

    def folded(self, keys: Mapping[int, tuple | None], texts: Mapping[int, str]) -> dict[int, str]:
        """Source id → case-folded text (``_fold``), made once per source."""
        found = {}
        for source_id, key in keys.items():
            if source_id not in texts:  # (deleted since its key was read)
                continue
            with self.lock:
                entry = self._get(key)
                folded = entry.folded if entry is not None else None
            if folded is None:
                text = texts[source_id]
                folded = _fold(text)
                if folded == text:
                    folded = text
                with self.lock:
                    entry = self._get(key)
                    if entry is not None and entry.folded is None:
                        entry.folded = folded
                        grown = 0 if folded is entry.text else sys.getsizeof(folded)
                        self._put(key, entry, grown)
            found[source_id] = folded
        return found

    def turns(self, keys: Mapping[int, tuple | None]) -> dict[int, _Turns]:
        """Source id → its speaker turns."""
        import numpy as np

        found, missing = {}, []
        with self.lock:
            for source_id, key in keys.items():
                entry = self._get(key)
                if entry is not None and entry.turns is not None:
                    found[source_id] = entry.turns
                else:
                    missing.append(source_id)
        if not missing:
            return found
        rows: dict[int, tuple[list, list, list]] = {s: ([], [], []) for s in missing}
        labels_seen: dict[str, str] = {}
        for source_id, start, end, label in (
            Turn.objects.filter(source_id__in=missing)
            .order_by("source_id", "start", "id")
            .values_list("source_id", "start", "end", "speaker_label")
        ):
            starts, ends, labels = rows[source_id]
            starts.append(start)
            ends.append(end)
            label = label or ""
            labels.append(labels_seen.setdefault(label, label))
        for source_id, (starts, ends, labels) in rows.items():
            starts_array = np.array(starts, dtype=np.int64)
            ends_array = np.array(ends, dtype=np.int64)
            turns = _Turns(
                starts_array,
                ends_array,
                labels,
                bool((starts_array[1:] >= ends_array[:-1]).all()),
                max(ends, default=0),
            )
            found[source_id] = turns
            with self.lock:
                entry = self._get(keys[source_id])
                if entry is not None and entry.turns is None:
                    entry.turns = turns
                    self._put(keys[source_id], entry, turns.size)
        return found


_SOURCE_CACHE = _SourceCache(SOURCE_CACHE_BYTES)


def clear_source_cache() -> None:
    """Forget the source texts kept in this process (for benchmarks timing a first query,
    and for tests); queries read them again as needed."""
    _SOURCE_CACHE.clear()


def _source_key(source_id: int, guid: str, created: str | None) -> tuple | None:
    if created is None:  # (a source created between two reads: not kept)
        return None
    return (connection.alias, connection.settings_dict.get("NAME"), source_id, guid, created)


def _sources_with_keys(
    study: Study, source_ids: Iterable[int] | None = None, *, in_title_order: bool = False
) -> tuple[list[int], dict[int, str], dict[int, tuple | None]]:
    """The study's sources (or those of ``source_ids``; in title order if asked): their
    ids, titles and source-cache keys."""
    sources = Source.objects.filter(study=study)
    wanted = None
    if source_ids is not None:
        wanted = set(source_ids)
        # A long list of ids costs more to send than the study's other rows.
        if len(wanted) <= 100:
            sources = sources.filter(pk__in=list(wanted))
    # Creation times come from the index on source (study, created_at) alone (migration
    # 0004): SQLite reaches a column stored after the text only through the text's
    # overflow pages, which costs about as much as reading the text.
    created = dict(
        sources.order_by()
        .annotate(created_text=Cast("created_at", TextField()))
        .values_list("id", "created_text")
    )
    ordered = sources.order_by("title", "id") if in_title_order else sources.order_by()
    ids, titles, keys = [], {}, {}
    for source_id, title, guid in ordered.annotate(guid_text=Cast("guid", TextField())).values_list(
        "id", "title", "guid_text"
    ):
        if wanted is not None and source_id not in wanted:
            continue
        ids.append(source_id)
        titles[source_id] = title
        keys[source_id] = _source_key(source_id, guid, created.get(source_id))
    return ids, titles, keys


def _speaker_labels(rows: list[tuple], turns: Mapping[int, _Turns]) -> tuple[list[str], list[str]]:
    """For each coding row: the speaker label of the latest-starting turn that covers its
    start, and of the latest-starting turn it overlaps ("" where there is none)."""
    import numpy as np

    count = len(rows)
    firsts, lasts = [""] * count, [""] * count
    # Sources whose turns do not overlap (the usual case) are searched all at once: each
    # source shifted past the one before on one axis, where the latest turn starting
    # before a position is the only one that can cover it.
    disjoint = sorted(s for s, t in turns.items() if t.disjoint and t.labels)
    if disjoint:
        row_sources = np.fromiter((r[SOURCE] for r in rows), dtype=np.int64, count=count)
        row_starts = np.fromiter((r[START] for r in rows), dtype=np.int64, count=count)
        row_ends = np.fromiter((r[END] for r in rows), dtype=np.int64, count=count)
        width = 1 + max(max(turns[s].last_end for s in disjoint), int(row_ends.max()))
        ids = np.array(disjoint, dtype=np.int64)
        # Rows of other sources go past the last of these, where nothing covers them.
        rank = np.minimum(np.searchsorted(ids, row_sources), len(ids) - 1)
        rank[ids[rank] != row_sources] = len(ids)
        starts = np.concatenate([turns[s].starts + i * width for i, s in enumerate(disjoint)])
        ends = np.concatenate([turns[s].ends + i * width for i, s in enumerate(disjoint)])
        labels = np.array([*(x for s in disjoint for x in turns[s].labels), ""], dtype=object)
        row_starts += rank * width
        row_ends += rank * width
        first = np.searchsorted(starts, row_starts + 1, side="left") - 1
        last = np.searchsorted(starts, row_ends, side="left") - 1
        # A turn of an earlier source ends before this source's shift: never "covering".
        none = len(labels) - 1
        first[(first < 0) | (ends[np.maximum(first, 0)] <= row_starts)] = none
        last[(last < 0) | (ends[np.maximum(last, 0)] <= row_starts)] = none
        firsts, lasts = labels[first].tolist(), labels[last].tolist()
    general = {s for s, t in turns.items() if not t.disjoint}
    if general:
        for i, r in enumerate(rows):
            if r[SOURCE] in general:
                t = turns[r[SOURCE]]
                firsts[i] = _last_covering(t, r[START] + 1, r[START])
                lasts[i] = _last_covering(t, r[END], r[START])
    return firsts, lasts


def _last_covering(turns: _Turns, before: int, reaching: int) -> str:
    """Label of the latest-starting turn with start < ``before`` and end > ``reaching``
    (turns that may overlap: walked back as far as the longest turn can reach)."""
    import numpy as np

    starts, ends, labels = turns.starts, turns.ends, turns.labels
    floor = reaching - int((ends - starts).max())
    at = int(np.searchsorted(starts, before, side="left")) - 1
    while at >= 0 and starts[at] >= floor:
        if ends[at] > reaching:
            return labels[at]
        at -= 1
    return ""


def _segments(rows: list[tuple], index: CaseIndex) -> list[Segment]:
    if not rows:
        return []
    _, titles, keys = _sources_with_keys(index.study, {r[SOURCE] for r in rows})
    # Each source's text is read once (and kept: see _SourceCache) and sliced here: a
    # database substring per segment walks (SQLite) or decompresses (PostgreSQL) the
    # whole text again for every row.
    texts = _SOURCE_CACHE.texts(keys)
    firsts, lasts = _speaker_labels(rows, _SOURCE_CACHE.turns(keys))
    code_names = dict(Code.objects.filter(pk__in={r[CODE] for r in rows}).values_list("id", "name"))
    coder_names = dict(
        get_user_model()
        .objects.filter(pk__in={r[CODER] for r in rows})
        .values_list("id", "username")
    )
    refs: dict[frozenset, tuple[CaseRef, ...]] = {}

    def cases_of(row) -> tuple[CaseRef, ...]:
        case_ids = frozenset(index.case_ids(row))
        found = refs.get(case_ids)
        if found is None:
            found = refs[case_ids] = index.refs(case_ids)
        return found

    # The cases of a coding on a source without speakers linked to participants, and not
    # itself linked to an initiative, are its source's: worked out once per source.
    with_speakers = index.participant_turns()
    by_coding = index.initiatives_by_coding
    alone: dict[str, tuple[str, ...]] = {"": ()}  # a speaker label → (label,)
    segments = []
    append = segments.append
    current = None
    for row, first_label, last_label in zip(rows, firsts, lasts, strict=True):
        coding_id, source_id, start, end, code_id, coder_id = row
        if source_id != current:  # (rows come by source)
            current, title, text = source_id, titles[source_id], texts[source_id]
            source_cases = None
            plain_source = source_id not in with_speakers
        if plain_source and coding_id not in by_coding:
            if source_cases is None:
                source_cases = cases_of(row)
            cases = source_cases
        else:
            cases = cases_of(row)
        if first_label == last_label:
            labels = alone.get(first_label)
            if labels is None:
                labels = alone[first_label] = (first_label,)
        else:
            labels = tuple(label for label in (first_label, last_label) if label)
        # Positional, in the order of Segment's fields (a few hundred thousand keyword
        # look-ups fewer for a large retrieval).
        append(
            Segment(
                coding_id,
                source_id,
                title,
                start,
                end,
                text[start:end],
                code_id,
                code_names[code_id],
                coder_id,
                coder_names.get(coder_id, ""),
                cases,
                labels,
            )
        )
    return segments


# --- full-text search -------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    source_id: int
    source_title: str
    start: int
    end: int
    snippet: str
    snippet_start: int  # where the snippet begins in the source text


def _fold(text: str) -> str:
    """Case-folded text of the same length (so offsets carry over); NFC throughout."""
    folded = text.casefold()
    if len(folded) == len(text):
        return folded
    # casefold can lengthen a character ("ß" → "ss"); lower() keeps lengths per character.
    return "".join(c.casefold() if len(c.casefold()) == 1 else c.lower() for c in text)


def search_text(
    study: Study, query: str, *, context: int = 60, limit: int = 500, source_ids=None
) -> list[SearchHit]:
    """Case-insensitive search for ``query`` (NFC) in the study's source texts."""
    needle = _fold(unicodedata.normalize("NFC", query.replace("\r\n", "\n")).strip())
    if not needle:
        return []
    narrow = None
    # The database narrows the sources first (icontains is a case-insensitive match in
    # both SQLite, for ASCII, and PostgreSQL); non-ASCII needles are checked in Python.
    if needle.isascii():
        if connection.vendor == "postgresql":
            # Upper-casing every text to match it costs PostgreSQL about 1 ms a source:
            # ask only whether any source matches (answered from the trigram index where
            # there is one; of any study, as a filter on the study would lead the planner
            # to that column's index instead), then search the texts here.
            with _index_preferred():
                if not Source.objects.filter(text__icontains=needle).exists():
                    return []
        else:
            narrow = Source.objects.filter(study=study, text__icontains=needle)
            if not narrow.exists():
                return []
    # Sources are searched in title order, a batch at a time, so that a common phrase
    # stops after the first batches; the order is taken from the database (its
    # collation) without reading the texts through its sorter.
    order, titles, keys = _sources_with_keys(study, source_ids, in_title_order=True)
    return _search_batches(narrow, order, titles, keys, needle, context, limit)


@contextmanager
def _index_preferred():
    """On PostgreSQL, steer the planner off sequential scans for the duration: a few
    hundred sources look cheap to scan to it, which does not count decompressing and
    upper-casing each 64 KB text, so it would not use the trigram index (migration 0003,
    where pg_trgm could be installed)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        (previous,) = cursor.fetchone()
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
        yield
        # Put back for the rest of an enclosing transaction (after an error, rolling
        # back this block's savepoint undoes the setting).
        cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [previous])


def _search_batches(narrow, order: list[int], titles, keys, needle: str, context, limit):
    """Hits in the sources of ``order`` (narrowed batch by batch to those the queryset
    ``narrow`` finds, if given), from their case-folded texts (kept: _SourceCache)."""
    hits: list[SearchHit] = []
    at_batch, batch_size = 0, 8
    while at_batch < len(order):
        batch = order[at_batch : at_batch + batch_size]
        at_batch += batch_size
        if narrow is not None:
            matching = set(narrow.filter(pk__in=batch).order_by().values_list("id", flat=True))
            batch = [source_id for source_id in batch if source_id in matching]
        batch_keys = {source_id: keys[source_id] for source_id in batch}
        texts = _SOURCE_CACHE.texts(batch_keys)
        folded_texts = _SOURCE_CACHE.folded(batch_keys, texts)
        for source_id in batch:
            if source_id not in texts:
                continue
            title, text, folded = titles[source_id], texts[source_id], folded_texts[source_id]
            at = folded.find(needle)
            while at != -1:
                start, end = at, at + len(needle)
                snippet_start = max(0, start - context)
                snippet = text[snippet_start : min(len(text), end + context)]
                hits.append(SearchHit(source_id, title, start, end, snippet, snippet_start))
                if len(hits) >= limit:
                    return hits
                at = folded.find(needle, end)
        # The next batch: about as many sources as the hits so far say are needed to
        # reach the limit (a quarter more), at most four times this one.
        if hits:
            wanted = (limit - len(hits)) * at_batch / len(hits)
            batch_size = max(8, min(4 * batch_size, int(wanted * 1.25) + 1))
        else:
            batch_size *= 4
    return hits


# --- code combinations ------------------------------------------------------------------


def _turn_numbers(source_ids: Iterable[int]) -> dict[int, tuple[list[int], list[int]]]:
    turns: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for source_id, start, end in (
        Turn.objects.filter(source_id__in=list(source_ids))
        .order_by("source_id", "start")
        .values_list("source_id", "start", "end")
    ):
        turns[source_id][0].append(start)
        turns[source_id][1].append(end)
    return turns


def _turn_range(turns, start: int, end: int) -> tuple[int, int] | None:
    """First and last index of the turns a span overlaps (None if it overlaps none)."""
    starts, ends = turns
    first = bisect.bisect_right(ends, start)
    last = bisect.bisect_left(starts, end) - 1
    if first > last:
        return None
    return first, last


def combine_codes(
    study: Study,
    code_a,
    code_b,
    operator: str,
    *,
    within: int = 0,
    unit: str = "characters",
    include_subcodes: bool = True,
    case_filters: Mapping | None = None,
    coder=None,
    visible_to=None,
) -> list[Segment]:
    """Segments of A that stand in ``operator`` to B in the same source.

    ``"and"``: A's codings that overlap a coding of B; ``"not"``: A's codings that overlap
    none; ``"near"``: A's codings within ``within`` characters (``unit="characters"``: the
    gap between them at most that) or turns (``unit="turns"``; 0 = a shared turn) of a
    coding of B, overlaps included.
    """
    if operator not in {"and", "not", "near"}:
        raise ValueError(f'operator must be "and", "not" or "near", not "{operator}"')
    if unit not in {"characters", "turns"}:
        raise ValueError(f'unit must be "characters" or "turns", not "{unit}"')
    if within < 0:
        raise ValueError("within must not be negative")
    a_id, b_id = _as_id(code_a), _as_id(code_b)
    _check_codes(study, [a_id, b_id])
    tree = descendant_ids(study, [a_id, b_id])
    a_ids = tree[a_id] if include_subcodes else {a_id}
    b_ids = tree[b_id] if include_subcodes else {b_id}
    a_rows, index = _coding_rows(
        study,
        code_ids=a_ids,
        coder=coder,
        visible_to=visible_to,
        case_filters=case_filters,
    )
    b_rows, _ = _coding_rows(
        study,
        code_ids=b_ids,
        coder=coder,
        visible_to=visible_to,
        source_ids={r[SOURCE] for r in a_rows},
    )
    b_spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for r in b_rows:
        b_spans[r[SOURCE]].append((r[START], r[END], r[ID]))
    # The longest B span bounds how far back an overlapping span can start.
    longest = max((e - s for spans in b_spans.values() for s, e, _ in spans), default=0)
    b_starts = {sid: [s[0] for s in spans] for sid, spans in b_spans.items()}
    turns = _turn_numbers(b_spans) if (operator == "near" and unit == "turns") else {}
    reach = within if (operator == "near" and unit == "characters") else 0
    kept = []
    for r in a_rows:
        sid, start, end = r[SOURCE], r[START], r[END]
        spans = b_spans.get(sid, [])
        if operator in {"and", "not"} or unit == "characters":
            starts = b_starts.get(sid, [])
            low = bisect.bisect_left(starts, start - reach - longest)
            high = bisect.bisect_right(starts, end + reach)
            if operator == "near":
                # Within: the gap between the spans (0 when they touch or overlap) ≤ reach.
                hit = any(
                    s[2] != r[ID] and s[0] <= end + reach and s[1] >= start - reach
                    for s in spans[low:high]
                )
            else:
                hit = any(s[2] != r[ID] and s[0] < end and s[1] > start for s in spans[low:high])
            if hit == (operator != "not"):
                kept.append(r)
            continue
        mine = _turn_range(turns[sid], start, end)
        if mine is None:
            continue
        for s in spans:
            if s[2] == r[ID]:
                continue
            theirs = _turn_range(turns[sid], s[0], s[1])
            if (
                theirs is not None
                and theirs[0] <= mine[1] + within
                and theirs[1] >= mine[0] - within
            ):
                kept.append(r)
                break
    return _segments(kept, index)


# --- matrix coding ----------------------------------------------------------------------

COUNTS = ("segments", "sources", "characters")
ATTRIBUTES = ("role", "organisation", "region", "phase", "sector", "source_kind")


@dataclass
class MatrixCell:
    count: int = 0
    coding_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class MatrixRow:
    key: object  # a case id, or an attribute value
    label: str


@dataclass
class Matrix:
    rows: list[MatrixRow]
    columns: list[Code]
    count: str
    cells: dict[tuple[object, int], MatrixCell]

    def cell(self, row_key, code) -> MatrixCell:
        return self.cells.get((row_key, _as_id(code)), MatrixCell())

    def as_table(self) -> list[list]:
        """Header row then one row per matrix row: label, then each column's count."""
        header = ["", *(c.name for c in self.columns)]
        return [header] + [
            [row.label, *(self.cell(row.key, c).count for c in self.columns)] for row in self.rows
        ]


def _union_length(spans: list[tuple[int, int]]) -> int:
    total = 0
    current_start = current_end = None
    for start, end in sorted(spans):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


_SOURCE_ATTRIBUTES = {
    "organisation": "site__name",
    "region": "site__region_name",
    "phase": "phase__name",
    "source_kind": "kind",
}


def _attribute_values(study: Study, attribute: str, index: CaseIndex):
    """A function giving the set of ``attribute`` values a coding row has."""
    if attribute in _SOURCE_ATTRIBUTES:
        field_name = _SOURCE_ATTRIBUTES[attribute]
        by_source = {
            pk: frozenset([value]) if value else frozenset()
            for pk, value in Source.objects.filter(study=study).values_list("id", field_name)
        }
        return lambda row: by_source.get(row[SOURCE], frozenset())
    if attribute == "role":

        def roles(row):
            values = {role for _, role in index.speakers(row[SOURCE], row[START], row[END])}
            values |= {
                index.cases[c].participant.role_category
                for c in index.case_ids(row)
                if index.cases[c].participant_id
            }
            return values

        return roles
    if attribute == "sector":
        sectors = dict(Initiative.objects.filter(study=study).values_list("id", "sectors"))

        def row_sectors(row):
            initiatives = index.initiatives(row) | {
                index.cases[c].initiative_id
                for c in index.case_ids(row)
                if index.cases[c].initiative_id
            }
            return {s for i in initiatives for s in sectors.get(i) or ()}

        return row_sectors

    def case_attribute(row):
        return {
            str(index.cases[c].attributes[attribute])
            for c in index.case_ids(row)
            if attribute in (index.cases[c].attributes or {})
        }

    return case_attribute


def _columns_of(study: Study, codes: Sequence, include_subcodes: bool):
    order = [_as_id(c) for c in codes]
    _check_codes(study, order)
    columns = {c.id: c for c in Code.objects.filter(pk__in=order)}
    tree = descendant_ids(study, order) if include_subcodes else {i: {i} for i in order}
    column_of: dict[int, list[int]] = defaultdict(list)
    for column, members in tree.items():
        for member in members:
            column_of[member].append(column)
    return [columns[i] for i in order], column_of


def _chosen_case_rows(index: CaseIndex, cases, case_kind) -> list[MatrixRow]:
    chosen = list(index.cases.values())
    if cases is not None:
        wanted = {_as_id(c) for c in cases}
        chosen = [c for c in chosen if c.id in wanted]
    elif case_kind is not None:
        chosen = [c for c in chosen if c.kind == case_kind]
    chosen.sort(key=lambda c: (c.kind, c.name))
    return [MatrixRow(c.id, c.name) for c in chosen]


class _Joined(Aggregate):
    """A group's values joined with commas (GROUP_CONCAT; string_agg on PostgreSQL).

    Several of them in one query read each row once, so their lists line up."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s((%(expressions)s)::text, ',')",
            **extra_context,
        )


def _numbers(joined: str):
    import numpy as np

    return np.fromstring(joined, dtype=np.int64, sep=",")


def _per_coding_cases(index: CaseIndex) -> set[int]:
    """Cases a coding can belong to through itself rather than its source: participant
    cases (through the turns it overlaps) and initiative cases linked to codings."""
    found: set[int] = set()
    for ids in index.participant_cases.values():
        found |= ids
    for initiatives in index.initiatives_by_coding.values():
        for initiative_id in initiatives:
            found |= index.initiative_cases.get(initiative_id, set())
    return found


def _matrix_keys_by_source(study: Study, rows: str, attribute, row_keys, index: CaseIndex):
    """A function giving a source's row keys when every coding of a source has the same
    ones (None when they can differ between codings of one source)."""
    per_coding = _per_coding_cases(index)
    if rows == "cases":
        if row_keys & per_coding:
            return None
        return lambda source_id: index.by_source.get(source_id, set()) & row_keys
    if attribute in _SOURCE_ATTRIBUTES:
        keys_of = _attribute_values(study, attribute, index)
        return lambda source_id: set(keys_of((None, source_id)))
    if attribute in {"role", "sector"}:
        return None
    if any(attribute in (index.cases[c].attributes or {}) for c in per_coding):
        return None

    def case_attribute(source_id):
        return {
            str(index.cases[c].attributes[attribute])
            for c in index.by_source.get(source_id, ())
            if attribute in (index.cases[c].attributes or {})
        }

    return case_attribute


def _coding_arrays(study: Study, code_ids, *, coder, visible_to, filters: dict, fields) -> dict:
    """The codings of ``code_ids`` as numpy arrays: ``code_id`` and each of ``fields``,
    lined up. The database groups them by code (following the covering index on coding
    (code, source, start, end, coder)) and joins each field's values into one string per
    code: a few dozen rows to read where the codings are a hundred thousand."""
    import numpy as np

    codings = Coding.objects.filter(code_id__in=list(code_ids))
    if coder is not None:
        codings = codings.filter(coder_id__in=[_as_id(c) for c in _values(coder)])
    codings = codings.filter(visibility_filter(study, visible_to) & _source_filter(filters))
    joined = {f"joined_{name}": _Joined(name) for name in fields}
    groups = list(
        codings.order_by().values("code_id").annotate(**joined).values_list("code_id", *joined)
    )
    if not groups:
        return {name: np.zeros(0, dtype=np.int64) for name in ("code_id", *fields)}
    arrays = {name: _numbers(",".join(g[1 + i] for g in groups)) for i, name in enumerate(fields)}
    sizes = [g[1].count(",") + 1 for g in groups]
    arrays["code_id"] = np.repeat(np.array([g[0] for g in groups], dtype=np.int64), sizes)
    if any(len(a) != sum(sizes) for a in arrays.values()):
        raise RuntimeError("joined coding fields do not line up")
    return arrays


def _expand(owner, pointers, members):
    """Pairs (item, member) for items that each own a list of members: ``owner[i]`` is
    item i's owner, whose members are ``members[pointers[o] : pointers[o + 1]]``."""
    import numpy as np

    begin = pointers[:-1][owner]
    counts = pointers[1:][owner] - begin
    if len(counts) and (counts == 1).all():
        return np.arange(len(owner), dtype=np.int64), members[begin]
    item = np.repeat(np.arange(len(owner), dtype=np.int64), counts)
    within = np.arange(len(item), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return item, members[begin[item] + within]


def _lists(lists: list[list[int]]):
    """Lists of member indices as (pointers, members) arrays for ``_expand``."""
    import numpy as np

    pointers = np.zeros(len(lists) + 1, dtype=np.int64)
    pointers[1:] = np.cumsum([len(members) for members in lists])
    members = np.array([m for ms in lists for m in ms], dtype=np.int64)
    return pointers, members


def _ranks(values):
    """The distinct values (sorted) and each value's position among them."""
    import numpy as np

    if not len(values):
        return values, values
    low, high = int(values.min()), int(values.max())
    if high - low > 8 * len(values) + 65536:
        return np.unique(values, return_inverse=True)
    present = np.zeros(high - low + 1, dtype=bool)
    present[values - low] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, rank[values - low]


def _sorted_pairs(major, minor):
    """Distinct (major, minor) pairs of two non-negative integer arrays, sorted."""
    import numpy as np

    if not len(major):
        return major, minor
    span = int(minor.max()) + 1
    if int(major.max()) + 1 > (2**62) // span:
        pairs = np.unique(np.stack([major, minor], axis=1), axis=0)
        return pairs[:, 0], pairs[:, 1]
    # (np.unique hashes integers in numpy 2, several times slower than a sort here.)
    combined = np.sort(major * span + minor)
    distinct = np.ones(len(combined), dtype=bool)
    distinct[1:] = combined[1:] != combined[:-1]
    combined = combined[distinct]
    return combined // span, combined % span


def _covered_per_group(group, starts, ends, groups: int):
    """Characters covered by the spans of each group (overlapping or touching spans
    counted once), for every group at once: an array of ``groups`` totals."""
    import numpy as np

    totals = np.zeros(groups, dtype=np.int64)
    if not len(starts):
        return totals
    width = int(ends.max()) + 1
    # Sorted by group, then start: (group, start, end) packed into one number where it
    # fits (one sort of plain integers is the fastest way numpy has).
    if groups * width <= (2**62) // width:
        packed = np.sort((group * width + starts) * width + ends)
        group_start, ends = packed // width, packed % width
        group = group_start // width
        # Each group shifted past the one before, so that one running maximum serves
        # them all.
        starts, ends = group_start, group * width + ends
    else:
        order = np.lexsort((starts, group))
        group = group[order]
        starts, ends = starts[order] + group * width, ends[order] + group * width
    reach = np.maximum.accumulate(ends)
    new = np.ones(len(starts), dtype=bool)
    new[1:] = starts[1:] > reach[:-1]
    first = np.flatnonzero(new)
    last = np.append(first[1:], len(starts)) - 1
    np.add.at(totals, group[first], reach[last] - starts[first])
    return totals


def _matrix_from_groups(
    study: Study, column_of, keys_of_source, count: str, *, coder, visible_to, filters
):
    """Matrix cells from the codings read as arrays (``_coding_arrays``), counted in
    numpy: each coding goes to every (row key of its source, column of its code)."""
    import numpy as np

    fields = ("id", "source_id", "start", "end") if count == "characters" else ("id", "source_id")
    codings = _coding_arrays(
        study, set(column_of), coder=coder, visible_to=visible_to, filters=filters, fields=fields
    )
    if not len(codings["id"]):
        return {}, set()
    sources, source_of = _ranks(codings["source_id"])
    codes, code_of = _ranks(codings["code_id"])
    # Row keys (of each source) and columns (of each code) as positions in these lists.
    key_at: dict = {}
    seen: set = set()
    keys_by_source = []
    for source_id in sources.tolist():
        found = keys_of_source(source_id)
        seen |= found
        keys_by_source.append([key_at.setdefault(key, len(key_at)) for key in found])
    keys = list(key_at)
    columns = sorted({column for code in codes.tolist() for column in column_of[code]})
    column_at = {column: i for i, column in enumerate(columns)}
    width = len(columns)
    columns_by_code = _lists([[column_at[c] for c in column_of[code]] for code in codes.tolist()])
    sources_keys = _lists(keys_by_source)
    # One entry per (coding, column), then per (coding, column, row key).
    coding, column = _expand(code_of, *columns_by_code)
    entry, key = _expand(source_of[coding], *sources_keys)
    if not len(entry):
        return {}, seen
    cell = key * width + column[entry]
    cell_of_id, ids = _sorted_pairs(cell, codings["id"][coding[entry]])
    size = len(keys) * width
    if count == "segments":
        values = np.bincount(cell_of_id, minlength=size)
    else:
        # (source, column) pairs with codings, each counted once in the cells of the
        # source's row keys: as one source, or with the characters covered there.
        pair = source_of[coding] * width + column
        if count == "sources":
            present = np.flatnonzero(np.bincount(pair, minlength=len(sources) * width))
            weight = np.ones(len(present), dtype=np.int64)
        else:
            covered = _covered_per_group(
                pair, codings["start"][coding], codings["end"][coding], len(sources) * width
            )
            present = np.flatnonzero(covered)
            weight = covered[present]
        at, key = _expand(present // width, *sources_keys)
        values = np.zeros(size, dtype=np.int64)
        np.add.at(values, key * width + present[at] % width, weight[at])
    bounds = np.flatnonzero(np.diff(cell_of_id)) + 1
    begins = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), len(cell_of_id)]
    values = values.tolist()
    cells: dict[tuple[object, int], MatrixCell] = {}
    for begin, end in zip(begins, ends, strict=True):
        at = int(cell_of_id[begin])
        cells[(keys[at // width], columns[at % width])] = MatrixCell(
            values[at], ids[begin:end].tolist()
        )
    return cells, seen


def matrix_coding(
    study: Study,
    codes: Sequence,
    rows: str = "cases",
    *,
    case_kind: str | None = None,
    cases: Sequence | None = None,
    attribute: str | None = None,
    count: str = "segments",
    include_subcodes: bool = True,
    case_filters: Mapping | None = None,
    coder=None,
    visible_to=None,
) -> Matrix:
    """A matrix coding query: rows are cases (of ``case_kind``, or the ``cases`` given) or
    the values of ``attribute``; columns are ``codes`` (each with its sub-codes).

    ``count``: "segments" (codings), "sources" (distinct sources) or "characters" (the
    characters covered, overlaps counted once). Each cell lists its coding ids.
    ``attribute`` is one of role, organisation, region, phase, sector, source_kind, or
    the name of a case attribute.
    """
    if count not in COUNTS:
        raise ValueError(f'count must be one of {", ".join(COUNTS)}, not "{count}"')
    if rows not in {"cases", "attribute"}:
        raise ValueError(f'rows must be "cases" or "attribute", not "{rows}"')
    if rows == "attribute" and not attribute:
        raise ValueError("rows by attribute need the attribute's name")
    columns, column_of = _columns_of(study, codes, include_subcodes)
    filters = _check_filters(case_filters)
    if not set(filters) - _SOURCE_FILTERS:
        # Where a coding's row keys follow from its source alone, the database groups
        # the codings by source and code, and the counts are made from the groups.
        index = CaseIndex(study, Source.objects.filter(study=study).values_list("id", flat=True))
        chosen_rows = _chosen_case_rows(index, cases, case_kind) if rows == "cases" else []
        keys_of_source = _matrix_keys_by_source(
            study, rows, attribute, {r.key for r in chosen_rows}, index
        )
        if keys_of_source is not None:
            cells, seen = _matrix_from_groups(
                study,
                column_of,
                keys_of_source,
                count,
                coder=coder,
                visible_to=visible_to,
                filters=filters,
            )
            if rows == "attribute":
                chosen_rows = [MatrixRow(v, str(v)) for v in sorted(seen, key=str)]
            return Matrix(chosen_rows, columns, count, cells)
    coding_rows, index = _coding_rows(
        study,
        code_ids=set(column_of),
        coder=coder,
        visible_to=visible_to,
        case_filters=case_filters,
        ordered=False,
    )
    matrix_rows: list[MatrixRow]
    if rows == "cases":
        matrix_rows = _chosen_case_rows(index, cases, case_kind)
        row_keys = {r.key for r in matrix_rows}

        def keys_of(row):
            return index.case_ids(row) & row_keys
    else:
        keys_of = _attribute_values(study, attribute, index)
    items: dict[tuple[object, int], list[tuple]] = defaultdict(list)
    seen: set = set()
    for row in coding_rows:
        keys = keys_of(row)
        if not keys:
            continue
        seen |= keys
        for column in column_of[row[CODE]]:
            for key in keys:
                items[(key, column)].append(row)
    if rows == "attribute":
        matrix_rows = [MatrixRow(v, str(v)) for v in sorted(seen, key=str)]
    cells: dict[tuple[object, int], MatrixCell] = {}
    for cell_key, cell_rows in items.items():
        ids = sorted({r[ID] for r in cell_rows})
        if count == "segments":
            value = len(ids)
        elif count == "sources":
            value = len({r[SOURCE] for r in cell_rows})
        else:
            by_source = defaultdict(list)
            for r in cell_rows:
                by_source[r[SOURCE]].append((r[START], r[END]))
            value = sum(_union_length(s) for s in by_source.values())
        cells[cell_key] = MatrixCell(value, ids)
    return Matrix(matrix_rows, columns, count, cells)


# --- co-occurrence ----------------------------------------------------------------------

UNEQUAL_RATIO = 5


@dataclass(frozen=True)
class CooccurrencePair:
    code_a: int
    code_b: int
    count: int  # n12: overlapping pairs of codings (A's coding, B's coding)
    coefficient: float | None  # n12 / (n1 + n2 - n12)
    warning: str = ""


@dataclass
class Cooccurrence:
    codes: list[Code]
    frequencies: dict[int, int]  # n: codings of each code (with its sub-codes)
    pairs: dict[tuple[int, int], CooccurrencePair]
    warnings: list[str]

    def pair(self, a, b) -> CooccurrencePair | None:
        a, b = _as_id(a), _as_id(b)
        return self.pairs.get((a, b)) or self.pairs.get((b, a))


def cooccurrence(
    study: Study,
    codes: Sequence,
    *,
    include_subcodes: bool = True,
    coder=None,
    visible_to=None,
    case_filters: Mapping | None = None,
) -> Cooccurrence:
    """Co-occurrence of codes: how many pairs of their codings overlap in a source.

    The coefficient is ATLAS.ti's c-coefficient, n12 / (n1 + n2 − n12), where n1 and n2
    count each code's codings. It is marked when one code is used more than
    ``UNEQUAL_RATIO`` times as often as the other (the coefficient then stays small even
    when the rarer code always co-occurs), and when n12 exceeds the smaller frequency
    (one coding overlapping several of the other's, which inflates the coefficient).
    """
    columns, column_of = _columns_of(study, codes, include_subcodes)
    ids = [c.id for c in columns]
    filters = _check_filters(case_filters)
    if not set(filters) - _SOURCE_FILTERS:
        frequencies, counts = _overlaps_from_groups(
            study, ids, column_of, coder=coder, visible_to=visible_to, filters=filters
        )
    else:
        frequencies, counts = _overlaps_from_rows(
            study, ids, column_of, coder=coder, visible_to=visible_to, case_filters=case_filters
        )
    return _cooccurrence_result(columns, ids, frequencies, counts)


def _overlaps_from_groups(study: Study, ids, column_of, *, coder, visible_to, filters):
    """Code frequencies and overlapping pairs of codings per pair of columns, from the
    codings read as arrays (``_coding_arrays``) and a sweep over all sources at once."""
    import numpy as np

    codings = _coding_arrays(
        study,
        set(column_of),
        coder=coder,
        visible_to=visible_to,
        filters=filters,
        fields=("source_id", "start", "end"),
    )
    frequencies = dict.fromkeys(ids, 0)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    if not len(codings["source_id"]):
        return frequencies, counts
    _, source = _ranks(codings["source_id"])
    starts, ends, code_ids = codings["start"], codings["end"], codings["code_id"]
    # Each source shifted past the one before: one sorted list holds every source, and
    # spans of different sources never overlap in it.
    shift = source * (int(ends.max()) + 1)
    order = np.argsort(starts + shift, kind="stable")
    starts, ends = starts[order] + shift[order], ends[order] + shift[order]
    code_ids = code_ids[order]
    codes_used, code_index = _ranks(code_ids)
    for code_id, n in zip(codes_used.tolist(), np.bincount(code_index).tolist(), strict=True):
        for column in column_of[code_id]:
            frequencies[column] += n
    # Coding i overlaps every later coding j (in start order) that starts before i ends.
    reach = np.searchsorted(starts, ends, side="left")
    after = np.arange(len(starts))
    overlapping = reach - after - 1
    first = np.repeat(after, overlapping)
    offsets = np.repeat(np.cumsum(overlapping) - overlapping, overlapping)
    second = first + 1 + (np.arange(len(first)) - offsets)
    width = len(codes_used)
    pair_counts = np.bincount(
        code_index[first] * width + code_index[second], minlength=width * width
    ).reshape(width, width)
    for a, b in zip(*np.nonzero(pair_counts), strict=True):
        n = int(pair_counts[a, b])
        for x in column_of[int(codes_used[a])]:
            for y in column_of[int(codes_used[b])]:
                if x != y:
                    counts[(min(x, y), max(x, y))] += n
    return frequencies, counts


def _overlaps_from_rows(study: Study, ids, column_of, *, coder, visible_to, case_filters):
    rows, _ = _coding_rows(
        study,
        code_ids=set(column_of),
        coder=coder,
        visible_to=visible_to,
        case_filters=case_filters,
        ordered=False,
    )
    frequencies = dict.fromkeys(ids, 0)
    by_source: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for r in rows:
        for column in column_of[r[CODE]]:
            frequencies[column] += 1
            by_source[r[SOURCE]].append((r[START], r[END], column, r[ID]))
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for items in by_source.values():
        items.sort()
        active: list[tuple[int, int, int, int]] = []
        for item in items:
            start = item[0]
            active = [a for a in active if a[1] > start]
            for other in active:
                if other[2] != item[2] and other[3] != item[3]:
                    key = (min(other[2], item[2]), max(other[2], item[2]))
                    counts[key] += 1
            active.append(item)
    return frequencies, counts


def _cooccurrence_result(columns, ids, frequencies, counts) -> Cooccurrence:
    pairs = {}
    warnings = []
    names = {c.id: c.name for c in columns}
    for position, x in enumerate(ids):
        for y in ids[position + 1 :]:
            n12 = counts.get((min(x, y), max(x, y)), 0)
            n1, n2 = frequencies[x], frequencies[y]
            denominator = n1 + n2 - n12
            coefficient = n12 / denominator if denominator > 0 else None
            notes = []
            low, high = sorted((n1, n2))
            if low and high / low > UNEQUAL_RATIO:
                notes.append(
                    f"frequencies are very unequal ({n1} and {n2}): the coefficient "
                    "understates how often the rarer code co-occurs"
                )
            elif low == 0 and high:
                notes.append("one of the codes is not used")
            if n12 > low:
                notes.append(
                    f"{n12} overlapping pairs but only {low} codings of the rarer code: "
                    "some codings overlap several of the other's"
                )
            warning = "; ".join(notes)
            pairs[(x, y)] = CooccurrencePair(x, y, n12, coefficient, warning)
            if warning:
                warnings.append(f"{names[x]} × {names[y]}: {warning}")
    return Cooccurrence(columns, frequencies, pairs, warnings)


# --- agreement between coders -----------------------------------------------------------


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement of two or more coders on one code (or, for ``overall``, on all codes)."""

    code_id: int | None
    code_name: str
    characters_all_text: stats.KappaResult  # every character a unit
    characters_coded_text: stats.KappaResult  # only characters some coder coded
    turns: stats.KappaResult | None  # a turn coded if a coding overlaps it; None: no turns
    alpha: float | None  # Krippendorff's alpha, nominal, per-character presence

    LABELS = {
        "characters_all_text": "Cohen's kappa over characters, all text",
        "characters_coded_text": "Cohen's kappa over characters, text some coder coded",
        "turns": "Cohen's kappa over speaker turns",
        "alpha": "Krippendorff's alpha (nominal, per character)",
    }


@dataclass
class AgreementReport:
    coders: list
    sources: list[int]
    codes: list[CodeAgreement]
    overall: CodeAgreement | None
    notes: list[str] = field(default_factory=list)


def _presence_tables(length: int, a_spans, b_spans):
    """2x2 tables (all text, coded text) of per-character presence for two coders."""
    result = stats.character_agreement(length, a_spans, b_spans)
    return result


def _presence_alpha(rows: list) -> float | None:
    """Krippendorff's alpha (nominal) of complete 0/1 presence rows, one per coder.

    The same library call as ``agreement.krippendorff_alpha`` and the same answer (see the
    tests), without its per-value shaping in Python, which a study's worth of characters
    (millions of units) makes slow. None where alpha is undefined (no variation).
    """
    import krippendorff
    import numpy as np

    matrix = np.vstack(rows).astype(float) if rows else np.zeros((0, 0))
    if matrix.shape[1] == 0 or np.unique(matrix).size < 2:
        return None
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def _sum_kappa(tables: list) -> stats.KappaResult:
    import numpy as np

    total = np.zeros((2, 2))
    for table in tables:
        total += table
    return stats.kappa_from_table(total)


def _coverage(length: int, spans) -> list[bool]:
    import numpy as np

    covered = np.zeros(length, dtype=bool)
    for start, end in spans:
        covered[start:end] = True
    return covered


def _agreement(
    sources: list[dict],
    coders: list,
    code_ids: list[int],
    codings: dict[tuple[int, int, int], list[tuple[int, int]]],
    names: dict[int, str],
    turns: dict[int, tuple[list[int], list[int]]],
) -> tuple[list[CodeAgreement], CodeAgreement | None, list[str]]:
    import numpy as np

    first, second = coders[0], coders[1]
    per_code = []
    pooled: dict[str, list] = {"all": [], "coded": [], "turns": []}
    pooled_alpha_rows: list[list] = [[] for _ in coders]
    notes: list[str] = []
    for code_id in code_ids:
        tables_all, tables_coded, tables_turns = [], [], []
        alpha_rows: list[list] = [[] for _ in coders]
        for source in sources:
            sid, length = source["id"], source["length"]
            covers = [_coverage(length, codings.get((sid, code_id, c), ())) for c in coders]
            a, b = covers[0], covers[1]
            both = a & b
            a_only, b_only = a & ~b, ~a & b
            neither = ~a & ~b
            table = np.array(
                [[both.sum(), a_only.sum()], [b_only.sum(), neither.sum()]], dtype=float
            )
            tables_all.append(table)
            coded = table.copy()
            coded[1, 1] = 0
            tables_coded.append(coded)
            if sid in turns:
                starts, ends = turns[sid]
                labels = []
                for coder in (first, second):
                    spans = codings.get((sid, code_id, coder), ())
                    labels.append(
                        [
                            any(s < turn_end and t > turn_start for s, t in spans)
                            for turn_start, turn_end in zip(starts, ends, strict=True)
                        ]
                    )
                turn_table = np.zeros((2, 2))
                for x, y in zip(labels[0], labels[1], strict=True):
                    turn_table[0 if x else 1, 0 if y else 1] += 1
                tables_turns.append(turn_table)
            for row, cover in zip(alpha_rows, covers, strict=True):
                row.append(cover.astype(int))
        all_result = _sum_kappa(tables_all)
        coded_result = _sum_kappa(tables_coded)
        turns_result = _sum_kappa(tables_turns) if tables_turns else None
        reliability = [np.concatenate(r) if r else np.zeros(0, dtype=int) for r in alpha_rows]
        alpha = _presence_alpha(reliability)
        per_code.append(
            CodeAgreement(code_id, names[code_id], all_result, coded_result, turns_result, alpha)
        )
        pooled["all"].extend(tables_all)
        pooled["coded"].extend(tables_coded)
        pooled["turns"].extend(tables_turns)
        for pooled_row, row in zip(pooled_alpha_rows, reliability, strict=True):
            pooled_row.append(row)
    if not per_code:
        return [], None, notes
    pooled_reliability = [np.concatenate(r) for r in pooled_alpha_rows]
    overall = CodeAgreement(
        None,
        "All codes",
        _sum_kappa(pooled["all"]),
        _sum_kappa(pooled["coded"]),
        _sum_kappa(pooled["turns"]) if pooled["turns"] else None,
        _presence_alpha(pooled_reliability),
    )
    if len(coders) > 2:
        notes.append(
            "Cohen's kappa compares the first two coders; Krippendorff's alpha uses all "
            f"{len(coders)}."
        )
    return per_code, overall, notes


def agreement_for_sources(
    study: Study, sources: Sequence, coders: Sequence, codes: Sequence | None = None
) -> AgreementReport:
    """Agreement of ``coders`` (two or more users) on ``sources``, per code and overall.

    Each (character, code) is a unit coded present or absent by each coder. Kappa over
    characters is given twice, labelled: over all text, and over the text at least one
    coder coded. Kappa over turns counts a turn as coded when a coding overlaps it.
    Codes are taken as applied (a sub-code is not counted towards its parent). Without
    ``codes``, every code either coder used on these sources.
    """
    coder_ids = [_as_id(c) for c in coders]
    if len(set(coder_ids)) < 2:
        raise ValueError("agreement needs at least two different coders")
    source_ids = [_as_id(s) for s in sources]
    source_rows = list(Source.objects.filter(study=study, pk__in=source_ids).values("id", "text"))
    source_rows = [{"id": s["id"], "length": len(s["text"])} for s in source_rows]
    rows = list(
        Coding.objects.filter(source_id__in=source_ids, coder_id__in=coder_ids).values_list(
            "source_id", "code_id", "coder_id", "start", "end"
        )
    )
    codings: dict[tuple[int, int, int], list[tuple[int, int]]] = defaultdict(list)
    for source_id, code_id, coder_id, start, end in rows:
        codings[(source_id, code_id, coder_id)].append((start, end))
    if codes is None:
        code_ids = sorted({r[1] for r in rows})
    else:
        code_ids = [_as_id(c) for c in codes]
    names = code_paths(study)
    turns = {sid: t for sid, t in _turn_numbers(source_ids).items() if t[0]}
    per_code, overall, notes = _agreement(source_rows, coder_ids, code_ids, codings, names, turns)
    return AgreementReport(list(coders), source_ids, per_code, overall, notes)


def agreement_for_source(source: Source, coders: Sequence, codes: Sequence | None = None):
    return agreement_for_sources(source.study, [source], coders, codes)


def agreement_for_study(study: Study, coders: Sequence, codes: Sequence | None = None):
    """Agreement over every source that at least two of ``coders`` coded."""
    coder_ids = [_as_id(c) for c in coders]
    by_source: dict[int, set[int]] = defaultdict(set)
    for source_id, coder_id in (
        Coding.objects.filter(source__study=study, coder_id__in=coder_ids)
        .values_list("source_id", "coder_id")
        .distinct()
    ):
        by_source[source_id].add(coder_id)
    shared = sorted(sid for sid, who in by_source.items() if len(who) >= 2)
    return agreement_for_sources(study, shared, coders, codes)


def differences(source: Source, coders: Sequence, code) -> list[tuple[int, int, list[int]]]:
    """Where coders differ on ``code`` in ``source``: ``(start, end, coder ids who coded)``
    for each maximal stretch coded by some but not all of them."""
    coder_ids = [_as_id(c) for c in coders]
    length = len(source.text)
    import numpy as np

    covers = []
    for coder_id in coder_ids:
        spans = Coding.objects.filter(
            source=source, code_id=_as_id(code), coder_id=coder_id
        ).values_list("start", "end")
        covers.append(_coverage(length, spans))
    if not covers:
        return []
    stacked = np.array(covers)
    # Stretches end wherever any coder's coverage changes.
    changes = np.flatnonzero((stacked[:, 1:] != stacked[:, :-1]).any(axis=0)) + 1
    bounds = [0, *changes.tolist(), length]
    result = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        column = stacked[:, start]
        if column.any() and not column.all():
            result.append((start, end, [c for c, on in zip(coder_ids, column, strict=True) if on]))
    return result


# --- the codebook as records ------------------------------------------------------------


def codebook_records(study: Study, *, active_only: bool = True):
    """The codebook as CodeRecords in tree order (for CSV and .qdc export)."""
    from .codebook.records import CodeRecord

    rq_numbers: dict[int, list[int]] = defaultdict(list)
    through = Code.research_questions.through.objects.filter(code__study=study)
    for code_id, number in through.values_list("code_id", "researchquestion__number"):
        rq_numbers[code_id].append(number)
    paths = code_paths(study)
    return [
        CodeRecord(
            path=paths[code.id],
            definition=code.definition,
            inclusion=code.inclusion,
            exclusion=code.exclusion,
            example=code.example,
            colour=code.colour,
            rq=tuple(sorted(rq_numbers.get(code.id, []))),
            guid=str(code.guid),
        )
        for code, _ in code_tree(study, active_only=active_only)
    ]


@dataclass(frozen=True)
class CategoryAgreement:
    """Agreement on which of a set of mutually exclusive codes each turn was given."""

    units: int  # turns
    alpha: float | None  # Krippendorff's alpha, nominal, over all coders
    kappa: stats.KappaResult | None  # Cohen's kappa of the first two coders (turns both coded)
    ambiguous: int  # (coder, turn) pairs with more than one of the codes: left out


def category_agreement_over_turns(
    study: Study, sources: Sequence, coders: Sequence, codes: Sequence
) -> CategoryAgreement:
    """Treat ``codes`` as the categories of one nominal variable and each speaker turn as a
    unit: a coder's value for a turn is the one code of the set whose coding overlaps it,
    missing if none does (or if several do, counted in ``ambiguous``).
    """
    coder_ids = [_as_id(c) for c in coders]
    code_ids = [_as_id(c) for c in codes]
    source_ids = [_as_id(s) for s in sources]
    turns = _turn_numbers(source_ids)
    spans: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
    for source_id, coder_id, code_id, start, end in Coding.objects.filter(
        source_id__in=source_ids, coder_id__in=coder_ids, code_id__in=code_ids
    ).values_list("source_id", "coder_id", "code_id", "start", "end"):
        spans[(source_id, coder_id)].append((start, end, code_id))
    rows: list[list] = [[] for _ in coder_ids]
    ambiguous = 0
    for source_id in source_ids:
        starts, ends = turns.get(source_id, ([], []))
        for turn_start, turn_end in zip(starts, ends, strict=True):
            for row, coder_id in zip(rows, coder_ids, strict=True):
                found = {
                    code_id
                    for start, end, code_id in spans.get((source_id, coder_id), ())
                    if start < turn_end and end > turn_start
                }
                if len(found) > 1:
                    ambiguous += 1
                row.append(found.pop() if len(found) == 1 else None)
    units = len(rows[0]) if rows else 0
    alpha = stats.krippendorff_alpha(rows, "nominal") if units else None
    kappa = stats.cohen_kappa(rows[0], rows[1]) if len(rows) >= 2 and units else None
    return CategoryAgreement(units, alpha, kappa, ambiguous)
