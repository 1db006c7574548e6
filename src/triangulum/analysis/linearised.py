"""Vectorised Taylor-linearisation for many shares at once. No Django here.

``estimation.estimate`` (on svy) gives one estimate per call and is the reference; a
Likert table of forty items with six answers each, on eighty thousand respondents,
needs hundreds of them, so this module computes every category share of a variable,
and their full covariance, in one pass with numpy. The formulas are those of
``estimation`` for a one-stage (ultimate-cluster) design with strata, clusters,
weights and an optional first-stage finite population correction; a test checks that
the two agree to 1e-10. Domains keep the full design (rows outside get influence 0).
A stratum with a single PSU adds no variance here (R's ``certainty``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


class LinearisationError(ValueError):
    """Input the variance cannot be computed from."""


@dataclass(frozen=True)
class DesignArrays:
    """The design as arrays aligned with the data rows.

    ``strata`` and ``clusters`` are labels (any hashable); without clusters every row is
    its own PSU. ``psu_population`` is, per row, the number of PSUs in its stratum's
    population (first-stage fpc), or None for with-replacement variance.
    """

    weights: np.ndarray
    strata: np.ndarray | None = None
    clusters: np.ndarray | None = None
    psu_population: np.ndarray | None = None
    # Second-stage fpc: per row, the number of units in its PSU's population. With it,
    # R's multistage formula adds f_h x (within-PSU variance with its own fpc).
    unit_population: np.ndarray | None = None

    def __post_init__(self) -> None:
        weights = np.asarray(self.weights, dtype=float)
        object.__setattr__(self, "weights", weights)
        n = len(weights)
        if np.isnan(weights).any() or (weights < 0).any():
            row = int(np.flatnonzero(np.isnan(weights) | (weights < 0))[0])
            raise LinearisationError(f"Weight in data row {row + 1} is missing or negative.")
        if self.unit_population is not None and (
            self.clusters is None or self.psu_population is None
        ):
            raise LinearisationError("A second-stage fpc needs clusters and a first-stage fpc.")
        for name in ("strata", "clusters", "psu_population", "unit_population"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise LinearisationError(f"{name} has {len(value)} values for {n} rows.")

    @property
    def n(self) -> int:
        return len(self.weights)

    def _codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Stratum code per row and PSU code per row (PSUs numbered within strata).

        Computed once per design (hash-based factorising; a Likert table reuses them for
        every item).
        """
        cached = self.__dict__.get("_cached_codes")
        if cached is not None:
            return cached
        import pandas as pd

        n = self.n
        strata = (
            np.zeros(n, dtype=np.int64)
            if self.strata is None
            else pd.factorize(pd.Series(np.asarray(self.strata)), sort=True)[0].astype(np.int64)
        )
        if self.clusters is None:
            psu = np.arange(n, dtype=np.int64)
        else:
            cluster_codes = pd.factorize(pd.Series(np.asarray(self.clusters)), sort=True)[0]
            pairs = strata * (int(cluster_codes.max()) + 1 if n else 1) + cluster_codes
            psu = pd.factorize(pd.Series(pairs), sort=True)[0].astype(np.int64)
        object.__setattr__(self, "_cached_codes", (strata, psu))
        return strata, psu


@dataclass(frozen=True)
class ShareTable:
    """Shares of each category with their covariance matrix and design df."""

    categories: tuple[str, ...]
    estimate: np.ndarray
    covariance: np.ndarray
    df: int
    n: int  # rows in the domain with a value
    weighted_n: float

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))

    def logit_interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """R's ``svyciprop(method="logit")``: the interval on the logit scale, t on df."""
        return logit_interval(self.estimate, self.se, self.df, level)


def logit_interval(p, se, df: int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=float)
    se = np.asarray(se, dtype=float)
    t = stats.t.ppf(1 - (1 - level) / 2, max(df, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.log(p / (1 - p))
        half = t * se / (p * (1 - p))
        low = 1 / (1 + np.exp(-(centre - half)))
        high = 1 / (1 + np.exp(-(centre + half)))
    # A share of exactly 0 or 1 has no logit: its interval is the point.
    edge = (p <= 0) | (p >= 1)
    low = np.where(edge, p, low)
    high = np.where(edge, p, high)
    return low, high


def total_covariance(design: DesignArrays, influence: np.ndarray) -> tuple[np.ndarray, int]:
    """Covariance of the totals of the columns of ``influence`` (n x k), and design df.

    Ultimate-cluster formula: sum over strata of n_h/(n_h - 1) (1 - f_h) times the
    sum of squared deviations of PSU totals from their stratum mean. The df counts
    PSUs that hold a row with non-zero influence in any column, minus their strata.
    """
    z = np.asarray(influence, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    strata, psu = design._codes()
    n_psu = int(psu.max()) + 1 if len(psu) else 0
    k = z.shape[1]
    totals = np.zeros((n_psu, k))
    for j in range(k):
        totals[:, j] = np.bincount(psu, weights=z[:, j], minlength=n_psu)
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[psu] = strata
    n_strata = int(strata.max()) + 1 if len(strata) else 0
    counts = np.bincount(psu_stratum, minlength=n_strata).astype(float)
    sums = np.zeros((n_strata, k))
    for j in range(k):
        sums[:, j] = np.bincount(psu_stratum, weights=totals[:, j], minlength=n_strata)
    means = sums / np.where(counts > 0, counts, 1)[:, None]
    deviations = totals - means[psu_stratum]
    factor = np.where(counts > 1, counts / np.maximum(counts - 1, 1), 0.0)
    if design.psu_population is not None:
        population = np.zeros(n_strata)
        population[strata] = np.asarray(design.psu_population, dtype=float)
        if (population < counts).any():
            raise LinearisationError("An fpc is smaller than the number of PSUs sampled.")
        factor = factor * (1 - counts / population)
    scaled = deviations * np.sqrt(factor[psu_stratum])[:, None]
    covariance = scaled.T @ scaled
    if design.unit_population is not None:
        covariance += _second_stage(design, z, strata, psu, counts, population)
    active = np.zeros(n_psu, dtype=bool)
    active[psu[np.any(z != 0, axis=1)]] = True
    df = int(active.sum()) - len(np.unique(psu_stratum[active]))
    return covariance, df


def _second_stage(design, z, strata, psu, counts, population) -> np.ndarray:
    """R's second-stage term: sum over PSUs of f_h (1 - m/M) m/(m-1) S_c, S_c the sum of
    squared deviations of the units' influence values from their PSU mean."""
    n_psu = int(psu.max()) + 1
    k = z.shape[1]
    m = np.bincount(psu, minlength=n_psu).astype(float)
    big_m = np.zeros(n_psu)
    big_m[psu] = np.asarray(design.unit_population, dtype=float)
    if (big_m < m).any():
        raise LinearisationError("A second-stage fpc is smaller than the units sampled in its PSU.")
    means = np.zeros((n_psu, k))
    for j in range(k):
        means[:, j] = np.bincount(psu, weights=z[:, j], minlength=n_psu) / np.maximum(m, 1)
    deviations = z - means[psu]
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[psu] = strata
    f1 = counts[psu_stratum] / population[psu_stratum]
    factor = np.where(m > 1, f1 * (1 - m / big_m) * m / np.maximum(m - 1, 1), 0.0)
    scaled = deviations * np.sqrt(factor[psu])[:, None]
    return scaled.T @ scaled


def shares(
    design: DesignArrays,
    values: np.ndarray,
    categories: list[str] | tuple[str, ...],
    *,
    domain: np.ndarray | None = None,
) -> ShareTable:
    """Share of each category among rows of ``domain`` whose value is one of ``categories``.

    Values outside ``categories`` (missing, "don't know", ...) leave the denominator,
    with the rows staying in the design for the variance (R's ``subset``).
    """
    values = np.asarray(values, dtype=object)
    categories = tuple(str(c) for c in categories)
    indicators = np.column_stack([values == c for c in categories]).astype(float)
    valid = indicators.sum(axis=1) > 0
    if domain is not None:
        valid &= np.asarray(domain, dtype=bool)
    return ratio_means(design, indicators, valid, categories)


def ratio_means(
    design: DesignArrays, y: np.ndarray, valid: np.ndarray, names: tuple[str, ...]
) -> ShareTable:
    """Weighted means of the columns of ``y`` over ``valid`` rows, with covariance."""
    w = design.weights * valid
    denominator = float(w.sum())
    if denominator <= 0:
        raise LinearisationError("No row with a positive weight is in the domain.")
    estimate = (w[:, None] * y).sum(axis=0) / denominator
    influence = w[:, None] * (y - estimate[None, :]) / denominator
    covariance, df = total_covariance(design, influence)
    if not valid.any():
        df = 0
    else:
        # df counts PSUs with domain members, as R's degf of a subset does.
        strata, psu = design._codes()
        active_psu = np.unique(psu[valid])
        psu_stratum = np.zeros(int(psu.max()) + 1, dtype=np.int64)
        psu_stratum[psu] = strata
        df = len(active_psu) - len(np.unique(psu_stratum[active_psu]))
    return ShareTable(names, estimate, covariance, df, int(valid.sum()), denominator)


def kish_deff(weights) -> float:
    """Kish's design effect due to unequal weighting: n Σw² / (Σw)² = 1 + CV²."""
    w = np.asarray(weights, dtype=float)
    if len(w) == 0 or w.sum() <= 0:
        raise LinearisationError("Kish's design effect needs positive weights.")
    return float(len(w) * (w**2).sum() / w.sum() ** 2)
