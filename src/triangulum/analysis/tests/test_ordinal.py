"""Proportional-odds regression against R's MASS::polr on the UCLA data (n = 400).

The reference values are R's printed output (../shared/reference/README.md, from
statsmodels' test results for the same data); each is compared to the digits printed,
as text, so "reproduced" means the same digits, not "close". The probit and cloglog
fits come from the same R session (statsmodels' results_ordinal_model.py).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triangulum.analysis.ordinal import OrdinalModelError, _CumulativeLink, fit_proportional_odds
from triangulum.testing import require

LEVELS = ["unlikely", "somewhat likely", "very likely"]
PREDICTORS = ["pared", "public", "gpa"]
CUTS = ["unlikely|somewhat likely", "somewhat likely|very likely"]
# R: polr(apply ~ pared + public + gpa, method = "logit", Hess = TRUE), as printed.
R_POLR = {
    "logit": {
        "coefficients": ["1.04769011", "-0.05878572", "0.61594057"],
        "se": ["0.2658", "0.2979", "0.2606"],
        "thresholds": ["2.203915", "4.299363"],
    },
    "probit": {
        "coefficients": ["0.59811", "0.01016", "0.35815"],
        "se": ["0.1579", "0.1728", "0.1568"],
        "thresholds": ["1.2968", "2.5028"],
    },
    "cloglog": {
        "coefficients": ["0.5166455", "0.1081131", "0.3343895"],
        "se": ["0.1613525", "0.1680675", "0.1542065"],
        "thresholds": ["0.8705304", "1.9744660"],
    },
}


def ucla() -> pd.DataFrame:
    import statsmodels

    path = (
        Path(statsmodels.__file__).parent / "miscmodels" / "tests" / "results" / "ologit_ucla.csv"
    )
    require(path.exists(), f"{path} is absent: this statsmodels build does not ship its test data.")
    return pd.read_csv(path)


def as_printed(value: float, printed: str) -> str:
    """``value`` rounded to as many decimals as R printed in ``printed``."""
    decimals = len(printed.partition(".")[2])
    return f"{value:.{decimals}f}"


@pytest.fixture(scope="module")
def data():
    return ucla()


@pytest.fixture(scope="module")
def fit(data):
    return fit_proportional_odds(data, "apply", PREDICTORS, levels=LEVELS)


@pytest.fixture(scope="module")
def exact(data):
    return fit_proportional_odds(data, "apply", PREDICTORS, levels=LEVELS, procedure="exact")


def test_logit_fit_reproduces_polr_to_every_digit_printed(fit):
    reference = R_POLR["logit"]
    assert fit.procedure == "polr" and fit.converged and fit.n == 400
    assert list(fit.thresholds) == CUTS
    ours = {
        "coefficients": [fit.coefficients[name] for name in PREDICTORS],
        "se": [fit.se[name] for name in PREDICTORS],
        "thresholds": [fit.thresholds[name] for name in CUTS],
    }
    for kind, printed in reference.items():
        assert [as_printed(v, p) for v, p in zip(ours[kind], printed, strict=True)] == printed, kind


@pytest.mark.parametrize("link", ["probit", "cloglog"])
def test_other_links_reproduce_polr_too(data, link):
    fit = fit_proportional_odds(data, "apply", PREDICTORS, levels=LEVELS, link=link)
    reference = R_POLR[link]
    ours = {
        "coefficients": [fit.coefficients[name] for name in PREDICTORS],
        "se": [fit.se[name] for name in PREDICTORS],
        "thresholds": [fit.thresholds[name] for name in CUTS],
    }
    for kind, printed in reference.items():
        assert [as_printed(v, p) for v, p in zip(ours[kind], printed, strict=True)] == printed, kind


def test_polr_stops_short_of_the_maximum_and_exact_reaches_it(fit, exact):
    # polr's stopping rule (relative change in deviance below 1.5e-8) leaves a gradient
    # of ~1e-3; the exact procedure's Newton steps take it to rounding level, at a
    # higher likelihood, moving the estimates by less than polr's shortfall.
    assert fit.max_abs_score > 1e-4
    assert exact.max_abs_score < 1e-8 and exact.converged
    assert exact.log_likelihood > fit.log_likelihood
    assert exact.log_likelihood - fit.log_likelihood < 1e-6
    moved = [exact.coefficients[n] - fit.coefficients[n] for n in PREDICTORS]
    assert 1e-5 < max(abs(m) for m in moved) < 1e-3
    # Which is why R's eighth decimal cannot come from an exact optimiser.
    assert as_printed(exact.coefficients["gpa"], "0.61594057") != "0.61594057"


def test_exact_fit_agrees_with_statsmodels_including_the_cutpoint_conversion(data, exact):
    """An independent implementation: statsmodels' OrderedModel, Newton to convergence,
    stores (beta, zeta_1, log(zeta_2 - zeta_1)); its cut-points, converted back, and the
    delta-method SEs of them must equal ours."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    model = OrderedModel(
        pd.Series(pd.Categorical(data["apply"], categories=LEVELS, ordered=True)),
        data[PREDICTORS].astype(float),
        distr="logit",
    )
    result = model.fit(method="newton", maxiter=100, disp=False)
    params = np.asarray(result.params)
    np.testing.assert_allclose(
        [exact.coefficients[n] for n in PREDICTORS], params[:3], rtol=0, atol=1e-8
    )
    cutpoints = model.transform_threshold_params(params)[1:-1]
    np.testing.assert_allclose([exact.thresholds[c] for c in CUTS], cutpoints, rtol=0, atol=1e-8)
    # zeta = (a1, a1 + exp(a2)): Jacobian [[1, 0], [1, exp(a2)]].
    jacobian = np.array([[1.0, 0.0], [1.0, np.exp(params[4])]])
    cut_cov = jacobian @ np.asarray(result.cov_params())[3:, 3:] @ jacobian.T
    np.testing.assert_allclose(
        [exact.threshold_se[c] for c in CUTS], np.sqrt(np.diag(cut_cov)), rtol=1e-5
    )
    np.testing.assert_allclose(
        [exact.se[n] for n in PREDICTORS], np.asarray(result.bse)[:3], rtol=1e-5
    )


def test_cutpoints_from_polr_parameters():
    # zeta_1 = theta_1, then each increment is exp(theta_j): always increasing.
    zeta = _CumulativeLink.cutpoints(np.array([-0.5, np.log(2.0), np.log(0.25)]))
    np.testing.assert_allclose(zeta, [-0.5, 1.5, 1.75], rtol=0, atol=1e-15)


def test_polr_standard_errors_agree_with_the_analytic_ones(fit, exact):
    # polr's come from finite differences at its own (slightly short) point; at four
    # significant digits, what anyone reads, they are the analytic ones at the maximum.
    for name in PREDICTORS:
        assert fit.se[name] == pytest.approx(exact.se[name], rel=2e-5), name
    for cut in CUTS:
        assert fit.threshold_se[cut] == pytest.approx(exact.threshold_se[cut], rel=2e-5), cut


def test_missing_value_is_named_by_row(data):
    broken = data.copy()
    broken.loc[6, "gpa"] = np.nan
    with pytest.raises(OrdinalModelError, match="'gpa' is missing in data row 7"):
        fit_proportional_odds(broken, "apply", PREDICTORS, levels=LEVELS)


def test_unknown_level_is_named(data):
    with pytest.raises(OrdinalModelError, match="not one of the levels"):
        fit_proportional_odds(data, "apply", PREDICTORS, levels=["unlikely", "very likely", "x"])


def test_unordered_outcome_needs_levels(data):
    with pytest.raises(OrdinalModelError, match="Give the order of the levels"):
        fit_proportional_odds(data, "apply", PREDICTORS)


def test_level_nobody_chose_is_named(data):
    with pytest.raises(OrdinalModelError, match="No row has apply = 'never'"):
        fit_proportional_odds(data, "apply", PREDICTORS, levels=[*LEVELS[:2], "never", LEVELS[2]])


def test_constant_or_collinear_predictor_is_named(data):
    constant = data.assign(everyone=1.0)
    with pytest.raises(OrdinalModelError, match="Predictor 'everyone' is constant"):
        fit_proportional_odds(constant, "apply", [*PREDICTORS, "everyone"], levels=LEVELS)
    doubled = data.assign(gpa_twice=2 * data["gpa"])
    with pytest.raises(OrdinalModelError, match="'gpa_twice' is constant or a linear combination"):
        fit_proportional_odds(doubled, "apply", [*PREDICTORS, "gpa_twice"], levels=LEVELS)


def test_text_predictor_and_unknown_options_are_refused(data):
    labelled = data.assign(school=np.where(data["public"] == 1, "public", "private"))
    with pytest.raises(OrdinalModelError, match="Column 'school' is not numeric"):
        fit_proportional_odds(labelled, "apply", ["pared", "school"], levels=LEVELS)
    with pytest.raises(OrdinalModelError, match="Unknown link 'cauchit'"):
        fit_proportional_odds(data, "apply", PREDICTORS, levels=LEVELS, link="cauchit")
    with pytest.raises(OrdinalModelError, match="Unknown procedure 'fast'"):
        fit_proportional_odds(data, "apply", PREDICTORS, levels=LEVELS, procedure="fast")
