"""Comparisons between groups: Rao–Scott tests and proportional-odds odds ratios.

No Django here. svy offers Rao–Scott tests through ``Sample.categorical.tabulate`` (one
call per table, about 0.2 s on 40,000 rows); here the same statistics — R's
``svychisq`` first-order ("Chisq") and second-order ("F") corrections — are computed
from the linearised covariance of the cell shares (``linearised``), so that many
tables cost little. A test checks both against svy's on the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .linearised import DesignArrays, ratio_means
from .ordinal import fit_proportional_odds


class ComparisonError(ValueError):
    """A comparison that cannot be made; the message says why."""


@dataclass(frozen=True)
class RaoScott:
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    pearson: float  # on the weighted table scaled to the sample size
    chisq: float  # first-order corrected, on (r-1)(c-1) df
    chisq_df: int
    chisq_p: float
    f: float  # second-order: F on (d0, d0 * design df)
    f_df_num: float
    f_df_den: float
    f_p: float
    mean_deff: float  # mean generalised design effect (trace / df)
    n: int
    design_df: int


def rao_scott(
    design: DesignArrays,
    row_values,
    column_values,
    *,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    domain: np.ndarray | None = None,
) -> RaoScott:
    """Design-adjusted test of independence of two categorical variables.

    Rows whose values are not among ``rows``/``columns`` (e.g. "don't know") leave the
    table but stay in the design.
    """
    r_values = np.asarray(row_values, dtype=object)
    c_values = np.asarray(column_values, dtype=object)
    rows = (
        tuple(rows)
        if rows is not None
        else tuple(sorted({v for v in r_values if isinstance(v, str)}))
    )
    columns = (
        tuple(columns)
        if columns is not None
        else tuple(sorted({v for v in c_values if isinstance(v, str)}))
    )
    nr, nc = len(rows), len(columns)
    if nr < 2 or nc < 2:
        raise ComparisonError(
            f"A test of independence needs two or more levels each; got {nr}x{nc}."
        )
    # Cells in R's expand.grid order: the row index varies fastest.
    cells = np.column_stack(
        [(r_values == r) & (c_values == c) for c in columns for r in rows]
    ).astype(float)
    valid = cells.sum(axis=1) > 0
    if domain is not None:
        valid &= np.asarray(domain, dtype=bool)
    table = ratio_means(design, cells, valid, tuple(f"{r}|{c}" for c in columns for r in rows))
    mean = table.estimate
    observed = mean.reshape(nc, nr).T  # rows x columns
    row_margin = observed.sum(axis=1)
    column_margin = observed.sum(axis=0)
    if (row_margin == 0).any() or (column_margin == 0).any():
        empty = [r for r, m in zip(rows, row_margin, strict=True) if m == 0] + [
            c for c, m in zip(columns, column_margin, strict=True) if m == 0
        ]
        raise ComparisonError(f"Level(s) {', '.join(empty)} have no answer: drop them first.")
    n = table.n
    expected = np.outer(row_margin, column_margin)
    pearson = float(n * ((observed - expected) ** 2 / expected).sum())
    # The interaction contrasts: the full cell model's columns orthogonalised on the
    # main effects, as R's svychisq builds them.
    grid_r = np.tile(np.arange(nr), nc)
    grid_c = np.repeat(np.arange(nc), nr)
    main = np.column_stack(
        [np.ones(nr * nc)]
        + [(grid_r == i).astype(float) for i in range(1, nr)]
        + [(grid_c == j).astype(float) for j in range(1, nc)]
    )
    interaction = np.column_stack(
        [((grid_r == i) & (grid_c == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    coef, *_ = np.linalg.lstsq(main, interaction, rcond=None)
    contrasts = interaction - main @ coef
    inverse_mean = np.diag(np.where(mean > 0, 1 / np.where(mean > 0, mean, 1), 0.0))
    denominator = contrasts.T @ (inverse_mean / n) @ contrasts
    numerator = contrasts.T @ inverse_mean @ table.covariance @ inverse_mean @ contrasts
    delta = np.linalg.solve(denominator, numerator)
    trace = float(np.trace(delta))
    trace_sq = float(np.trace(delta @ delta))
    d = (nr - 1) * (nc - 1)
    d0 = trace**2 / trace_sq
    chisq = pearson * d / trace
    f = pearson / trace
    return RaoScott(
        rows=rows,
        columns=columns,
        pearson=pearson,
        chisq=chisq,
        chisq_df=d,
        chisq_p=float(stats.chi2.sf(chisq, d)),
        f=f,
        f_df_num=d0,
        f_df_den=d0 * table.df,
        f_p=float(stats.f.sf(f, d0, d0 * table.df)),
        mean_deff=trace / d,
        n=n,
        design_df=table.df,
    )


def odds_ratios_by_group(
    data: pd.DataFrame,
    outcome: str,
    levels: Sequence[str],
    group: str,
    reference: str,
    *,
    level: float = 0.95,
) -> list[dict]:
    """Proportional-odds regression of an ordinal outcome on group indicators.

    Rows whose outcome is not a substantive level (DK, NA, missing) are left out. The
    fit is unweighted (``ordinal.fit_proportional_odds``, R's ``MASS::polr``); its
    odds ratios compare each group with ``reference``: above 1 means higher answers.
    """
    work = data[data[outcome].isin(levels) & data[group].notna()].copy()
    groups = [g for g in sorted(work[group].astype(str).unique()) if g != reference]
    if reference not in set(work[group].astype(str)):
        raise ComparisonError(f"The reference group {reference!r} has no substantive answer.")
    if not groups:
        raise ComparisonError("Only the reference group answered: nothing to compare.")
    predictors = []
    for g in groups:
        column = f"group_{g}"
        work[column] = (work[group].astype(str) == g).astype(float)
        predictors.append(column)
    present = [lv for lv in levels if (work[outcome] == lv).any()]
    fit = fit_proportional_odds(work, outcome, predictors, levels=present)
    z = stats.norm.ppf(1 - (1 - level) / 2)
    rows = []
    for g, column in zip(groups, predictors, strict=True):
        beta, se = fit.coefficients[column], fit.se[column]
        rows.append(
            {
                "outcome": outcome,
                "group": g,
                "reference": reference,
                "n_group": int(work[column].sum()),
                "log_odds_ratio": beta,
                "se": se,
                "odds_ratio": float(np.exp(beta)),
                "ci_low": float(np.exp(beta - z * se)),
                "ci_high": float(np.exp(beta + z * se)),
                "p_value": float(2 * stats.norm.sf(abs(beta / se))),
                "n": fit.n,
                "converged": fit.converged,
            }
        )
    return rows
