"""The fast query paths (source texts kept in memory, codings read as arrays and counted
in numpy) give the answers of plain, obviously correct computations over the rows:
segments (text, speakers, cases, order), matrix cells with their coding ids, co-occurrence
and search hits, on seeded random studies with overlapping codings, nested codes, several
coders, a blind reliability check, speaker turns (some overlapping) and cases of every
kind. Each query runs with the source cache empty and full. Runs on SQLite and on
PostgreSQL (TRIANGULUM_DATABASE_URL)."""

import random
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from triangulum.casework import actions, queries
from triangulum.casework.models import (
    Case,
    Code,
    Coding,
    Initiative,
    ReliabilityAssignment,
    Source,
    Turn,
)
from triangulum.casework.tests import core_fixtures
from triangulum.organisations.models import Organisation
from triangulum.studies.actions import register_participant
from triangulum.studies.models import RoleCategory

pytestmark = pytest.mark.django_db

team = core_fixtures.team

WORDS = (
    "the governing body decided Café pathway frail older people practice GP budget "
    "Ærø naïve community 𝒜strategy integrated care Board meeting referral data"
).split()


def talk(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def build_world(study, users, seed: int) -> dict:
    """A study coded at random: every kind of case, turns linked to participants, one
    source with overlapping turns, one without turns, and a blind reliability check."""
    rng = random.Random(seed)
    lead = users["lead"]
    coders = [users["coder"], users["coder2"], users["researcher"]]
    north = Organisation.objects.create(
        org_type="ccg", ods_code="01A", name="NHS North CCG", region_name="North of England"
    )
    south = Organisation.objects.create(
        org_type="ccg", ods_code="02B", name="NHS South CCG", region_name="South of England"
    )
    people = [
        register_participant(
            actor=lead, study=study, role_category=role, organisation=org, pseudonym=name
        )
        for name, role, org in (
            ("P1", RoleCategory.GP_MEMBER, north),
            ("P2", RoleCategory.MANAGER, north),
            ("P3", RoleCategory.NURSE, south),
        )
    ]
    phases = [
        study.phases.create(order=1, kind="pilot_case_studies", name="Pilot"),
        study.phases.create(order=3, kind="in_depth_case_studies", name="In depth"),
    ]
    sources = []
    for number in range(5):
        speaker = f"P{1 + number % 3}"
        lines = [f"Simulated interview {number}"]
        for turn in range(rng.randint(3, 6)):
            label = "I" if turn % 2 == 0 else speaker
            lines.append(f"{label}: {talk(rng, rng.randint(4, 25))}")
        sources.append(
            actions.create_source_from_text(
                study=study,
                title=f"Interview {'Zéta' if number == 2 else number}",
                text="\n".join(lines) + "\n",
                kind="interview",
                actor=lead,
                site=(north, south, None)[number % 3],
                phase=phases[number % 2],
            )  # fmt: skip
        )
    document = actions.create_source_from_text(
        study=study, title="Board paper", text=talk(rng, 80), kind="document", actor=lead,
        site=north,
    )  # fmt: skip
    sources.append(document)
    # Overlapping turns (as an import from another tool might bring): the general search.
    group = actions.create_source_from_text(
        study=study, title="Group notes", text=talk(rng, 60), kind="observation_notes",
        actor=lead, site=south, phase=phases[0],
    )  # fmt: skip
    length = len(group.text)
    for index, (start, end, label) in enumerate(
        [(0, length // 2, "A"), (length // 4, 3 * length // 4, "B"), (length // 3, length, "C")]
    ):
        Turn.objects.create(source=group, index=index, speaker_label=label, start=start, end=end)
    sources.append(group)

    codes = []
    for theme in range(3):
        parent = actions.create_code(study=study, name=f"Theme {theme}", actor=lead)
        codes.append(parent)
        for sub in range(2):
            child = actions.create_code(
                study=study, name=f"Code {theme}.{sub}", actor=lead, parent=parent
            )
            codes.append(child)
    codes.append(actions.create_code(study=study, name="Deep", actor=lead, parent=codes[1]))
    version = actions.current_codebook_version(study)
    rows = []
    for _ in range(220):
        source = rng.choice(sources)
        size = len(source.text)
        start = rng.randrange(0, size - 1)
        end = min(size, start + rng.randint(1, 90))
        rows.append(
            Coding(
                source=source, code=rng.choice(codes), start=start, end=end,
                coder=rng.choice(coders), codebook_version=version,
            )
        )  # fmt: skip
    # The same span by two coders, and a coding the same as another but for its code.
    rows.append(Coding(source=sources[0], code=codes[2], start=5, end=40, coder=coders[0],
                       codebook_version=version))  # fmt: skip
    rows.append(Coding(source=sources[0], code=codes[2], start=5, end=40, coder=coders[1],
                       codebook_version=version))  # fmt: skip
    rows.append(Coding(source=sources[0], code=codes[4], start=5, end=40, coder=coders[1],
                       codebook_version=version))  # fmt: skip
    Coding.objects.bulk_create(rows)

    for organisation in (north, south):
        actions.ensure_case(
            study=study, kind="site", name=f"Site {organisation.ods_code}", actor=lead,
            organisation=organisation, attributes={"area": organisation.ods_code[-1]},
        )  # fmt: skip
    for person in people[:2]:
        actions.ensure_case(
            study=study, kind="participant", name=person.pseudonym, actor=lead,
            participant=person, attributes={"seniority": "senior"},
        )  # fmt: skip
    manual = actions.ensure_case(
        study=study, kind="site", name="Manual", actor=lead, attributes={"area": "X"}
    )
    actions.attach_sources_to_case(case=manual, sources=[sources[1], group], actor=lead)
    initiative = Initiative.objects.create(
        study=study, name="Frailty", lead_organisation=north, sectors=["primary care"]
    )
    initiative.sources.add(sources[3])
    initiative.codings.add(*Coding.objects.filter(source=sources[4]).order_by("id")[:4])
    actions.ensure_case(
        study=study, kind="initiative", name="Frailty", actor=lead, initiative=initiative
    )
    check = ReliabilityAssignment.objects.create(study=study, source=sources[0], blind=True)
    check.coders.add(coders[0], coders[1])
    return {"sources": sources, "codes": codes, "coders": coders, "phases": phases}


# --- the plain computations ---------------------------------------------------------------


class Plain:
    """Everything read into plain Python once; the answers worked out row by row."""

    def __init__(self, study):
        self.study = study
        self.sources = {s.id: s for s in Source.objects.filter(study=study)}
        self.codings = list(
            Coding.objects.filter(source__study=study).values_list(
                "id", "source_id", "start", "end", "code_id", "coder_id"
            )
        )
        self.parent = dict(Code.objects.filter(study=study).values_list("id", "parent_id"))
        self.names = dict(Code.objects.filter(study=study).values_list("id", "name"))
        self.users = dict(get_user_model().objects.values_list("id", "username"))
        self.turns = defaultdict(list)
        for turn in Turn.objects.filter(source__study=study).select_related("participant"):
            self.turns[turn.source_id].append(turn)
        self.cases = list(Case.objects.filter(study=study).select_related("participant"))
        self.case_sources = defaultdict(set)
        for case in self.cases:
            for source_id in case.sources.values_list("id", flat=True):
                self.case_sources[source_id].add(case.id)
        self.initiative_sources = defaultdict(set)
        self.initiative_codings = defaultdict(set)
        for initiative in Initiative.objects.filter(study=study):
            for source_id in initiative.sources.values_list("id", flat=True):
                self.initiative_sources[source_id].add(initiative.id)
            for coding_id in initiative.codings.values_list("id", flat=True):
                self.initiative_codings[coding_id].add(initiative.id)
        self.blind = defaultdict(set)  # user → sources where only their codings show
        for check in ReliabilityAssignment.objects.filter(study=study, blind=True):
            for user_id in check.coders.values_list("id", flat=True):
                self.blind[user_id].add(check.source_id)

    def below(self, code_id, include_subcodes=True) -> set[int]:
        found = {code_id}
        if include_subcodes:
            changed = True
            while changed:
                more = {c for c, p in self.parent.items() if p in found} - found
                found |= more
                changed = bool(more)
        return found

    def visible(self, rows, visible_to=None, coder=None):
        user = visible_to.id if visible_to else None
        return [
            r
            for r in rows
            if (coder is None or r[5] == coder.id)
            and (user is None or r[1] not in self.blind[user] or r[5] == user)
        ]

    def case_ids(self, row) -> set[int]:
        coding_id, source_id, start, end = row[:4]
        source = self.sources[source_id]
        speakers = {
            t.participant_id
            for t in self.turns[source_id]
            if t.participant_id and t.start < end and t.end > start
        }
        initiatives = self.initiative_sources[source_id] | self.initiative_codings[coding_id]
        return {
            case.id
            for case in self.cases
            if case.id in self.case_sources[source_id]
            or (case.kind == "site" and case.organisation_id and case.organisation_id == source.site_id)
            or (case.participant_id and case.participant_id in speakers)
            or (case.initiative_id and case.initiative_id in initiatives)
        }  # fmt: skip

    def speaker(self, source_id, before, reaching) -> str:
        """The latest-starting turn (then the latest made) with start < before, end > reaching."""
        found = [t for t in self.turns[source_id] if t.start < before and t.end > reaching]
        if not found:
            return ""
        return max(found, key=lambda t: (t.start, t.id)).speaker_label

    def segment(self, row) -> tuple:
        coding_id, source_id, start, end, code_id, coder_id = row
        first = self.speaker(source_id, start + 1, start)
        last = self.speaker(source_id, end, start)
        labels = (first,) if first == last else (first, last)
        cases = sorted(
            ((c.kind, c.name, c.id) for c in self.cases if c.id in self.case_ids(row)),
        )
        source = self.sources[source_id]
        return (
            coding_id, source_id, source.title, start, end, source.text[start:end], code_id,
            self.names[code_id], coder_id, self.users[coder_id],
            tuple((i, k, n) for k, n, i in cases), tuple(label for label in labels if label),
        )  # fmt: skip

    def segments(self, code, *, include_subcodes=True, visible_to=None, coder=None):
        codes = self.below(code.id, include_subcodes)
        rows = self.visible([r for r in self.codings if r[4] in codes], visible_to, coder)
        return [self.segment(r) for r in sorted(rows, key=lambda r: (r[1], r[2], r[3], r[0]))]

    def row_keys(self, row, rows, attribute, chosen):
        source = self.sources[row[1]]
        if rows == "cases":
            return self.case_ids(row) & chosen
        if attribute == "organisation":
            return {source.site.name} if source.site_id else set()
        if attribute == "region":
            return {source.site.region_name} if source.site_id else set()
        if attribute == "phase":
            return {source.phase.name} if source.phase_id else set()
        if attribute == "source_kind":
            return {source.kind}
        return {
            str(c.attributes[attribute])
            for c in self.cases
            if c.id in self.case_ids(row) and attribute in (c.attributes or {})
        }

    def matrix(self, codes, rows, *, case_kind=None, attribute=None, count, include_subcodes,
               visible_to=None, coder=None):  # fmt: skip
        chosen = {c.id for c in self.cases if case_kind is None or c.kind == case_kind}
        members = {code.id: self.below(code.id, include_subcodes) for code in codes}
        items = defaultdict(list)
        seen = set()
        for row in self.visible(self.codings, visible_to, coder):
            columns = [column for column, inside in members.items() if row[4] in inside]
            if not columns:
                continue
            keys = self.row_keys(row, rows, attribute, chosen)
            seen |= keys
            for column in columns:
                for key in keys:
                    items[(key, column)].append(row)
        cells = {}
        for cell, cell_rows in items.items():
            ids = sorted({r[0] for r in cell_rows})
            if count == "segments":
                value = len(ids)
            elif count == "sources":
                value = len({r[1] for r in cell_rows})
            else:
                value = 0
                for source_id in {r[1] for r in cell_rows}:
                    covered = set()
                    for r in cell_rows:
                        if r[1] == source_id:
                            covered |= set(range(r[2], r[3]))
                    value += len(covered)
            cells[cell] = (value, ids)
        if rows == "cases":
            order = sorted((c.kind, c.name, c.id) for c in self.cases if c.id in chosen)
            row_list = [(i, n) for _, n, i in order]
        else:
            row_list = [(v, str(v)) for v in sorted(seen, key=str)]
        return row_list, cells

    def cooccurrence(self, codes, *, coder=None, visible_to=None):
        members = {code.id: self.below(code.id) for code in codes}
        rows = [
            (r, [c for c, inside in members.items() if r[4] in inside])
            for r in self.visible(self.codings, visible_to, coder)
        ]
        rows = [(r, columns) for r, columns in rows if columns]
        frequencies = {code.id: 0 for code in codes}
        for _, columns in rows:
            for column in columns:
                frequencies[column] += 1
        counts = defaultdict(int)
        for i, (a, a_columns) in enumerate(rows):
            for b, b_columns in rows[i + 1 :]:
                if a[1] == b[1] and a[2] < b[3] and b[2] < a[3]:
                    for x in a_columns:
                        for y in b_columns:
                            if x != y:
                                counts[(min(x, y), max(x, y))] += 1
        return frequencies, dict(counts)

    def search(self, query, *, context=60, limit=500, source_ids=None):
        needle = queries._fold(query.strip())
        order = Source.objects.filter(study=self.study).order_by("title", "id")
        if source_ids is not None:
            order = order.filter(pk__in=source_ids)
        hits = []
        for source_id in order.values_list("id", flat=True):
            source = self.sources[source_id]
            folded = queries._fold(source.text)
            at = folded.find(needle)
            while at != -1:
                start, end = at, at + len(needle)
                snippet_start = max(0, start - context)
                snippet = source.text[snippet_start : end + context]
                hits.append((source_id, source.title, start, end, snippet, snippet_start))
                if len(hits) >= limit:
                    return hits
                at = folded.find(needle, end)
        return hits


def as_plain(segment: queries.Segment) -> tuple:
    return (
        segment.coding_id, segment.source_id, segment.source_title, segment.start, segment.end,
        segment.text, segment.code_id, segment.code_name, segment.coder_id, segment.coder_name,
        tuple((c.id, c.kind, c.name) for c in segment.cases), segment.speakers,
    )  # fmt: skip


def twice(query, *args, **options):
    """The answer with the source cache emptied first, then again with it full."""
    queries._SOURCE_CACHE.clear()
    cold = query(*args, **options)
    warm = query(*args, **options)
    return cold, warm


# --- the comparisons ----------------------------------------------------------------------


@pytest.fixture(params=[2013, 7, 99])
def world(request, team):
    study, users = team
    made = build_world(study, users, request.param)
    return study, users, made, Plain(study)


def test_segments_match_the_plain_computation(world):
    study, users, made, plain = world
    coder_a, coder_b = made["coders"][:2]
    for code in made["codes"]:
        for include_subcodes in (True, False):
            expected = plain.segments(code, include_subcodes=include_subcodes)
            for found in twice(
                queries.segments_for_code, study, code, include_subcodes=include_subcodes
            ):
                assert [as_plain(s) for s in found] == expected, code.name
        expected = plain.segments(code, visible_to=coder_a, coder=coder_b)
        found = queries.segments_for_code(study, code, visible_to=coder_a, coder=coder_b)
        assert [as_plain(s) for s in found] == expected
    top = made["codes"][0]
    everything = plain.segments(top)
    page = queries.segments_for_code(study, top, limit=4, offset=3)
    assert [as_plain(s) for s in page] == everything[3:7]
    page = queries.segment_page(study, top, limit=4, offset=len(everything) - 2)
    assert page.total == len(everything)
    assert [as_plain(s) for s in page.segments] == everything[-2:]
    ids = [row[0] for row in plain.codings[::3]]
    expected = [
        plain.segment(r)
        for r in sorted(
            plain.visible([r for r in plain.codings if r[0] in set(ids)], visible_to=coder_a),
            key=lambda r: (r[1], r[2], r[3], r[0]),
        )
    ]
    for found in twice(queries.segments_by_ids, study, ids, visible_to=coder_a):
        assert [as_plain(s) for s in found] == expected


def test_segments_speakers_come_from_overlapping_turns_too(world):
    study, users, made, plain = world
    group = made["sources"][-1]
    found = [
        s
        for code in made["codes"]
        for s in queries.segments_for_code(study, code, include_subcodes=False)
        if s.source_id == group.id
    ]
    assert found, "the random codings missed the source with overlapping turns"
    assert any(s.speakers for s in found)


@pytest.mark.parametrize("count", queries.COUNTS)
def test_matrix_cells_match_the_plain_computation(world, count):
    study, users, made, plain = world
    themes = [c for c in made["codes"] if c.parent_id is None]
    nested = [made["codes"][0], made["codes"][1], made["codes"][-1], made["codes"][3]]
    coder_a, coder_b = made["coders"][:2]
    shapes = [
        ("cases", {"case_kind": "site"}),
        ("cases", {"case_kind": "initiative"}),
        ("cases", {"case_kind": "participant"}),
        ("cases", {}),
        ("attribute", {"attribute": "area"}),
        ("attribute", {"attribute": "organisation"}),
        ("attribute", {"attribute": "region"}),
        ("attribute", {"attribute": "phase"}),
        ("attribute", {"attribute": "source_kind"}),
        ("attribute", {"attribute": "seniority"}),
    ]
    for codes in (themes, nested):
        for include_subcodes in (True, False):
            for rows, options in shapes:
                expected = plain.matrix(
                    codes, rows, count=count, include_subcodes=include_subcodes, **options
                )
                matrix = queries.matrix_coding(
                    study, codes, rows, count=count, include_subcodes=include_subcodes, **options
                )
                cells = {k: (v.count, v.coding_ids) for k, v in matrix.cells.items()}
                assert ([(r.key, r.label) for r in matrix.rows], cells) == expected, (
                    rows,
                    options,
                )
    expected = plain.matrix(
        themes, "cases", case_kind="site", count=count, include_subcodes=True,
        visible_to=coder_a, coder=coder_b,
    )  # fmt: skip
    matrix = queries.matrix_coding(
        study, themes, "cases", case_kind="site", count=count, visible_to=coder_a, coder=coder_b
    )
    cells = {k: (v.count, v.coding_ids) for k, v in matrix.cells.items()}
    assert ([(r.key, r.label) for r in matrix.rows], cells) == expected


def test_cooccurrence_matches_the_plain_computation(world):
    study, users, made, plain = world
    themes = [c for c in made["codes"] if c.parent_id is None]
    nested = [made["codes"][0], made["codes"][1], made["codes"][2], made["codes"][-1]]
    coder_a, coder_b = made["coders"][:2]
    for codes, options in (
        (themes, {}),
        (nested, {}),
        (made["codes"], {"coder": coder_b}),
        (themes, {"visible_to": coder_a}),
    ):
        frequencies, counts = plain.cooccurrence(codes, **options)
        result = queries.cooccurrence(study, codes, **options)
        assert result.frequencies == frequencies
        found = {key: pair.count for key, pair in result.pairs.items() if pair.count}
        assert found == {key: n for key, n in counts.items() if n}


def test_search_hits_match_the_plain_computation(world):
    study, users, made, plain = world
    some = [s.id for s in made["sources"][::2]]
    for query, options in (
        ("the", {}),
        ("governing body", {"limit": 7}),
        ("GOVERNING body", {"context": 5}),
        ("café", {}),
        ("𝒜strategy", {}),
        ("ærø naïve", {}),
        ("zeugma", {}),
        ("data", {"source_ids": some, "limit": 5}),
    ):
        expected = plain.search(query, **options)
        for found in twice(queries.search_text, study, query, **options):
            assert [
                (h.source_id, h.source_title, h.start, h.end, h.snippet, h.snippet_start)
                for h in found
            ] == expected, query


# --- the source cache -----------------------------------------------------------------


class Rollback(Exception):
    pass


def test_a_source_reusing_an_id_is_not_given_the_text_of_one_rolled_back(team):
    """In SQLite an id freed by a rollback is used again (as in tests): the cache key
    (id, guid, creation time) must tell the two sources apart."""
    study, users = team
    lead, coder = users["lead"], users["coder"]
    code = actions.create_code(study=study, name="Money", actor=lead)
    try:
        with transaction.atomic():
            first = actions.create_source_from_text(
                study=study, title="Notes", text="Alpha text about money.", kind="document",
                actor=lead,
            )  # fmt: skip
            actions.apply_coding(source=first, code=code, start=0, end=10, coder=coder)
            [segment] = queries.segments_for_code(study, code)
            assert segment.text == "Alpha text"
            assert queries.search_text(study, "alpha")
            first_id = first.id
            raise Rollback
    except Rollback:
        pass
    second = actions.create_source_from_text(
        study=study, title="Notes", text="Beta words about budgets.", kind="document",
        actor=lead,
    )  # fmt: skip
    if connection.vendor == "sqlite":
        assert second.id == first_id  # what the test is about (PostgreSQL never reuses ids)
    actions.apply_coding(source=second, code=code, start=0, end=10, coder=coder)
    [segment] = queries.segments_for_code(study, code)
    assert segment.text == "Beta words"
    assert not queries.search_text(study, "alpha")
    assert [h.start for h in queries.search_text(study, "beta")] == [0]


def test_the_source_cache_stays_within_its_budget(team):
    study, users = team
    sources = [
        actions.create_source_from_text(
            study=study,
            title=f"Text {n}",
            text=f"Text number {n}. " * 2000,
            kind="document",
            actor=users["lead"],
        )  # fmt: skip
        for n in range(4)
    ]
    _, _, keys = queries._sources_with_keys(study)
    one = queries._SourceEntry(sources[0].text).size
    cache = queries._SourceCache(budget=2 * one + one // 2)
    for _ in range(2):
        texts = cache.texts(keys)
        assert texts == {s.id: s.text for s in sources}
        folded = cache.folded(keys, texts)
        assert folded == {s.id: s.text.casefold() for s in sources}
        assert cache.size <= cache.budget
        assert cache.size == sum(entry.size for entry in cache.entries.values())
        assert 1 <= len(cache.entries) <= 2
