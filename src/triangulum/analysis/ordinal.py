"""Proportional-odds (ordered logit) regression, reported as R's MASS::polr reports it.

Model: logit P(Y <= k) = zeta_k - x'beta. statsmodels' OrderedModel fits the same model
but stores the cutpoints as the first one followed by log increments (which keeps them
ordered while optimising); here they are converted back to R's cutpoints, with delta-
method standard errors. No Django here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


class OrdinalModelError(ValueError):
    """Data the model cannot be fitted to; the message names the column and row."""


@dataclass(frozen=True)
class ProportionalOddsFit:
    levels: tuple[str, ...]
    coefficients: dict[str, float]
    se: dict[str, float]
    thresholds: dict[str, float]
    threshold_se: dict[str, float]
    log_likelihood: float
    n: int
    converged: bool


def fit_proportional_odds(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    levels: Sequence[object] | None = None,
    link: str = "logit",
) -> ProportionalOddsFit:
    """Fit a cumulative-link model of ``outcome`` on ``predictors`` by maximum likelihood.

    ``levels`` lists the outcome categories from lowest to highest; without it the
    outcome must be an ordered pandas Categorical. Rows with a missing value are an
    error (named by row, counted from 1), not silently dropped.
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    for column in [outcome, *predictors]:
        if column not in data.columns:
            raise OrdinalModelError(f"Column {column!r} is not in the data.")
    if link not in {"logit", "probit"}:
        raise OrdinalModelError(f"Unknown link {link!r}; use 'logit' or 'probit'.")
    frame = data[[outcome, *predictors]]
    missing = frame.isna()
    if missing.any().any():
        row, col = np.argwhere(missing.to_numpy())[0]
        raise OrdinalModelError(
            f"Column {frame.columns[col]!r} is missing in data row {row + 1}; "
            "remove or impute incomplete rows first."
        )
    if levels is None:
        series = frame[outcome]
        if not (isinstance(series.dtype, pd.CategoricalDtype) and series.dtype.ordered):
            raise OrdinalModelError(
                f"Give the order of the levels of {outcome!r} (lowest first): it is not an "
                "ordered categorical."
            )
        levels = list(series.cat.categories)
    levels = list(levels)
    unknown = ~frame[outcome].isin(levels)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise OrdinalModelError(
            f"Data row {row + 1} has {outcome} = {frame[outcome].iloc[row]!r}, which is not "
            f"one of the levels {levels}."
        )
    if len(levels) < 3:
        raise OrdinalModelError("An ordinal outcome needs at least three levels.")
    y = pd.Series(
        pd.Categorical(frame[outcome], categories=levels, ordered=True), index=frame.index
    )
    exog = frame[list(predictors)].astype(float)
    model = OrderedModel(y, exog, distr=link)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Newton reaches the maximum to machine precision on models of this size;
        # quasi-Newton defaults stop a few 1e-4 short of it.
        result = model.fit(method="newton", maxiter=200, disp=False)
    params = np.asarray(result.params, dtype=float)
    cov = np.asarray(result.cov_params(), dtype=float)
    k = len(predictors)
    cutpoints = model.transform_threshold_params(params)[1:-1]
    # zeta_1 = a_1 and zeta_j = a_1 + sum_{i=2..j} exp(a_i): the Jacobian is lower
    # triangular with 1 in the first column and exp(a_i) below.
    raw = params[k:]
    jacobian = np.zeros((len(raw), len(raw)))
    jacobian[:, 0] = 1.0
    for j in range(1, len(raw)):
        jacobian[j:, j] = np.exp(raw[j])
    cut_cov = jacobian @ cov[k:, k:] @ jacobian.T
    cut_names = [f"{levels[j]}|{levels[j + 1]}" for j in range(len(levels) - 1)]
    return ProportionalOddsFit(
        levels=tuple(str(level) for level in levels),
        coefficients={name: float(params[i]) for i, name in enumerate(predictors)},
        se={name: float(np.sqrt(cov[i, i])) for i, name in enumerate(predictors)},
        thresholds={name: float(v) for name, v in zip(cut_names, cutpoints, strict=True)},
        threshold_se={name: float(np.sqrt(cut_cov[j, j])) for j, name in enumerate(cut_names)},
        log_likelihood=float(result.llf),
        n=int(len(frame)),
        converged=bool(result.mle_retvals.get("converged", False)),
    )
