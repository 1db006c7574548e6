"""Weights for non-response: weighting classes, raking, trimming. No Django here.

Every eligible unit of the sample (respondent or not) is one row of a pandas frame,
with frame variables known for all of them. The steps, as in Kalton & Flores-Cervantes
(2003): (1) weighting-class adjustment — within each class, respondents carry the base
weight of the class's non-respondents; (2) raking of the respondents' weights to
population margins by iterative proportional fitting; (3) trimming of extreme weights
at a multiple of the median, the trimmed excess spread over the other respondents so
the total is kept; then Kish's design effect due to weighting and a table comparing
respondents with the frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .linearised import kish_deff


class WeightingError(ValueError):
    """Input the weights cannot be computed from; the message names the column/level."""


@dataclass(frozen=True)
class ClassAdjustment:
    weights: pd.Series  # indexed like the respondents' rows of the input
    classes: pd.DataFrame  # one row per final class: eligible, respondents, factor
    collapsed: list[str]  # cells merged into a coarser class, and why


def size_bands(
    values: pd.Series, labels: Sequence[str] = ("small", "medium", "large")
) -> pd.Series:
    """Thirds of a numeric frame variable (by the frame's own tertiles); missing → "unknown"."""
    numeric = pd.to_numeric(values, errors="coerce")
    known = numeric.dropna()
    if known.nunique() < len(labels):
        return pd.Series(np.where(numeric.isna(), "unknown", labels[0]), index=values.index)
    edges = np.quantile(known, np.linspace(0, 1, len(labels) + 1)[1:-1])
    codes = np.searchsorted(edges, numeric.fillna(0).to_numpy(), side="right")
    out = np.array(labels, dtype=object)[np.minimum(codes, len(labels) - 1)]
    return pd.Series(np.where(numeric.isna(), "unknown", out), index=values.index)


def weighting_class_adjustment(
    units: pd.DataFrame,
    *,
    responded: str,
    classes: Sequence[str],
    base_weight: str | None = None,
    min_respondents: int = 5,
) -> ClassAdjustment:
    """Adjust base weights within classes so respondents stand for the eligible units.

    A cell with fewer than ``min_respondents`` respondents is merged into the coarser
    class made by dropping the last class variable (and so on up to one class for all);
    each merge is listed in ``collapsed``.
    """
    for column in [responded, *classes, *([base_weight] if base_weight else [])]:
        if column not in units.columns:
            raise WeightingError(f"Column {column!r} is not in the units table.")
    if min_respondents < 1:
        raise WeightingError("min_respondents must be at least 1.")
    frame = units.copy()
    frame["_w"] = 1.0 if base_weight is None else pd.to_numeric(frame[base_weight], errors="coerce")
    bad = frame["_w"].isna() | (frame["_w"] <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise WeightingError(
            f"Base weight in row {row} ({base_weight}) is missing or not positive."
        )
    frame["_r"] = frame[responded].astype(bool)
    if not frame["_r"].any():
        raise WeightingError("No unit responded: there is nothing to weight.")
    for column in classes:
        frame[column] = frame[column].fillna("unknown").astype(str)
    # Each unit's class key, coarsened until its cell has enough respondents.
    depth = pd.Series(len(classes), index=frame.index)
    collapsed: list[str] = []

    def key_at(row_depth: pd.Series) -> pd.Series:
        parts = [
            np.where(row_depth.to_numpy() > i, frame[c].to_numpy(), "*")
            for i, c in enumerate(classes)
        ]
        if not parts:
            return pd.Series("all", index=frame.index)
        return pd.Series([" | ".join(p) for p in zip(*parts, strict=True)], index=frame.index)

    while True:
        keys = key_at(depth)
        respondents = frame["_r"].groupby(keys).sum()
        small = set(respondents[respondents < min_respondents].index)
        small_rows = keys.isin(small) & (depth > 0)
        if not small_rows.any():
            break
        # The small cell and its siblings (same coarser key) merge into that coarser class.
        coarser = key_at(depth - 1)
        targets = set(coarser[small_rows])
        for cell in sorted(set(keys[small_rows])):
            collapsed.append(
                f"{cell}: {int(respondents[cell])} respondent(s), merged into a coarser class"
            )
        merge = coarser.isin(targets) & (depth > 0) & (depth == depth[small_rows].max())
        depth[merge] -= 1
    keys = key_at(depth)
    frame["_class"] = keys
    grouped = frame.groupby("_class")
    eligible_weight = grouped["_w"].sum()
    respondent_weight = frame[frame["_r"]].groupby("_class")["_w"].sum()
    empty = eligible_weight.index.difference(respondent_weight.index)
    if len(empty):
        raise WeightingError(
            f"Class {empty[0]!r} has eligible units but no respondent even after merging."
        )
    factor = eligible_weight / respondent_weight
    respondents = frame[frame["_r"]]
    weights = respondents["_w"] * respondents["_class"].map(factor)
    table = pd.DataFrame(
        {
            "class": eligible_weight.index,
            "eligible": grouped.size().to_numpy(),
            "respondents": frame[frame["_r"]]
            .groupby("_class")
            .size()
            .reindex(eligible_weight.index)
            .to_numpy(),
            "adjustment_factor": factor.to_numpy(),
        }
    )
    return ClassAdjustment(weights.rename("weight"), table, collapsed)


@dataclass(frozen=True)
class RakeResult:
    weights: np.ndarray
    iterations: int
    converged: bool
    max_error: float  # largest relative gap between a raked margin and its target


def rake(
    weights,
    data: pd.DataFrame,
    margins: Mapping[str, Mapping[str, float]],
    *,
    tolerance: float = 1e-8,
    max_iterations: int = 200,
) -> RakeResult:
    """Iterative proportional fitting of ``weights`` to the margin totals.

    Every level present in the data must have a target and every target a respondent;
    otherwise the error names the column and level.
    """
    w = np.asarray(weights, dtype=float).copy()
    if len(w) != len(data):
        raise WeightingError(f"{len(w)} weights for {len(data)} rows.")
    columns = {}
    for column, totals in margins.items():
        if column not in data.columns:
            raise WeightingError(f"Raking margin {column!r} is not a column of the data.")
        values = data[column].fillna("unknown").astype(str).to_numpy()
        levels = {str(k): float(v) for k, v in totals.items()}
        for level in sorted(set(values)):
            if level not in levels:
                raise WeightingError(f"Raking margin {column!r} has no total for level {level!r}.")
        for level, total in levels.items():
            if total > 0 and not (values == level).any():
                raise WeightingError(
                    f"Raking margin {column!r}, level {level!r}: no respondent to carry its total."
                )
        columns[column] = (values, levels)
    converged = False
    iterations = 0
    error = np.inf
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        for values, levels in columns.values():
            for level, total in levels.items():
                mask = values == level
                current = w[mask].sum()
                if current > 0:
                    w[mask] *= total / current
        error = _margin_error(w, columns)
        if error < tolerance:
            converged = True
            break
    return RakeResult(w, iterations, converged, float(error))


def _margin_error(w: np.ndarray, columns) -> float:
    worst = 0.0
    for values, levels in columns.values():
        for level, total in levels.items():
            if total > 0:
                worst = max(worst, abs(w[values == level].sum() - total) / total)
    return worst


@dataclass(frozen=True)
class TrimResult:
    weights: np.ndarray
    cap: float
    trimmed: int  # how many weights were capped


def trim(weights, *, ratio: float = 3.5, max_iterations: int = 100) -> TrimResult:
    """Cap weights at ``ratio`` × their median; spread the excess over the rest pro rata.

    Spreading can lift other weights over the cap, so it repeats until none is above
    it. The total is kept.
    """
    w = np.asarray(weights, dtype=float).copy()
    if ratio <= 1:
        raise WeightingError(f"The trimming ratio must exceed 1, not {ratio}.")
    if len(w) == 0:
        return TrimResult(w, float("nan"), 0)
    cap = float(ratio * np.median(w))
    total = w.sum()
    capped = np.zeros(len(w), dtype=bool)
    for _ in range(max_iterations):
        over = (w > cap * (1 + 1e-12)) & ~capped
        if not over.any():
            break
        capped |= over
        w[capped] = cap
        free = ~capped
        if not free.any():
            raise WeightingError("Every weight hit the cap: raise the trimming ratio.")
        w[free] *= (total - w[capped].sum()) / w[free].sum()
    return TrimResult(w, cap, int(capped.sum()))


def compare_with_frame(
    frame: pd.DataFrame, respondents: pd.DataFrame, weights, variables: Sequence[str]
) -> pd.DataFrame:
    """Shares of each level of each variable: in the frame, among respondents, weighted."""
    w = np.asarray(weights, dtype=float)
    rows = []
    for variable in variables:
        frame_values = frame[variable].fillna("unknown").astype(str)
        respondent_values = respondents[variable].fillna("unknown").astype(str).to_numpy()
        frame_counts = frame_values.value_counts()
        for level in sorted(set(frame_counts.index) | set(respondent_values)):
            mask = respondent_values == level
            rows.append(
                {
                    "variable": variable,
                    "level": level,
                    "frame_n": int(frame_counts.get(level, 0)),
                    "frame_share": float(frame_counts.get(level, 0) / len(frame_values)),
                    "respondents_n": int(mask.sum()),
                    "respondent_share": float(mask.mean()) if len(mask) else float("nan"),
                    "weighted_share": float(w[mask].sum() / w.sum()) if w.sum() else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def weight_summary(weights) -> dict[str, float]:
    w = np.asarray(weights, dtype=float)
    return {
        "respondents": int(len(w)),
        "sum_of_weights": float(w.sum()),
        "min": float(w.min()),
        "median": float(np.median(w)),
        "max": float(w.max()),
        "kish_deff": kish_deff(w),
        "effective_n": float(len(w) / kish_deff(w)),
    }
