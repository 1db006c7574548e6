"""Parameters of fit, calibration and the truth table on examples small enough to check by
hand (the arithmetic is in the comments)."""

import math

import pytest

from triangulum.integration.qca import (
    NEGATIVE,
    POSITIVE,
    REMAINDER,
    QCAError,
    SetData,
    analyse,
    calibrate_direct,
    necessity,
    sufficiency,
    truth_table,
)


def test_crisp_sufficiency_and_necessity():
    x = [1, 1, 1, 0, 0]
    y = [1, 1, 0, 1, 0]
    # X∩Y = [1,1,0,0,0]: Σ = 2; ΣX = 3; ΣY = 3. In crisp sets X∩Y∩~Y is empty, so PRI equals
    # consistency.
    fit = sufficiency(x, y)
    assert fit.consistency == pytest.approx(2 / 3)
    assert fit.coverage == pytest.approx(2 / 3)
    assert fit.pri == pytest.approx(2 / 3)
    # Necessity: 2/ΣY and 2/ΣX; RoN = Σ(1−X)/Σ(1−X∩Y) = 2/3.
    need = necessity(x, y)
    assert need.consistency == pytest.approx(2 / 3)
    assert need.coverage == pytest.approx(2 / 3)
    assert need.relevance == pytest.approx(2 / 3)


def test_fuzzy_sufficiency_and_necessity():
    x = [0.2, 0.6, 0.8, 1.0]
    y = [0.4, 0.5, 0.9, 0.7]
    # min(X,Y) = [0.2, 0.5, 0.8, 0.7], Σ = 2.2; ΣX = 2.6; ΣY = 2.5.
    # ~Y = [0.6, 0.5, 0.1, 0.3]; min(X,Y,~Y) = [0.2, 0.5, 0.1, 0.3], Σ = 1.1.
    fit = sufficiency(x, y)
    assert fit.consistency == pytest.approx(2.2 / 2.6)  # 0.846
    assert fit.coverage == pytest.approx(2.2 / 2.5)  # 0.880
    assert fit.pri == pytest.approx((2.2 - 1.1) / (2.6 - 1.1))  # 0.733
    # Σ(1−X) = 0.8+0.4+0.2+0 = 1.4; Σ(1−min(X,Y)) = 0.8+0.5+0.2+0.3 = 1.8.
    need = necessity(x, y)
    assert need.consistency == pytest.approx(2.2 / 2.5)
    assert need.coverage == pytest.approx(2.2 / 2.6)
    assert need.relevance == pytest.approx(1.4 / 1.8)  # 0.778


def test_an_empty_set_has_no_consistency():
    fit = sufficiency([0, 0, 0], [1, 0, 1])
    assert fit.consistency is None and fit.pri is None
    assert fit.coverage == 0


def test_direct_calibration_puts_the_anchors_at_005_05_095():
    low, cross, high = calibrate_direct([20, 50, 80], exclusion=20, crossover=50, inclusion=80)
    assert low == pytest.approx(0.05, abs=1e-12)
    assert cross == pytest.approx(0.5, abs=1e-12)
    assert high == pytest.approx(0.95, abs=1e-12)
    # Halfway from crossover to inclusion is log-odds ln(19)/2: membership √19/(√19+1).
    (half,) = calibrate_direct([65], exclusion=20, crossover=50, inclusion=80)
    assert half == pytest.approx(math.sqrt(19) / (math.sqrt(19) + 1))  # 0.813
    # The two sides scale separately: 10 below a crossover 30 above exclusion is a third of
    # the way down, log-odds −ln(19)/3.
    (below,) = calibrate_direct([40], exclusion=20, crossover=50, inclusion=60)
    assert below == pytest.approx(1 / (1 + 19 ** (1 / 3)))


def test_direct_calibration_runs_downwards_for_a_reversed_set():
    values = calibrate_direct([2, 5, 14, 30], exclusion=14, crossover=5, inclusion=2)
    assert values[0] == pytest.approx(0.95)
    assert values[1] == pytest.approx(0.5)
    assert values[2] == pytest.approx(0.05)
    assert values[3] < 0.05


@pytest.mark.parametrize("anchors", [(50, 20, 80), (20, 20, 80), (80, 50, 80)])
def test_direct_calibration_rejects_a_crossover_outside_the_anchors(anchors):
    exclusion, crossover, inclusion = anchors
    with pytest.raises(QCAError, match="crossover must lie strictly between"):
        calibrate_direct([1], exclusion=exclusion, crossover=crossover, inclusion=inclusion)


def _fuzzy_example():
    return SetData(
        case_ids=("c1", "c2", "c3"),
        memberships={
            "A": (0.8, 0.3, 0.6),
            "B": (0.7, 0.9, 0.2),
            "Y": (0.6, 0.4, 0.1),
        },
    )


def test_fuzzy_truth_table_by_hand():
    table = truth_table(_fuzzy_example(), outcome="Y", conditions=["A", "B"], incl_cut=0.8)
    rows = {row.configuration: row for row in table.rows}
    # A*B = min(A,B) = [0.7, 0.3, 0.2]: c1 above 0.5. Σmin(AB,Y) = 0.6+0.3+0.1 = 1.0.
    assert rows[(1, 1)].cases == ("c1",)
    assert rows[(1, 1)].consistency == pytest.approx(1.0 / 1.2)
    assert rows[(1, 1)].outcome == POSITIVE
    # ~A*B = [0.2, 0.7, 0.2]: c2. Σmin(·,Y) = 0.2+0.4+0.1 = 0.7 over 1.1.
    assert rows[(0, 1)].cases == ("c2",)
    assert rows[(0, 1)].consistency == pytest.approx(0.7 / 1.1)
    assert rows[(0, 1)].outcome == NEGATIVE
    # A*~B = [0.3, 0.1, 0.6]: c3. Σmin(·,Y) = 0.3+0.1+0.1 = 0.5 over 1.0.
    assert rows[(1, 0)].consistency == pytest.approx(0.5)
    assert rows[(1, 0)].outcome == NEGATIVE
    # ~A*~B = [0.2, 0.1, 0.4]: no case above 0.5, a logical remainder.
    assert rows[(0, 0)].n == 0 and rows[(0, 0)].outcome == REMAINDER
    assert [row.number for row in table.observed_rows] == [2, 3, 4]


def test_fuzzy_solution_terms_carry_their_fit():
    result = analyse(_fuzzy_example(), outcome="Y", conditions=["A", "B"], incl_cut=0.8)
    (solution,) = result.solutions
    (term,) = solution.terms
    assert term.expression == "A*B"
    assert term.consistency == pytest.approx(1.0 / 1.2)
    assert term.raw_coverage == pytest.approx(1.0 / 1.1)  # ΣY = 1.1
    assert term.unique_coverage == pytest.approx(1.0 / 1.1)
    assert solution.consistency == pytest.approx(1.0 / 1.2)
    assert not result.crisp


def test_a_lower_inclusion_cut_admits_more_rows():
    table = truth_table(_fuzzy_example(), outcome="Y", conditions=["A", "B"], incl_cut=0.6)
    assert [r.configuration for r in table.with_outcome(POSITIVE)] == [(0, 1), (1, 1)]
    result = analyse(_fuzzy_example(), outcome="Y", conditions=["A", "B"], incl_cut=0.6)
    assert [s.expression for s in result.solutions] == ["B"]


def test_rows_below_the_frequency_cut_become_remainders():
    table = truth_table(_fuzzy_example(), outcome="Y", conditions=["A", "B"], incl_cut=0.8, n_cut=2)
    assert all(row.outcome == REMAINDER for row in table.rows)
    result = analyse(_fuzzy_example(), outcome="Y", conditions=["A", "B"], incl_cut=0.8, n_cut=2)
    assert result.solutions == ()


def test_cases_at_the_crossover_belong_to_no_configuration():
    data = SetData(case_ids=("a", "b"), memberships={"A": (0.5, 1.0), "Y": (1.0, 1.0)})
    table = truth_table(data, outcome="Y", conditions=["A"])
    assert table.unassigned_cases == ("a",)
    assert sum(row.n for row in table.rows) == 1


def test_memberships_outside_the_unit_interval_are_refused():
    with pytest.raises(QCAError, match=r"case 'b', set 'A': membership 1.5 is outside \[0, 1\]"):
        SetData(case_ids=("a", "b"), memberships={"A": (0.2, 1.5)})


@pytest.mark.parametrize(
    ("conditions", "message"),
    [([], "at least one condition"), (["A", "A"], "listed twice"), (["A", "Y"], "cannot also be")],
)
def test_bad_condition_lists_are_refused(conditions, message):
    with pytest.raises(QCAError, match=message):
        truth_table(_fuzzy_example(), outcome="Y", conditions=conditions)


def test_negating_the_outcome_uses_one_minus_membership():
    table = truth_table(
        _fuzzy_example(), outcome="Y", conditions=["A", "B"], incl_cut=0.8, negate_outcome=True
    )
    assert table.outcome == "~Y"
    rows = {row.configuration: row for row in table.rows}
    # A*~B = [0.3, 0.1, 0.6] against ~Y = [0.4, 0.6, 0.9]: Σmin = 0.3+0.1+0.6 = 1.0 over 1.0.
    assert rows[(1, 0)].consistency == pytest.approx(1.0)
    assert rows[(1, 0)].outcome == POSITIVE
