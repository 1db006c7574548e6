"""The whole pipeline on simulated tidy tables built in memory (no database)."""

import pytest

from triangulum.analysis.steps import STEPS, StepError, get_step, parameters_for, run_pipeline
from triangulum.analysis.synthetic import make_study


@pytest.fixture(scope="module")
def study():
    return make_study(60, 8, seed=9)


def test_every_step_yields_results_and_the_typology_repeats(study):
    first = run_pipeline(study, seed=4)
    assert set(first) == {s.name for s in STEPS}
    assert all(results for results in first.values())
    again = run_pipeline(study, seed=4, only="typology")
    membership = [r.rows for r in first["typology"] if r.name == "typology_membership"][0]
    assert membership == [r.rows for r in again["typology"] if r.name == "typology_membership"][0]
    stability = [r.rows for r in first["typology"] if r.name == "typology_stability"][0][0]
    assert 0 <= stability["mean_ari"] <= 1
    weights = [r.rows[0] for r in first["weighting"] if r.name == "wave1_weights"][0]
    assert weights["sum_of_weights"] == pytest.approx(60 * 8)
    assert weights["kish_deff"] >= 1


def test_role_contrast_is_detected(study):
    results = run_pipeline(study, seed=4, only="comparisons")["comparisons"]
    odds = [r.rows for r in results if r.name == "role_odds_ratios"][0]
    senior = [r for r in odds if r["group"] == "chair_or_accountable_officer" and r["wave"] == 1][0]
    assert senior["odds_ratio"] > 1


def test_unknown_parameters_are_refused():
    with pytest.raises(StepError, match="no parameter"):
        parameters_for(get_step("typology"), {"clusters": 3})
    with pytest.raises(StepError, match="Unknown step"):
        get_step("nonsense")
