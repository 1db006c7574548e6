"""AAPOR outcome rates against the published values in ../shared/reference/README.md."""

import pytest

from triangulum.fieldwork.aapor import (
    BUCKETS,
    RATE_NAMES,
    DispositionError,
    bucket_for,
    compute_rates,
    count_dispositions,
    outcome_rates,
    proportional_e,
)

# The R package `outcomerate` README example: I=4, P=2, R=1, NC=1, O=1, UH=1, UO=1, NE=1.
OUTCOMERATE_COUNTS = {"I": 4, "P": 2, "R": 1, "NC": 1, "O": 1, "UH": 1, "UO": 1, "NE": 1}
OUTCOMERATE_RATES = {
    "RR1": 0.364,
    "RR2": 0.545,
    "RR3": 0.370,
    "RR4": 0.556,
    "RR5": 0.444,
    "RR6": 0.667,
    "COOP1": 0.500,
    "COOP2": 0.750,
    "COOP3": 0.571,
    "COOP4": 0.857,
    "REF1": 0.091,
    "REF2": 0.093,
    "REF3": 0.111,
    "CON1": 0.727,
    "CON2": 0.741,
    "CON3": 0.889,
    "LOC1": 0.818,
    "LOC2": 0.833,
}


def outcomerate_dispositions():
    # The same cases written as AAPOR final codes, one per bucket's typical sub-code.
    return ["1.1"] * 4 + ["1.2"] * 2 + ["2.111", "2.21", "2.31", "3.11", "3.21", "4.10"]


def test_outcomerate_example_with_e_given_reproduces_every_rate():
    result = compute_rates(outcomerate_dispositions(), e=0.9)
    assert result.counts == OUTCOMERATE_COUNTS
    assert result.e == 0.9
    assert result.e_method == "given"
    assert list(result.rates) == list(RATE_NAMES)
    for name, expected in OUTCOMERATE_RATES.items():
        assert round(result.rates[name], 3) == expected, name


def test_outcomerate_example_with_bucket_letters_gives_the_same_rates():
    letters = [bucket for bucket, n in OUTCOMERATE_COUNTS.items() for _ in range(n)]
    by_letter = compute_rates(letters, e=0.9)
    by_code = compute_rates(outcomerate_dispositions(), e=0.9)
    assert by_letter.rates == by_code.rates


def test_proportional_e_is_the_eligible_share_of_known_eligibility_cases():
    # (I+P+R+NC+O)/(I+P+R+NC+O+NE) = 9/10 in the outcomerate example, which is why the
    # README's e=0.9 and the proportional estimate give the same rates there.
    assert proportional_e(OUTCOMERATE_COUNTS) == pytest.approx(0.9)
    result = compute_rates(outcomerate_dispositions(), e_method="proportional")
    assert result.e_method == "proportional"
    assert result.e == pytest.approx(0.9)
    for name, expected in OUTCOMERATE_RATES.items():
        assert round(result.rates[name], 3) == expected, name


def test_proportional_e_changes_with_not_eligible_cases():
    counts = dict.fromkeys(BUCKETS, 0) | {"I": 30, "R": 10, "UH": 20, "NE": 40}
    assert proportional_e(counts) == pytest.approx(40 / 80)
    rates = outcome_rates(counts, proportional_e(counts))
    assert rates["RR3"] == pytest.approx(30 / (40 + 0.5 * 20))
    assert rates["RR1"] == pytest.approx(30 / 60)


def test_responserates_example_100_completes_20_non_contacts():
    result = compute_rates(["I"] * 100 + ["NC"] * 20)
    for n in range(1, 7):
        assert round(result.rates[f"RR{n}"], 3) == 0.833
    for n in range(1, 5):
        assert round(result.rates[f"COOP{n}"], 3) == 1.000
    for n in range(1, 4):
        assert result.rates[f"REF{n}"] == 0
        assert round(result.rates[f"CON{n}"], 3) == 0.833


@pytest.mark.parametrize(
    "code, bucket",
    [
        ("1.1", "I"),
        ("1.2", "P"),
        ("2.10", "R"),
        ("2.11", "R"),
        ("2.111", "R"),
        ("2.112", "R"),
        ("2.12", "R"),
        ("2.1", "R"),  # 2.10 after a spreadsheet dropped the trailing zero
        ("2.20", "NC"),
        ("2.21", "NC"),
        ("2.30", "O"),
        ("2.33", "O"),
        ("3.10", "UH"),
        ("3.13", "UH"),
        ("3.20", "UO"),
        ("3.213", "UO"),
        ("3.90", "UO"),
        ("4.10", "NE"),
        ("4.20", "NE"),
        ("4.30", "NE"),
        ("4.40", "NE"),
        ("4.50", "NE"),
        ("4.70", "NE"),
        ("4.80", "NE"),
        ("4.90", "NE"),
        (" 4.31 ", "NE"),
        ("nc", "NC"),
        ("Uh", "UH"),
    ],
)
def test_codes_map_to_buckets_by_prefix(code, bucket):
    assert bucket_for(code) == bucket


@pytest.mark.parametrize("code", ["5.1", "0.1", "3.30", "4.60", "2.40", "1.3", "X", "1.1a", ""])
def test_unknown_codes_are_rejected(code):
    with pytest.raises(DispositionError):
        bucket_for(code)


@pytest.mark.parametrize("code", ["1.0", "2.0", "3", "3.00"])
def test_headings_spanning_buckets_are_rejected_with_the_reason(code):
    with pytest.raises(DispositionError, match="heading, not a final code"):
        bucket_for(code)


def test_unknown_code_error_carries_its_position():
    with pytest.raises(DispositionError) as caught:
        count_dispositions(["1.1", "2.20", "5.1", "1.1"])
    assert caught.value.position == 2
    assert '"5.1"' in str(caught.value)


def test_weights_are_summed_per_bucket():
    result = compute_rates(["1.1", "1.1", "2.20", "4.10"], weights=[2.0, 0.5, 1.5, 3.0])
    assert result.counts["I"] == 2.5
    assert result.counts["NC"] == 1.5
    assert result.counts["NE"] == 3.0
    assert result.rates["RR1"] == pytest.approx(2.5 / 4.0)
    assert result.e == pytest.approx(4.0 / 7.0)


def test_negative_weight_is_rejected_with_its_position():
    with pytest.raises(DispositionError) as caught:
        count_dispositions(["1.1", "1.1"], weights=[1.0, -1.0])
    assert caught.value.position == 1


def test_no_eligible_cases_gives_none_not_a_crash():
    only_not_eligible = compute_rates(["4.10", "4.30", "NE"])
    assert only_not_eligible.e == 0
    assert all(value is None for value in only_not_eligible.rates.values())

    only_unknown = compute_rates(["3.10", "3.20"])
    assert only_unknown.e is None  # no case of known eligibility to estimate it from
    assert only_unknown.rates["RR1"] == 0
    assert only_unknown.rates["RR3"] is None
    assert only_unknown.rates["RR5"] is None

    empty = compute_rates([])
    assert all(value is None for value in empty.rates.values())


def test_e_outside_zero_to_one_is_rejected():
    with pytest.raises(ValueError, match="between 0 and 1"):
        compute_rates(["1.1"], e=1.5)
