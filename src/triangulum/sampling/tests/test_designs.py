"""The sampling designs on plain records (no database)."""

import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triangulum.sampling.designs import (
    Attribute,
    DesignError,
    Unit,
    census,
    proportional_allocation,
    purposive,
    stratified,
)


def frame_of(sizes: dict[str, int]) -> list[Unit]:
    units = []
    for stratum, size in sizes.items():
        units += [Unit(f"{stratum}{i:03d}", {"region": stratum}) for i in range(size)]
    return units


# The NHS England regions of April 2013 and their CCG counts.
REGIONS_2013 = {"North": 68, "Midlands and East": 61, "South": 50, "London": 32}


# ------------------------------------------------------------------------- census


def test_census_takes_every_unit_with_probability_and_weight_one():
    units = [Unit("b"), Unit("c"), Unit("a")]
    draw = census(units)
    assert draw.unit_ids == ["a", "b", "c"]
    assert [s.selection_order for s in draw.units] == [1, 2, 3]
    assert all(s.inclusion_probability == 1 and s.base_weight == 1 for s in draw.units)
    assert draw.frame_size == 3


def test_empty_frame_and_repeated_units_are_refused():
    with pytest.raises(DesignError, match="frame is empty"):
        census([])
    with pytest.raises(DesignError, match="'a' more than once"):
        census([Unit("a"), Unit("a")])
    with pytest.raises(DesignError, match="frame is empty"):
        stratified([], "region", n_total=1, seed=1)


# ----------------------------------------------------------------- allocation


def test_proportional_allocation_rounds_by_largest_remainder():
    # Quotas 40·N_h/211: 12.90, 11.56, 9.48, 6.07 → whole parts 12, 11, 9, 6 (38); the two
    # units left go to the largest fractional parts, North (.90) and Midlands (.56).
    allocation = proportional_allocation(REGIONS_2013, 40)
    assert allocation == {"North": 13, "Midlands and East": 12, "South": 9, "London": 6}


def test_proportional_allocation_lifts_small_strata_to_the_minimum():
    # Quotas 9.52, 0.19, 0.29: B and C are fixed at 2, and A shares the remaining 6.
    assert proportional_allocation({"A": 100, "B": 2, "C": 3}, 10, minimum=2) == {
        "A": 6,
        "B": 2,
        "C": 2,
    }
    # A stratum smaller than the minimum is taken whole.
    assert proportional_allocation({"A": 100, "B": 1}, 10, minimum=2) == {"A": 9, "B": 1}


def test_equal_allocation_breaks_ties_towards_the_larger_stratum():
    draw = stratified(
        frame_of({"A": 5, "B": 9, "C": 9}), "region", n_total=10, allocation="equal", seed=3
    )
    assert {s.stratum: s.sample_size for s in draw.strata} == {"A": 3, "B": 4, "C": 3}


def test_fixed_allocation_uses_the_given_sizes():
    draw = stratified(
        frame_of({"A": 5, "B": 9}),
        "region",
        n_per_stratum={"A": 5, "B": 1},
        allocation="fixed",
        seed=3,
    )
    counts = Counter(s.stratum for s in draw.units)
    assert counts == {"A": 5, "B": 1}
    assert {s.inclusion_probability for s in draw.units if s.stratum == "A"} == {1.0}
    assert {s.base_weight for s in draw.units if s.stratum == "B"} == {9.0}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_total": 10, "allocation": "optimal"}, "Unknown allocation 'optimal'"),
        (
            {"n_per_stratum": {"A": 6, "B": 1}, "allocation": "fixed"},
            "Stratum 'A' has 5 unit\\(s\\), so 6 cannot be drawn",
        ),
        ({"n_per_stratum": 6, "allocation": "equal"}, "Stratum 'A' has 5 unit"),
        ({"n_per_stratum": {"A": 1}, "allocation": "fixed"}, "no sample size for: B"),
        (
            {"n_per_stratum": {"A": 1, "B": 1, "Z": 1}, "allocation": "fixed"},
            "strata not in the frame: Z",
        ),
        ({"n_total": 15}, "n_total=15 is larger than the frame, which has 14 units"),
        ({"n_total": 1}, "too small to give each of the 2 strata at least 1"),
        ({"n_total": 4, "minimum_per_stratum": 0}, "minimum_per_stratum must be"),
        ({"n_per_stratum": 2}, "Proportional allocation needs n_total"),
        ({"n_total": 4, "seed": -1}, "seed must be a whole number"),
    ],
)
def test_bad_parameters_are_refused_with_the_reason(kwargs, message):
    kwargs = {"seed": 1, **kwargs}
    with pytest.raises(DesignError, match=message):
        stratified(frame_of({"A": 5, "B": 9}), "region", **kwargs)


def test_a_unit_without_a_stratum_is_named():
    units = [*frame_of({"A": 3}), Unit("X9", {"region": ""})]
    with pytest.raises(DesignError, match="Unit 'X9' has no value for region"):
        stratified(units, "region", n_total=2, seed=1)


# ------------------------------------------------------------------- stratified


def test_stratified_sample_is_reproducible_and_weights_sum_to_the_frame():
    units = frame_of(REGIONS_2013)
    first = stratified(units, "region", n_total=40, seed=2013)
    shuffled = list(units)
    random.Random(5).shuffle(shuffled)
    again = stratified(shuffled, "region", n_total=40, seed=2013)
    assert first == again
    assert len(first.units) == 40
    assert math.isclose(sum(s.base_weight for s in first.units), 211, rel_tol=1e-12)
    for s in first.units:
        population = REGIONS_2013[s.stratum]
        n_h = sum(1 for other in first.units if other.stratum == s.stratum)
        assert s.inclusion_probability == n_h / population
        assert s.base_weight == population / n_h
        assert s.unit_id.startswith(s.stratum)
    assert stratified(units, "region", n_total=40, seed=2014).unit_ids != first.unit_ids


def test_every_unit_of_a_stratum_is_equally_likely_to_be_drawn():
    # Over 3,000 seeds, each of 10 units should be drawn about 30% of the time (3 of 10);
    # the binomial standard error is under 0.9 percentage points.
    units = frame_of({"A": 10})
    counts = Counter()
    for seed in range(3000):
        counts.update(stratified(units, "region", n_total=3, seed=seed).unit_ids)
    assert set(counts) == {u.id for u in units}
    for unit_id, count in counts.items():
        assert abs(count / 3000 - 0.3) < 0.035, unit_id


def test_probabilities_and_weights_agree_with_svy():
    pl = pytest.importorskip("polars")
    svy = pytest.importorskip("svy")
    sizes = {"A": 12, "B": 7, "C": 30}
    ours = stratified(frame_of(sizes), "region", n_total=14, seed=9)
    n_h = {s.stratum: s.sample_size for s in ours.strata}
    data = pl.DataFrame(
        {
            "id": [u.id for u in frame_of(sizes)],
            "region": [u.attributes["region"] for u in frame_of(sizes)],
        }
    )
    theirs = svy.Sample(data, svy.Design(stratum="region")).sampling.srs(n_h, rstate=9).data
    expected = {
        row["region"]: (row["svy_prob_selection"], row["svy_sample_weight"])
        for row in theirs.iter_rows(named=True)
    }
    for s in ours.units:
        probability, weight = expected[s.stratum]
        assert math.isclose(s.inclusion_probability, probability)
        assert math.isclose(s.base_weight, weight)
    assert theirs.height == len(ours.units)


@st.composite
def stratified_designs(draw):
    sizes = draw(
        st.dictionaries(
            st.text("ABCDEFGH", min_size=1, max_size=3), st.integers(1, 40), min_size=1, max_size=6
        )
    )
    minimum = draw(st.integers(1, 3))
    floor = sum(min(minimum, size) for size in sizes.values())
    n_total = draw(st.integers(floor, sum(sizes.values())))
    seed = draw(st.integers(0, 2**32))
    return sizes, n_total, minimum, seed


@settings(max_examples=200, deadline=None)
@given(stratified_designs())
def test_stratified_properties(design):
    sizes, n_total, minimum, seed = design
    units = frame_of(sizes)
    result = stratified(units, "region", n_total=n_total, minimum_per_stratum=minimum, seed=seed)
    assert len(result.units) == n_total
    assert math.isclose(sum(s.base_weight for s in result.units), sum(sizes.values()), rel_tol=1e-9)
    assert len(set(result.unit_ids)) == n_total
    counts = Counter(s.stratum for s in result.units)
    for stratum, size in sizes.items():
        assert min(minimum, size) <= counts[stratum] <= size
    for s in result.units:
        assert 0 < s.inclusion_probability <= 1 and s.base_weight >= 1
    assert (
        stratified(
            list(reversed(units)), "region", n_total=n_total, minimum_per_stratum=minimum, seed=seed
        )
        == result
    )


# -------------------------------------------------------------------- purposive

REGION = Attribute("region", "categorical")
PATIENTS = Attribute("registered_patients", "numeric", label="registered patients")


def ccg_like_frame() -> list[Unit]:
    generator = random.Random(11)
    units = []
    for number in range(60):
        region = ["North", "Midlands", "South", "London"][number % 4]
        units.append(
            Unit(
                f"C{number:02d}",
                {"region": region, "registered_patients": generator.randint(60_000, 900_000)},
            )
        )
    units.append(Unit("BIG", {"region": "London", "registered_patients": 1_020_000}))
    return units


def test_purposive_selection_covers_every_region_first_and_explains_each_choice():
    draw = purposive(ccg_like_frame(), [REGION, PATIENTS], 8, seed=2013)
    assert len(draw.units) == 8
    assert all(s.reason for s in draw.units)
    assert all(s.inclusion_probability is None and s.base_weight is None for s in draw.units)
    regions = [
        u.attributes["region"]
        for u in ccg_like_frame()
        for s in draw.units[:4]
        if u.id == s.unit_id
    ]
    assert sorted(regions) == ["London", "Midlands", "North", "South"]
    for s in draw.units[:4]:
        assert "not yet covered" in s.reason
    for s in draw.units[4:]:
        assert "already covered by" in s.reason
    # The largest unit is the most different on population: it is chosen, and said to be.
    big = next(s for s in draw.units if s.unit_id == "BIG")
    assert "registered patients 1,020,000, in the top third of the frame" in big.reason


def test_purposive_selection_is_deterministic_for_a_seed():
    units = ccg_like_frame()
    first = purposive(units, [REGION, PATIENTS], 10, seed=4)
    assert purposive(list(reversed(units)), [REGION, PATIENTS], 10, seed=4) == first
    starts = {purposive(units, [REGION, PATIENTS], 1, seed=s).unit_ids[0] for s in range(20)}
    assert len(starts) > 1  # the seed does choose the starting point


def test_farthest_point_selection_reaches_the_extremes_of_a_numeric_attribute():
    units = [Unit(f"u{v:03d}", {"size": v}) for v in range(1, 101)]
    for seed in range(5):
        draw = purposive(units, [Attribute("size", "numeric")], 3, seed=seed)
        start = int(draw.unit_ids[0][1:])
        # The second choice is the extreme farther from the random start...
        assert draw.unit_ids[1] == ("u001" if start > 50 else "u100")
        assert "than any earlier choice" in draw.units[1].reason
        # ...and the third is as far as any unit can be from its nearer chosen one.
        chosen = [int(code[1:]) for code in draw.unit_ids[:2]]
        best = max(min(abs(v - c) for c in chosen) for v in range(1, 101))
        third = int(draw.unit_ids[2][1:])
        assert min(abs(third - c) for c in chosen) == best


def test_must_include_comes_first_with_the_researchers_reason_and_exclusions_are_kept():
    units = ccg_like_frame()
    draw = purposive(
        units,
        [REGION, PATIENTS],
        5,
        seed=1,
        must_include={"C07": "the pilot site that asked to continue"},
        exclude=["BIG", "C00"],
    )
    assert draw.units[0].unit_id == "C07"
    assert draw.units[0].reason.startswith("Chosen by the researcher: the pilot site that asked")
    assert not {"BIG", "C00"} & set(draw.unit_ids)
    assert draw.frame_size == len(units)


def test_missing_values_are_reported_not_guessed():
    units = [Unit("a", {"size": 1.0}), Unit("b", {"size": None}), Unit("c", {"size": 9.0})]
    draw = purposive(units, [Attribute("size", "numeric")], 3, seed=0)
    b = next(s for s in draw.units if s.unit_id == "b")
    assert b.reason.startswith("Size not recorded;")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 62}, "n=62 is larger than the 61 units that can be chosen"),
        ({"n": 60, "exclude": ["C01", "C02"]}, "larger than the 59 units"),
        ({"n": 0}, "n must be a whole number of at least 1"),
        ({"must_include": {"ZZZ": "because"}}, "'ZZZ' must be included but is not in the frame"),
        ({"must_include": {"C01": " "}}, "Give the researcher's reason"),
        ({"must_include": {"C01": "x"}, "exclude": ["C01"]}, "both excluded and required"),
        ({"exclude": ["nope"]}, "Excluded units are not in the frame: nope"),
        ({"attributes": []}, "at least one attribute"),
    ],
)
def test_purposive_refuses_bad_parameters(kwargs, message):
    kwargs = {"attributes": [REGION, PATIENTS], "n": 3, "seed": 1, **kwargs}
    with pytest.raises(DesignError, match=message):
        purposive(ccg_like_frame(), **kwargs)


def test_a_non_numeric_value_of_a_numeric_attribute_is_named():
    units = [Unit("a", {"size": 3}), Unit("b", {"size": "large"})]
    with pytest.raises(DesignError, match="Unit 'b': attribute 'size' should be a number"):
        purposive(units, [Attribute("size", "numeric")], 1, seed=1)
