"""Agreement statistics against the published values in ../shared/reference/README.md."""

import math

import pytest

from triangulum.casework.agreement import (
    character_agreement,
    cohen_kappa,
    fleiss_kappa,
    kappa_from_table,
    krippendorff_alpha,
)

N = None

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers × 12 units.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
KRIPPENDORFF_2011_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}

# The Wikipedia worked example: 3 coders × 15 units.
WIKIPEDIA_3X15 = [
    [N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3],
    [1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N],
    [N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4],
]
WIKIPEDIA_3X15_ALPHA = {"nominal": 0.691358, "interval": 0.810845}


def cohen_reference_labels():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    return [a for a, _ in pairs], [b for _, b in pairs]


def test_cohen_kappa_reference_example():
    result = cohen_kappa(*cohen_reference_labels())
    assert result.units == 50
    assert round(result.p_o, 2) == 0.70
    assert round(result.p_e, 2) == 0.50
    assert round(result.kappa, 2) == 0.40
    assert result.percent_agreement == pytest.approx(70.0)


def test_cohen_kappa_from_the_same_table():
    assert kappa_from_table([[20, 5], [10, 15]]) == cohen_kappa(*cohen_reference_labels())


def test_cohen_kappa_leaves_out_units_either_coder_missed():
    a, b = cohen_reference_labels()
    with_gaps = cohen_kappa(a + [None, "yes", math.nan], b + ["no", None, "yes"])
    assert with_gaps == cohen_kappa(a, b)


def test_cohen_kappa_is_undefined_when_chance_agreement_is_certain():
    result = cohen_kappa(["x", "x", "x"], ["x", "x", "x"])
    assert result.p_o == 1 and result.p_e == 1
    assert result.kappa is None
    assert cohen_kappa([None], ["x"]).units == 0


def test_cohen_kappa_over_more_than_two_categories_matches_its_definition():
    a = ["q", "q", "r", "s", "s", "r", "q", "s"]
    b = ["q", "r", "r", "s", "q", "r", "q", "s"]
    result = cohen_kappa(a, b)
    p_o = 6 / 8
    # Marginals: A q3 r2 s3, B q3 r3 s2.
    p_e = (3 * 3 + 2 * 3 + 3 * 2) / 64
    assert result.p_o == pytest.approx(p_o)
    assert result.p_e == pytest.approx(p_e)
    assert result.kappa == pytest.approx((p_o - p_e) / (1 - p_e))


@pytest.mark.parametrize("level, expected", KRIPPENDORFF_2011_ALPHA.items())
def test_krippendorff_2011_example(level, expected):
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, level), 3) == expected


@pytest.mark.parametrize("level, expected", WIKIPEDIA_3X15_ALPHA.items())
def test_wikipedia_example(level, expected):
    assert round(krippendorff_alpha(WIKIPEDIA_3X15, level), 6) == expected


def test_nominal_alpha_accepts_category_words():
    words = {1: "low", 2: "mid", 3: "high", 4: "top", 5: "max"}
    as_words = [[N if v is None else words[v] for v in row] for row in KRIPPENDORFF_2011]
    assert round(krippendorff_alpha(as_words, "nominal"), 3) == 0.743
    with pytest.raises(ValueError, match="not a number"):
        krippendorff_alpha(as_words, "ordinal")


def test_alpha_is_none_where_undefined():
    assert krippendorff_alpha([[1, 1, 1], [1, 1, N]], "nominal") is None
    assert krippendorff_alpha([[1, N, 2], [N, 3, N]], "interval") is None


def test_ratio_level_rejects_negative_values():
    with pytest.raises(ValueError, match="negative"):
        krippendorff_alpha([[1, -2], [1, 2]], "ratio")


def test_fleiss_kappa_wikipedia_example():
    # Fleiss (1971) as worked on Wikipedia: 14 raters put 10 subjects into 5 categories;
    # kappa 0.210. Rows of the table are subjects, columns the count of raters per category.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    # Fleiss' kappa ignores who gave which rating, so rater r takes each subject's r-th.
    ratings_per_subject = [
        [category for category, n in enumerate(counts, 1) for _ in range(n)] for counts in table
    ]
    reliability_data = [[subject[r] for subject in ratings_per_subject] for r in range(14)]
    assert round(fleiss_kappa(reliability_data), 3) == 0.210


def test_fleiss_kappa_of_two_coders_is_scotts_pi():
    a, b = cohen_reference_labels()
    # With two coders Fleiss' kappa is Scott's pi: chance agreement from pooled marginals.
    pooled_yes = (25 + 30) / 100
    p_e = pooled_yes**2 + (1 - pooled_yes) ** 2
    assert fleiss_kappa([a, b]) == pytest.approx((0.70 - p_e) / (1 - p_e))


def test_fleiss_kappa_rejects_missing_values_and_is_none_without_variation():
    with pytest.raises(ValueError, match="coder 2 has no value for unit 3"):
        fleiss_kappa([[1, 2, 3], [1, 2, None]])
    assert fleiss_kappa([["a", "a"], ["a", "a"]]) is None


def test_character_agreement_hand_checked():
    # 10 characters; A codes 0-5, B codes 2-7 (half-open spans).
    # Both 2-5 (4), A only 0-1 (2), B only 6-7 (2), neither 8-9 (2).
    result = character_agreement(10, [(0, 6)], [(2, 8)])
    everything = result.all_text
    assert everything.units == 10
    assert everything.p_o == pytest.approx(0.6)
    assert everything.percent_agreement == pytest.approx(60.0)
    assert everything.p_e == pytest.approx(0.6 * 0.6 + 0.4 * 0.4)
    assert everything.kappa == pytest.approx((0.6 - 0.52) / 0.48)
    # Over the 8 characters someone coded: both 4, A only 2, B only 2, neither 0.
    coded = result.coded_text
    assert coded.units == 8
    assert coded.p_o == pytest.approx(0.5)
    assert coded.p_e == pytest.approx(0.75**2 + 0.25**2)
    assert coded.kappa == pytest.approx(-1 / 3)


def test_character_agreement_merges_overlapping_spans_and_checks_bounds():
    overlapping = character_agreement(10, [(0, 4), (2, 6)], [(2, 8)])
    assert overlapping == character_agreement(10, [(0, 6)], [(2, 8)])
    identical = character_agreement(10, [(3, 7)], [(3, 7)])
    assert identical.all_text.kappa == pytest.approx(1.0)
    assert identical.coded_text.p_o == 1 and identical.coded_text.kappa is None
    with pytest.raises(ValueError, match=r"span \(5, 12\)"):
        character_agreement(10, [(5, 12)], [])
