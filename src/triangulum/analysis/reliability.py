"""Internal consistency of a multi-item scale. No Django here.

Cronbach's alpha with Feldt's (1965) confidence interval. Hand-written: it is a few
lines, and neither statsmodels nor svy offers it (pingouin does, but is not a dependency).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


class ScaleDataError(ValueError):
    """Item scores alpha cannot be computed from."""


@dataclass(frozen=True)
class CronbachAlpha:
    alpha: float
    ci_low: float
    ci_high: float
    n: int
    items: int
    level: float


def cronbach_alpha(scores, *, level: float = 0.95) -> CronbachAlpha:
    """Alpha for an n-respondents x k-items array of scores (complete rows only).

    Feldt: (1 - alpha) / (1 - alpha_hat) follows F with n - 1 and (n - 1)(k - 1) df,
    which gives the interval.
    """
    array = np.asarray(scores, dtype=float)
    if array.ndim != 2:
        raise ScaleDataError("Scores must be a table: one row per respondent, one column per item.")
    n, k = array.shape
    if k < 2:
        raise ScaleDataError(f"Alpha needs at least two items; got {k}.")
    if n < 2:
        raise ScaleDataError(f"Alpha needs at least two respondents; got {n}.")
    if np.isnan(array).any():
        row, col = np.argwhere(np.isnan(array))[0]
        raise ScaleDataError(f"Item {col + 1} is missing for respondent (row) {row + 1}.")
    if not 0.0 < level < 1.0:
        raise ScaleDataError(f"The confidence level must lie between 0 and 1, not {level}.")
    total_variance = array.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        raise ScaleDataError("Every respondent has the same total score: alpha is undefined.")
    alpha = k / (k - 1) * (1.0 - array.var(axis=0, ddof=1).sum() / total_variance)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1.0 - level) / 2.0
    return CronbachAlpha(
        alpha=float(alpha),
        ci_low=float(1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - tail, df1, df2)),
        ci_high=float(1.0 - (1.0 - alpha) * stats.f.ppf(tail, df1, df2)),
        n=n,
        items=k,
        level=level,
    )
