"""Retrieval, search, code combinations, matrix coding, co-occurrence, visibility and
agreement — on small studies built here, whose answers can be worked out by hand."""

import pytest
from django.contrib.auth import get_user_model

from triangulum.casework import actions, agreement, queries
from triangulum.casework.models import Initiative, ReliabilityAssignment
from triangulum.casework.tests import core_fixtures
from triangulum.organisations.models import Organisation
from triangulum.studies.actions import register_participant
from triangulum.studies.models import RoleCategory

pytestmark = pytest.mark.django_db

team = core_fixtures.team

# Offsets are worked out from these texts in the tests (text.index), not typed in.
NORTH_TEXT = (
    "I: How did the frailty work begin?\n"
    "GP1: The deficit forced it. We had no money for anything new.\n"
    "I: Who led it?\n"
    "M1: The practices led, with our analysts behind them.\n"
)
SOUTH_TEXT = (
    "I: What got in the way?\nN1: Money, always money. And Café culture: talk, no action.\n"
)


@pytest.fixture
def world(team):
    study, users = team
    lead = users["lead"]
    north = Organisation.objects.create(
        org_type="ccg", ods_code="01A", name="NHS North CCG", region_name="North of England"
    )
    south = Organisation.objects.create(
        org_type="ccg", ods_code="02B", name="NHS South CCG", region_name="South of England"
    )
    gp = register_participant(
        actor=lead, study=study, role_category=RoleCategory.GP_MEMBER, organisation=north,
        pseudonym="GP1",
    )  # fmt: skip
    manager = register_participant(
        actor=lead, study=study, role_category=RoleCategory.MANAGER, organisation=north,
        pseudonym="M1",
    )  # fmt: skip
    nurse = register_participant(
        actor=lead, study=study, role_category=RoleCategory.NURSE, organisation=south,
        pseudonym="N1",
    )  # fmt: skip
    pilot = study.phases.create(order=1, kind="pilot_case_studies", name="Pilot")
    depth = study.phases.create(order=3, kind="in_depth_case_studies", name="In depth")
    s_north = actions.create_source_from_text(
        study=study, title="North interview", text=NORTH_TEXT, kind="interview", actor=lead,
        site=north, phase=pilot,
    )  # fmt: skip
    s_south = actions.create_source_from_text(
        study=study, title="South interview", text=SOUTH_TEXT, kind="interview", actor=lead,
        site=south, phase=depth,
    )  # fmt: skip
    money = actions.create_code(study=study, name="Money", actor=lead)
    deficit = actions.create_code(study=study, name="Deficit", actor=lead, parent=money)
    leading = actions.create_code(study=study, name="Leading", actor=lead)
    culture = actions.create_code(study=study, name="Culture", actor=lead)
    coder = users["coder"]

    def code(source, code, phrase, who=coder):
        start = source.text.index(phrase)
        return actions.apply_coding(
            source=source, code=code, start=start, end=start + len(phrase), coder=who
        )

    c = {
        "deficit": code(s_north, deficit, "The deficit forced it."),
        "nomoney": code(s_north, money, "We had no money for anything new."),
        "led": code(s_north, leading, "The practices led, with our analysts behind them."),
        "south_money": code(s_south, money, "Money, always money."),
        "south_culture": code(s_south, culture, "And Café culture: talk, no action."),
    }
    site_north = actions.ensure_case(
        study=study, kind="site", name="Site North", actor=lead, organisation=north,
        attributes={"size": "large"},
    )  # fmt: skip
    site_south = actions.ensure_case(
        study=study, kind="site", name="Site South", actor=lead, organisation=south,
        attributes={"size": "small"},
    )  # fmt: skip
    gp_case = actions.ensure_case(
        study=study, kind="participant", name="GP1", actor=lead, participant=gp
    )
    frailty = Initiative.objects.create(
        study=study, name="Frailty pathway", lead_organisation=north,
        sectors=["primary care", "social care"],
    )  # fmt: skip
    frailty.sources.add(s_north)
    initiative_case = actions.ensure_case(
        study=study, kind="initiative", name="Frailty pathway", actor=lead, initiative=frailty
    )
    return {
        "study": study,
        "users": users,
        "orgs": (north, south),
        "people": (gp, manager, nurse),
        "sources": (s_north, s_south),
        "codes": {"money": money, "deficit": deficit, "leading": leading, "culture": culture},
        "codings": c,
        "cases": {
            "north": site_north,
            "south": site_south,
            "gp": gp_case,
            "frailty": initiative_case,
        },
        "code": code,
    }


def ids(segments):
    return sorted(s.coding_id for s in segments)


def test_segments_for_a_code_include_subcodes_text_and_cases(world):
    study, c, codes = world["study"], world["codings"], world["codes"]
    segments = queries.segments_for_code(study, codes["money"])
    assert ids(segments) == sorted([c["deficit"].id, c["nomoney"].id, c["south_money"].id])
    by_id = {s.coding_id: s for s in segments}
    assert by_id[c["deficit"].id].text == "The deficit forced it."
    assert by_id[c["deficit"].id].code_name == "Deficit"
    assert by_id[c["deficit"].id].speakers == ("GP1",)
    assert {r.name for r in by_id[c["deficit"].id].cases} == {
        "Site North",
        "GP1",
        "Frailty pathway",
    }
    assert {r.name for r in by_id[c["south_money"].id].cases} == {"Site South"}
    assert ids(queries.segments_for_code(study, codes["money"], include_subcodes=False)) == sorted(
        [c["nomoney"].id, c["south_money"].id]
    )


@pytest.mark.parametrize(
    "filters,expected",
    [
        ({"role": RoleCategory.NURSE}, ["south_money"]),
        ({"role": [RoleCategory.GP_MEMBER, RoleCategory.MANAGER]}, ["deficit", "nomoney"]),
        ({"organisation": "01A"}, ["deficit", "nomoney"]),
        ({"region": "South of England"}, ["south_money"]),
        ({"phase": 3}, ["south_money"]),
        ({"sector": "social care"}, ["deficit", "nomoney"]),
        ({"sector": "acute care"}, []),
        ({"attributes": {"size": "small"}}, ["south_money"]),
        ({"region": "North of England", "role": RoleCategory.NURSE}, []),
    ],
)
def test_segments_filtered_by_case_attributes(world, filters, expected):
    segments = queries.segments_for_code(
        world["study"], world["codes"]["money"], case_filters=filters
    )
    assert ids(segments) == sorted(world["codings"][name].id for name in expected)


def test_filter_by_case_and_unknown_filter(world):
    study, cases = world["study"], world["cases"]
    segments = queries.segments_for_code(
        study, world["codes"]["money"], case_filters={"case": cases["gp"]}
    )
    assert ids(segments) == sorted([world["codings"]["deficit"].id, world["codings"]["nomoney"].id])
    with pytest.raises(ValueError, match="unknown case filter"):
        queries.segments_for_code(study, world["codes"]["money"], case_filters={"colour": "x"})


def test_full_text_search_is_case_insensitive_and_nfc(world):
    study = world["study"]
    hits = queries.search_text(study, "MONEY")
    assert [(h.source_title, h.start) for h in hits] == [
        ("North interview", NORTH_TEXT.index("money")),
        ("South interview", SOUTH_TEXT.index("Money")),
        ("South interview", SOUTH_TEXT.index("money")),
    ]
    # A decomposed query finds the composed text; the snippet surrounds the hit.
    [cafe] = queries.search_text(study, "cafe\u0301", context=5)
    source = world["sources"][1]
    assert source.text[cafe.start : cafe.end] == "Café"
    assert cafe.snippet == source.text[cafe.start - 5 : cafe.end + 5]
    assert queries.search_text(study, "   ") == []


def test_code_combinations(world):
    study, codes, c, code = world["study"], world["codes"], world["codings"], world["code"]
    s_north = world["sources"][0]
    # A coding that overlaps "Deficit": money overlapping it.
    overlap = code(s_north, codes["leading"], "forced it. We had")
    assert ids(queries.combine_codes(study, codes["money"], codes["leading"], "and")) == sorted(
        [c["deficit"].id, c["nomoney"].id]
    )
    assert ids(queries.combine_codes(study, codes["money"], codes["leading"], "not")) == [
        c["south_money"].id
    ]
    assert ids(queries.combine_codes(study, codes["leading"], codes["deficit"], "and")) == [
        overlap.id
    ]
    # Near: "Money, always money." ends 1 character before "And Café culture".
    assert ids(
        queries.combine_codes(study, codes["money"], codes["culture"], "near", within=1)
    ) == [c["south_money"].id]
    assert (
        ids(queries.combine_codes(study, codes["money"], codes["culture"], "near", within=0)) == []
    )
    # In turns: the deficit is in GP1's turn, "The practices led" two turns later.
    near_turns = queries.combine_codes(
        study, codes["deficit"], codes["leading"], "near", within=1, unit="turns",
        include_subcodes=False,
    )  # fmt: skip
    assert ids(near_turns) == [c["deficit"].id]  # via the overlapping coding in the same turn
    overlap.delete()
    assert ids(queries.combine_codes(
        study, codes["deficit"], codes["leading"], "near", within=1, unit="turns"
    )) == []  # fmt: skip
    assert ids(queries.combine_codes(
        study, codes["deficit"], codes["leading"], "near", within=2, unit="turns"
    )) == [c["deficit"].id]  # fmt: skip


def test_matrix_coding_by_cases_counts_three_ways(world):
    study, codes, c, cases = world["study"], world["codes"], world["codings"], world["cases"]
    columns = [codes["money"], codes["leading"]]
    matrix = queries.matrix_coding(study, columns, "cases", case_kind="site")
    assert [r.label for r in matrix.rows] == ["Site North", "Site South"]
    north = matrix.cell(cases["north"].id, codes["money"])
    assert north.count == 2 and north.coding_ids == sorted([c["deficit"].id, c["nomoney"].id])
    assert matrix.cell(cases["south"].id, codes["leading"]).count == 0
    sources = queries.matrix_coding(study, columns, "cases", case_kind="site", count="sources")
    assert sources.cell(cases["north"].id, codes["money"]).count == 1
    chars = queries.matrix_coding(study, columns, "cases", case_kind="site", count="characters")
    expected = len("The deficit forced it.") + len("We had no money for anything new.")
    assert chars.cell(cases["north"].id, codes["money"]).count == expected
    assert matrix.as_table()[1] == ["Site North", 2, 1]


def test_matrix_characters_count_overlaps_once(world):
    study, codes, code = world["study"], world["codes"], world["code"]
    s_north = world["sources"][0]
    code(s_north, codes["money"], "forced it. We")  # overlaps both existing money codings
    matrix = queries.matrix_coding(
        study, [codes["money"]], "cases", case_kind="site", count="characters"
    )
    start = NORTH_TEXT.index("The deficit forced it.")
    end = NORTH_TEXT.index("anything new.") + len("anything new.")
    assert matrix.cell(world["cases"]["north"].id, codes["money"]).count == end - start


def test_matrix_coding_by_attribute_and_initiative_rows(world):
    study, codes, c = world["study"], world["codes"], world["codings"]
    by_role = queries.matrix_coding(study, [codes["money"]], "attribute", attribute="role")
    assert [r.key for r in by_role.rows] == [
        RoleCategory.GP_MEMBER,
        RoleCategory.NURSE,
    ]
    assert by_role.cell(RoleCategory.NURSE, codes["money"]).coding_ids == [c["south_money"].id]
    by_region = queries.matrix_coding(study, [codes["money"]], "attribute", attribute="region")
    assert by_region.cell("North of England", codes["money"]).count == 2
    by_size = queries.matrix_coding(study, [codes["money"]], "attribute", attribute="size")
    assert by_size.cell("small", codes["money"]).count == 1
    initiatives = queries.matrix_coding(study, [codes["money"]], "cases", case_kind="initiative")
    frailty = world["cases"]["frailty"]
    assert initiatives.cell(frailty.id, codes["money"]).coding_ids == sorted(
        [c["deficit"].id, c["nomoney"].id]
    )
    opened = queries.segments_by_ids(study, initiatives.cell(frailty.id, codes["money"]).coding_ids)
    assert [s.text for s in opened] == [
        "The deficit forced it.",
        "We had no money for anything new.",
    ]


def test_cooccurrence_counts_coefficient_and_unequal_warning(world):
    study, codes, code = world["study"], world["codes"], world["code"]
    s_north, s_south = world["sources"]
    code(s_north, codes["leading"], "forced it. We had")
    result = queries.cooccurrence(study, [codes["money"], codes["leading"], codes["culture"]])
    assert result.frequencies == {
        codes["money"].id: 3,
        codes["leading"].id: 2,
        codes["culture"].id: 1,
    }
    pair = result.pair(codes["money"], codes["leading"])
    # The new "leading" coding overlaps both north money codings: n12 = 2.
    assert pair.count == 2 and pair.coefficient == pytest.approx(2 / (3 + 2 - 2))
    assert result.pair(codes["money"], codes["culture"]).count == 0
    # Make money far more frequent than culture.
    for n in range(15):
        actions.apply_coding(
            source=s_south, code=codes["money"], start=n, end=n + 1, coder=world["users"]["coder"]
        )
    result = queries.cooccurrence(study, [codes["money"], codes["culture"]])
    assert "very unequal (18 and 1)" in result.pair(codes["money"], codes["culture"]).warning
    assert result.warnings


def test_blind_reliability_assignment_hides_other_coders(world):
    study, users, code = world["study"], world["users"], world["code"]
    s_north = world["sources"][0]
    theirs = code(s_north, world["codes"]["culture"], "our analysts", who=users["coder2"])
    assignment = ReliabilityAssignment.objects.create(study=study, source=s_north, blind=True)
    assignment.coders.set([users["coder"], users["coder2"]])
    seen_by_coder = list(queries.visible_codings(s_north, users["coder"]))
    assert theirs not in seen_by_coder and all(c.coder == users["coder"] for c in seen_by_coder)
    assert theirs in queries.visible_codings(s_north, users["lead"])
    assert queries.segments_for_code(study, world["codes"]["culture"], visible_to=users["coder"]) == [
        s for s in queries.segments_for_code(study, world["codes"]["culture"])
        if s.source_id != s_north.id
    ]  # fmt: skip
    assignment.blind = False
    assignment.save()
    assert theirs in queries.visible_codings(s_north, users["coder"])


# --- agreement: the published reference values (../shared/reference/README.md) -----------


@pytest.fixture
def two_coders(team):
    study, users = team
    return study, users, users["coder"], users["coder2"]


def cohen_reference_codings(study, source, code, a, b, spans_of_unit):
    """Cohen's example: 50 units; both yes 20, A only 5, B only 10, neither 15."""
    for unit in range(50):
        start, end = spans_of_unit(unit)
        if unit < 25:  # A: yes on units 0–24 (20 both + 5 A only)
            actions.apply_coding(source=source, code=code, start=start, end=end, coder=a)
        if unit < 20 or 25 <= unit < 35:  # B: yes on 0–19 and 25–34
            actions.apply_coding(source=source, code=code, start=start, end=end, coder=b)


def test_cohen_reference_over_characters(two_coders):
    study, users, a, b = two_coders
    source = actions.create_source_from_text(
        study=study, title="Fifty characters", text="x" * 50, kind="document", actor=users["lead"]
    )
    code = actions.create_code(study=study, name="Yes", actor=users["lead"])
    cohen_reference_codings(study, source, code, a, b, lambda u: (u, u + 1))
    report = queries.agreement_for_source(source, [a, b])
    [result] = report.codes
    assert result.characters_all_text.units == 50
    assert result.characters_all_text.p_o == pytest.approx(0.70)
    assert result.characters_all_text.p_e == pytest.approx(0.50)
    assert result.characters_all_text.kappa == pytest.approx(0.40)
    # Leaving out the 15 characters neither coded: 35 units, p_o = 20/35.
    assert result.characters_coded_text.units == 35
    assert result.characters_coded_text.p_o == pytest.approx(20 / 35)
    # Alpha is the library's, on the same presence data the app builds.
    a_row = [1] * 25 + [0] * 25
    b_row = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert result.alpha == pytest.approx(agreement.krippendorff_alpha([a_row, b_row]))
    assert report.overall.characters_all_text.kappa == pytest.approx(0.40)


def test_cohen_reference_over_turns(two_coders):
    study, users, a, b = two_coders
    text = "\n".join(f"{'I' if n % 2 else 'R'}: unit {n}." for n in range(50))
    source = actions.create_source_from_text(
        study=study, title="Fifty turns", text=text, kind="interview", actor=users["lead"]
    )
    turns = list(source.turns.order_by("index"))
    assert len(turns) == 50
    code = actions.create_code(study=study, name="Yes", actor=users["lead"])
    # Each coding covers only part of its turn: a turn counts as coded if a coding overlaps it.
    cohen_reference_codings(
        study, source, code, a, b, lambda u: (turns[u].start + 3, turns[u].start + 7)
    )
    [result] = queries.agreement_for_source(source, [a, b]).codes
    assert (result.turns.units, result.turns.p_o, result.turns.p_e) == (
        50,
        pytest.approx(0.70),
        pytest.approx(0.50),
    )
    assert result.turns.kappa == pytest.approx(0.40)


def reliability_study(study, users, rows):
    """Observers × units as turns of one source; each value v is coded with code "v"."""
    User = get_user_model()
    coders = [User.objects.create_user(username=f"observer-{n}") for n in range(len(rows))]
    units = len(rows[0])
    text = "\n".join(f"R: unit {n}" for n in range(units))
    source = actions.create_source_from_text(
        study=study, title="Reliability data", text=text, kind="document", actor=users["lead"]
    )
    turns = list(source.turns.order_by("index"))
    values = sorted({v for row in rows for v in row if v is not None})
    codes = {
        v: actions.create_code(study=study, name=f"Value {v}", actor=users["lead"]) for v in values
    }
    for coder, row in zip(coders, rows, strict=True):
        for turn, value in zip(turns, row, strict=True):
            if value is not None:
                actions.apply_coding(
                    source=source, code=codes[value], start=turn.start, end=turn.end, coder=coder
                )
    return source, coders, list(codes.values())


def parse_rows(text):
    return [
        [None if v == "." else int(v) for v in line.split()[1:]]
        for line in text.strip().splitlines()
    ]


def test_krippendorff_reference_through_turn_categories(two_coders):
    study, users, _, _ = two_coders
    rows = parse_rows(
        """
        A: 1 2 3 3 2 1 4 1 2 . . .
        B: 1 2 3 3 2 2 4 1 2 5 . 3
        C: . 3 3 3 2 3 4 2 2 5 1 .
        D: 1 2 3 3 2 4 4 1 2 5 1 .
        """
    )
    source, coders, codes = reliability_study(study, users, rows)
    result = queries.category_agreement_over_turns(study, [source], coders, codes)
    assert result.units == 12 and result.ambiguous == 0
    assert round(result.alpha, 3) == 0.743


def test_krippendorff_wikipedia_example_through_turn_categories(two_coders):
    study, users, _, _ = two_coders
    rows = parse_rows(
        """
        A: . . . . . 3 4 1 2 1 1 3 3 . 3
        B: 1 . 2 1 3 3 4 3 . . . . . . .
        C: . . 2 1 3 4 4 . 2 1 1 3 3 . 4
        """
    )
    source, coders, codes = reliability_study(study, users, rows)
    result = queries.category_agreement_over_turns(study, [source], coders, codes)
    assert result.alpha == pytest.approx(0.691358, abs=5e-7)


def test_agreement_for_study_uses_sources_both_coded_and_differences(two_coders):
    study, users, a, b = two_coders
    lead = users["lead"]
    shared = actions.create_source_from_text(
        study=study, title="Shared", text="R: abcdefghij", kind="interview", actor=lead
    )
    alone = actions.create_source_from_text(
        study=study, title="Alone", text="R: klmnopqrst", kind="interview", actor=lead
    )
    code = actions.create_code(study=study, name="C", actor=lead)
    actions.apply_coding(source=shared, code=code, start=3, end=8, coder=a)
    actions.apply_coding(source=shared, code=code, start=5, end=10, coder=b)
    actions.apply_coding(source=alone, code=code, start=3, end=8, coder=a)
    report = queries.agreement_for_study(study, [a, b])
    assert report.sources == [shared.id]
    [result] = report.codes
    assert result.characters_all_text.units == len(shared.text)
    assert result.characters_coded_text.units == 7
    assert queries.differences(shared, [a, b], code) == [(3, 5, [a.id]), (8, 10, [b.id])]


def test_segments_come_in_pages(world):
    study, money = world["study"], world["codes"]["money"]
    everything = queries.segments_for_code(study, money)
    assert len(everything) == 3
    page = queries.segments_for_code(study, money, limit=2, offset=1)
    assert [s.coding_id for s in page] == [s.coding_id for s in everything[1:3]]
    assert [s.text for s in page] == [s.text for s in everything[1:3]]
