"""Inter-coder agreement: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha, and
per-character agreement between two coders' spans of one code.

Pure computation: no Django import. The statistics themselves come from published
libraries (statsmodels for the kappas, ``krippendorff`` for alpha, see ADR 0007); this
module shapes the data for them, checks it, and says None where a statistic is undefined
(no variation to agree on, nothing both coders coded).

Reliability data is a sequence of rows, one per coder, one column per unit; a missing
value is None or NaN.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np

LEVELS = ("nominal", "ordinal", "interval", "ratio")

# p_e this close to 1 means chance agreement is certain: kappa's denominator vanishes.
_CERTAIN = 1e-12


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class KappaResult:
    """Cohen's kappa with its parts: observed and chance agreement over ``units``."""

    units: int
    p_o: float | None
    p_e: float | None
    kappa: float | None  # None where undefined (no units, or p_e = 1)

    @property
    def percent_agreement(self) -> float | None:
        return None if self.p_o is None else 100 * self.p_o


def kappa_from_table(table) -> KappaResult:
    """Cohen's kappa from a square table: rows coder A's categories, columns coder B's."""
    table = np.asarray(table, dtype=float)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise ValueError(f"a kappa table must be square, got shape {table.shape}")
    units = table.sum()
    if units == 0:
        return KappaResult(0, None, None, None)
    p_o = float(np.trace(table) / units)
    p_e = float((table.sum(axis=1) * table.sum(axis=0)).sum() / units**2)
    if p_e > 1 - _CERTAIN:
        return KappaResult(int(units), p_o, p_e, None)
    from statsmodels.stats import inter_rater  # imported here: statsmodels is slow to load

    kappa = float(inter_rater.cohens_kappa(table, return_results=False))
    return KappaResult(int(units), p_o, p_e, kappa)


def _category_order(values: Iterable[Hashable]) -> list:
    # Sorting by type name first lets numbers and text share one table without a TypeError.
    return sorted(set(values), key=lambda v: (type(v).__name__, v))


def cohen_kappa(labels_a: Sequence[Hashable], labels_b: Sequence[Hashable]) -> KappaResult:
    """Unweighted Cohen's kappa over the units both coders labelled.

    ``labels_a[i]`` and ``labels_b[i]`` are the two coders' labels for unit i (a turn, a
    character, a case …); a unit where either label is missing is left out.
    """
    if len(labels_a) != len(labels_b):
        raise ValueError(f"coder A labelled {len(labels_a)} units but coder B {len(labels_b)}")
    pairs = [
        (a, b)
        for a, b in zip(labels_a, labels_b, strict=True)
        if not is_missing(a) and not is_missing(b)
    ]
    categories = _category_order([a for a, _ in pairs] + [b for _, b in pairs])
    index = {category: position for position, category in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    for a, b in pairs:
        table[index[a], index[b]] += 1
    return kappa_from_table(table)


def fleiss_kappa(reliability_data: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa for two or more coders who each labelled every unit.

    Rows are coders, columns units, as for Krippendorff's alpha; no value may be missing.
    None where undefined (every label the same, so chance agreement is certain).
    """
    rows = [list(row) for row in reliability_data]
    if len(rows) < 2:
        raise ValueError("Fleiss' kappa needs at least two coders")
    widths = {len(row) for row in rows}
    if len(widths) != 1 or 0 in widths:
        raise ValueError("every coder must label the same, non-zero number of units")
    for coder, row in enumerate(rows):
        for unit, value in enumerate(row):
            if is_missing(value):
                raise ValueError(
                    f"Fleiss' kappa needs complete data: coder {coder + 1} has no value "
                    f"for unit {unit + 1}"
                )
    categories = _category_order(value for row in rows for value in row)
    index = {category: position for position, category in enumerate(categories)}
    # statsmodels wants units in rows, with each category's count of coders in columns.
    counts = np.zeros((len(rows[0]), len(categories)))
    for row in rows:
        for unit, value in enumerate(row):
            counts[unit, index[value]] += 1
    shares = counts.sum(axis=0) / counts.sum()
    if (shares**2).sum() > 1 - _CERTAIN:
        return None
    from statsmodels.stats import inter_rater

    return float(inter_rater.fleiss_kappa(counts, method="fleiss"))


def _numeric(value, coder: int, unit: int, level: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(
            f"coder {coder + 1}, unit {unit + 1}: {value!r} is not a number, which the "
            f"{level} level needs"
        )
    if level == "ratio" and number < 0:
        raise ValueError(
            f"coder {coder + 1}, unit {unit + 1}: {value!r} is negative; the ratio level "
            "needs values with a true zero"
        )
    return number


def reliability_matrix(reliability_data: Sequence[Sequence], level: str) -> np.ndarray:
    """The float matrix ``krippendorff.alpha`` reads: NaN for missing.

    Nominal categories that are not numbers are numbered in sorted order (any numbering
    serves, since nominal distance only asks whether two values are equal); the other
    levels need numbers, whose order and differences are the point.
    """
    if level not in LEVELS:
        raise ValueError(f'unknown level "{level}" (expected one of {", ".join(LEVELS)})')
    rows = [list(row) for row in reliability_data]
    width = max((len(row) for row in rows), default=0)
    present = [value for row in rows for value in row if not is_missing(value)]
    all_numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    codes = {}
    if level == "nominal" and not all_numbers:
        codes = {category: float(n) for n, category in enumerate(_category_order(present))}
    matrix = np.full((len(rows), width), np.nan)
    for coder, row in enumerate(rows):
        for unit, value in enumerate(row):
            if is_missing(value):
                continue
            matrix[coder, unit] = codes[value] if codes else _numeric(value, coder, unit, level)
    return matrix


def krippendorff_alpha(
    reliability_data: Sequence[Sequence], level: str = "nominal"
) -> float | None:
    """Krippendorff's alpha at ``level`` (nominal, ordinal, interval or ratio).

    None where alpha is undefined: no unit has two values to pair, or every paired value
    is the same (no expected disagreement to compare with).
    """
    matrix = reliability_matrix(reliability_data, level)
    pairable_units = (~np.isnan(matrix)).sum(axis=0) >= 2
    paired_values = matrix[:, pairable_units]
    if np.unique(paired_values[~np.isnan(paired_values)]).size < 2:
        return None
    # The value domain is left to the library: it is the sorted distinct values, which is
    # what the ordinal metric needs (categories nobody used carry no weight in it).
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))


@dataclass(frozen=True)
class CharacterAgreement:
    """Agreement on one code, character by character (coded or not by each coder).

    ``all_text`` counts every character of the document; ``coded_text`` only those at
    least one coder coded, which drops the characters neither coded and so keeps long
    uncoded stretches from inflating agreement.
    """

    all_text: KappaResult
    coded_text: KappaResult


def _coverage(length: int, spans: Iterable[tuple[int, int]], coder: str) -> np.ndarray:
    covered = np.zeros(length, dtype=bool)
    for start, end in spans:
        if not (0 <= start <= end <= length):
            raise ValueError(
                f"coder {coder}: span ({start}, {end}) is not within a text of {length} characters"
            )
        covered[start:end] = True
    return covered


def _presence_table(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both = int((a & b).sum())
    a_only = int((a & ~b).sum())
    b_only = int((~a & b).sum())
    neither = int((~a & ~b).sum())
    # Rows: coder A coded / not; columns: coder B coded / not.
    return np.array([[both, a_only], [b_only, neither]], dtype=float)


def character_agreement(
    length: int,
    coder_a_spans: Iterable[tuple[int, int]],
    coder_b_spans: Iterable[tuple[int, int]],
) -> CharacterAgreement:
    """Per-character agreement of two coders on one code.

    Spans are half-open character offsets ``(start, end)`` into a text of ``length``
    characters; overlapping spans of one coder count each character once.
    """
    if length < 0:
        raise ValueError("a text cannot have a negative length")
    a = _coverage(length, coder_a_spans, "A")
    b = _coverage(length, coder_b_spans, "B")
    either = a | b
    return CharacterAgreement(
        all_text=kappa_from_table(_presence_table(a, b)),
        coded_text=kappa_from_table(_presence_table(a[either], b[either])),
    )
