"""The convergence arithmetic on plain data: pairs, kappas checked by hand, matrix, completeness."""

from __future__ import annotations

import pytest

from triangulum.integration import convergence
from triangulum.integration.convergence import ConvergenceError
from triangulum.integration.models import ConvergenceCode, Strand

A, P, S, D = "agreement", "partial", "silence", "dissonance"


def test_the_plain_constants_match_the_models():
    assert convergence.STRANDS == tuple(Strand.values)
    assert convergence.CODES == tuple(ConvergenceCode.values)


def test_a_pair_is_normalised_whichever_way_round_it_is_given():
    assert convergence.normalise_pair("wave2", "pilot") == ("pilot", "wave2")
    assert convergence.normalise_pair("pilot", "wave2") == ("pilot", "wave2")
    # The database's order is the strings' order, not the design's: indepth < pilot.
    assert convergence.normalise_pair("pilot", "indepth") == ("indepth", "pilot")
    with pytest.raises(ConvergenceError, match="two different strands"):
        convergence.normalise_pair("wave1", "wave1")
    with pytest.raises(ConvergenceError, match='"survey" is not a strand'):
        convergence.normalise_pair("survey", "wave1")


def test_four_strands_make_six_pairs_per_theme():
    pairs = convergence.strand_pairs()
    assert len(pairs) == 6 == len(set(pairs))
    assert all(a < b for a, b in pairs)
    assert len(convergence.units_for(["t1", "t2"])) == 12


def _two_coders():
    """Twelve units (two themes × six pairs) coded by two researchers.

    Cross-table of the codes (rows coder 1, columns coder 2; A agreement, P partial,
    S silence, D dissonance):

                 A  P  S  D | row total
            A    4  1  0  0 |  5
            P    1  2  0  0 |  3
            S    0  0  2  1 |  3
            D    0  0  0  1 |  1
       column    5  3  2  2 | 12
    """
    units = convergence.units_for(["t1", "t2"])
    first = [A, A, A, A, A, P, P, P, S, S, S, D]
    second = [A, A, A, A, P, A, P, P, S, S, D, D]
    return units, {
        "ann": dict(zip(units, first, strict=True)),
        "ben": dict(zip(units, second, strict=True)),
    }


def test_cohens_kappa_reproduces_the_hand_computation():
    # By hand, from the table in _two_coders:
    #   p_o = (4 + 2 + 2 + 1) / 12 = 9/12 = 0.75
    #   p_e = (5·5 + 3·3 + 3·2 + 1·2) / 12² = (25 + 9 + 6 + 2) / 144 = 42/144 = 7/24
    #   kappa = (p_o − p_e) / (1 − p_e) = (18/24 − 7/24) / (17/24) = 11/17 = 0.647058…
    _, codes = _two_coders()
    result = convergence.agreement(codes)
    assert result.statistic == "Cohen's kappa"
    assert result.units == 12 and result.agreed == 9
    assert result.percent_agreement == pytest.approx(75.0)
    assert result.p_o == pytest.approx(0.75)
    assert result.p_e == pytest.approx(7 / 24)
    assert result.kappa == pytest.approx(11 / 17)
    assert result.table == ((4, 1, 0, 0), (1, 2, 0, 0), (0, 0, 2, 1), (0, 0, 0, 1))


def test_fleiss_kappa_for_three_coders_reproduces_the_hand_computation():
    # Four units, three coders. Counts per unit (A, P, S, D):
    #   u1: A A A → (3,0,0,0)   P_1 = (9 − 3) / (3·2) = 1
    #   u2: A A P → (2,1,0,0)   P_2 = (4 + 1 − 3) / 6 = 1/3
    #   u3: S S S → (0,0,3,0)   P_3 = 1
    #   u4: D P P → (0,2,0,1)   P_4 = (4 + 1 − 3) / 6 = 1/3
    #   P̄ = (1 + 1/3 + 1 + 1/3) / 4 = 2/3
    #   category shares over 12 codes: A 5/12, P 3/12, S 3/12, D 1/12
    #   P̄_e = (25 + 9 + 9 + 1) / 144 = 11/36
    #   kappa = (2/3 − 11/36) / (1 − 11/36) = (13/36) / (25/36) = 13/25 = 0.52
    units = convergence.units_for(["t1"])[:4]
    coded = {
        "ann": [A, A, S, D],
        "ben": [A, A, S, P],
        "cat": [A, P, S, P],
    }
    codes = {coder: dict(zip(units, values, strict=True)) for coder, values in coded.items()}
    result = convergence.agreement(codes)
    assert result.statistic == "Fleiss' kappa"
    assert result.kappa == pytest.approx(13 / 25)
    assert result.agreed == 2 and result.units == 4
    # Pairwise Cohen's kappas come with it. ann against ben: p_o = 3/4; marginals A 2/2,
    # S 1/1, D 1/0, P 0/1, so p_e = (2·2 + 1·1) / 16 = 5/16 and kappa = (12 − 5)/(16 − 5) = 7/11.
    assert [(a, b) for a, b, _ in result.pairwise] == [
        ("ann", "ben"),
        ("ann", "cat"),
        ("ben", "cat"),
    ]
    assert result.pairwise[0][2] == pytest.approx(7 / 11)


def test_units_only_one_coder_coded_are_left_out_and_counted():
    units, codes = _two_coders()
    extra = ("t3", "pilot", "wave1")
    codes["ann"][extra] = A
    result = convergence.agreement(codes)
    assert result.units == 12 and result.incomplete_units == 1
    assert result.kappa == pytest.approx(11 / 17)


def test_agreement_needs_two_coders_and_known_codes():
    units, codes = _two_coders()
    with pytest.raises(ConvergenceError, match="at least two coders"):
        convergence.agreement({"ann": codes["ann"]})
    codes["ben"][units[0]] = "maybe"
    with pytest.raises(ConvergenceError, match='coder ben, theme t1 .* "maybe"'):
        convergence.agreement(codes)


def test_kappa_is_undefined_when_both_coders_use_one_code():
    units = convergence.units_for(["t1"])
    codes = {c: dict.fromkeys(units, A) for c in ("ann", "ben")}
    result = convergence.agreement(codes)
    assert result.percent_agreement == 100.0
    assert result.kappa is None


def test_collect_codes_normalises_pairs():
    codes = convergence.collect_codes(
        [(1, "wave2", "pilot", "ann", A), (1, "pilot", "wave2", "ben", D)]
    )
    assert codes == {"ann": {(1, "pilot", "wave2"): A}, "ben": {(1, "pilot", "wave2"): D}}


def test_agreement_table_and_settled_matrix():
    units, codes = _two_coders()
    settled = {units[4]: P, units[10]: D, units[0]: A}
    rows = convergence.agreement_table(units, codes, settled)
    assert len(rows) == 12
    assert rows[4].codes == {"ann": A, "ben": P} and rows[4].agreed is False
    assert rows[4].settled == P and rows[1].settled is None

    matrix = convergence.settled_matrix(["t1", "t2"], codes, settled)
    assert matrix.units == 12 and matrix.settled == 3 and not matrix.complete
    assert matrix.totals == {A: 1, P: 1, S: 0, D: 1}
    first = matrix.rows[0]
    assert [c.settled for c in first.cells][:5] == [A, None, None, None, P]
    assert first.cells[4].disagreement and not first.cells[0].disagreement
    assert first.counts[A] == 1 and first.settled_count == 2


def test_completeness_names_what_each_strand_alone_contributed():
    themes = ["style", "alliance", "pipeline", "markets"]
    findings = [
        ("style", "pilot"),
        ("style", "indepth"),
        ("style", "wave1"),
        ("style", "wave2"),
        ("alliance", "indepth"),
        ("alliance", "indepth"),
        ("pipeline", "wave1"),
        (None, "wave2"),  # a finding with no theme is not counted
    ]
    settled = {
        ("alliance", "indepth", "wave1"): S,  # indepth speaks, wave1 is silent
        ("pipeline", "indepth", "wave1"): S,  # wave1 speaks
        ("style", "pilot", "wave1"): A,
    }
    summary = convergence.completeness(themes, findings, settled)
    by_strand = {c.strand: c for c in summary.strands}
    assert by_strand["indepth"].unique_themes == ("alliance",)
    assert by_strand["indepth"].themes_covered == 2 and by_strand["indepth"].findings == 3
    assert by_strand["wave1"].unique_themes == ("pipeline",)
    assert by_strand["pilot"].unique_themes == ()
    assert by_strand["indepth"].silences_it_fills == 1
    assert by_strand["wave1"].silences_it_fills == 1
    assert summary.themes_without_findings == ("markets",)
    assert summary.themes_all_strands == ("style",)
    assert summary.coverage["alliance"] == ("indepth",)
    with pytest.raises(ConvergenceError, match="not listed"):
        convergence.completeness(themes, [("other", "pilot")])
