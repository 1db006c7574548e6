"""Proportional-odds regression against R's MASS::polr on the UCLA data (n = 400)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triangulum.analysis.ordinal import OrdinalModelError, fit_proportional_odds
from triangulum.testing import require

LEVELS = ["unlikely", "somewhat likely", "very likely"]
PREDICTORS = ["pared", "public", "gpa"]
# R: polr(apply ~ pared + public + gpa, method = "logit", Hess = TRUE)
R_COEFFICIENTS = {"pared": 1.04769011, "public": -0.05878572, "gpa": 0.61594057}
R_SE = {"pared": "0.2658", "public": "0.2979", "gpa": "0.2606"}
R_THRESHOLDS = [2.203915, 4.299363]


def ucla() -> pd.DataFrame:
    import statsmodels

    path = (
        Path(statsmodels.__file__).parent / "miscmodels" / "tests" / "results" / "ologit_ucla.csv"
    )
    require(path.exists(), f"{path} is absent: this statsmodels build does not ship its test data.")
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def fit():
    return fit_proportional_odds(ucla(), "apply", PREDICTORS, levels=LEVELS)


def test_standard_errors_match_polr_to_the_digits_given(fit):
    for name, printed in R_SE.items():
        assert abs(fit.se[name] - float(printed)) <= 0.5e-4, name


def test_coefficients_and_cutpoints_match_polr_within_its_convergence(fit):
    # polr stops optim() about 1e-4 short of the maximum (see the next test), so the
    # eighth decimal R prints is not reproducible by an exact optimiser.
    for name, value in R_COEFFICIENTS.items():
        assert fit.coefficients[name] == pytest.approx(value, abs=3e-4), name
    assert list(fit.thresholds) == ["unlikely|somewhat likely", "somewhat likely|very likely"]
    np.testing.assert_allclose(list(fit.thresholds.values()), R_THRESHOLDS, atol=1e-3)
    assert fit.converged and fit.n == 400


def test_our_fit_is_the_maximum_and_polr_is_just_short_of_it(fit):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    data = ucla()
    model = OrderedModel(
        pd.Series(pd.Categorical(data["apply"], categories=LEVELS, ordered=True)),
        data[PREDICTORS].astype(float),
        distr="logit",
    )
    as_r = np.array(
        [*R_COEFFICIENTS.values(), R_THRESHOLDS[0], np.log(R_THRESHOLDS[1] - R_THRESHOLDS[0])]
    )
    ours = np.array(
        [
            *fit.coefficients.values(),
            fit.thresholds["unlikely|somewhat likely"],
            np.log(
                fit.thresholds["somewhat likely|very likely"]
                - fit.thresholds["unlikely|somewhat likely"]
            ),
        ]
    )
    assert model.loglike(ours) == pytest.approx(fit.log_likelihood)
    assert model.loglike(ours) > model.loglike(as_r)
    assert np.abs(model.score(ours)).max() < 1e-6 < np.abs(model.score(as_r)).max()


def test_cutpoint_standard_errors_by_the_delta_method(fit):
    # The first cutpoint is a parameter itself, so its SE is the plain one; the second
    # comes through the exp() increment and must be positive and finite.
    assert 0 < fit.threshold_se["unlikely|somewhat likely"] < 1
    assert 0 < fit.threshold_se["somewhat likely|very likely"] < 1


def test_missing_value_is_named_by_row():
    data = ucla()
    data.loc[6, "gpa"] = np.nan
    with pytest.raises(OrdinalModelError, match="'gpa' is missing in data row 7"):
        fit_proportional_odds(data, "apply", PREDICTORS, levels=LEVELS)


def test_unknown_level_is_named():
    with pytest.raises(OrdinalModelError, match="not one of the levels"):
        fit_proportional_odds(ucla(), "apply", PREDICTORS, levels=["unlikely", "very likely", "x"])


def test_unordered_outcome_needs_levels():
    with pytest.raises(OrdinalModelError, match="Give the order of the levels"):
        fit_proportional_odds(ucla(), "apply", PREDICTORS)
