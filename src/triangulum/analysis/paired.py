"""Tests for paired categorical data (the same people at two waves). No Django here.

McNemar's chi-square for a 2x2 table (with or without the continuity correction) and
the Stuart-Maxwell test of marginal homogeneity for a k x k table, both from
statsmodels; this module checks the table and names what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class PairedTableError(ValueError):
    """A table the test cannot be run on."""


@dataclass(frozen=True)
class PairedTest:
    test: str
    statistic: float
    df: int
    p_value: float


def _square_table(table: Sequence[Sequence[float]], size: int | None = None) -> np.ndarray:
    array = np.asarray(table, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise PairedTableError(f"A paired table must be square; got shape {array.shape}.")
    if size is not None and array.shape[0] != size:
        raise PairedTableError(f"This test needs a {size}x{size} table; got {array.shape}.")
    if np.isnan(array).any() or (array < 0).any():
        row, col = np.argwhere(np.isnan(array) | (array < 0))[0]
        raise PairedTableError(
            f"Cell (row {row + 1}, column {col + 1}) holds {array[row, col]}; counts must be "
            "non-negative numbers."
        )
    return array


def mcnemar(table: Sequence[Sequence[float]], *, correction: bool = True) -> PairedTest:
    """McNemar's chi-square (1 df) on the discordant cells of a 2x2 table.

    Rows are the first wave, columns the second. ``correction`` applies Edwards'
    continuity correction, as R's ``mcnemar.test`` does by default.
    """
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    array = _square_table(table, size=2)
    if array[0, 1] + array[1, 0] == 0:
        raise PairedTableError(
            "No discordant pairs (both off-diagonal cells are 0): nothing to test."
        )
    result = sm_mcnemar(array, exact=False, correction=correction)
    name = "McNemar chi-square" + (" (continuity corrected)" if correction else "")
    return PairedTest(name, float(result.statistic), 1, float(result.pvalue))


def stuart_maxwell(table: Sequence[Sequence[float]]) -> PairedTest:
    """Stuart-Maxwell test that the row and column margins of a k x k table agree."""
    from statsmodels.stats.contingency_tables import SquareTable

    array = _square_table(table)
    if array.shape[0] < 2:
        raise PairedTableError("A paired table needs at least two categories.")
    result = SquareTable(array, shift_zeros=False).homogeneity(method="stuart_maxwell")
    return PairedTest(
        "Stuart-Maxwell", float(result.statistic), int(result.df), float(result.pvalue)
    )
