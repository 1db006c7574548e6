"""Likert items and scales. No Django here.

Full distributions of the substantive answers with design-based intervals; the share
agreeing (the top of the scale) with a logit interval; "don't know" and "not
applicable" kept out of every denominator and reported apart; Cronbach's alpha with
Feldt's interval and item–rest correlations for a multi-item scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .linearised import DesignArrays, logit_interval, shares
from .reliability import cronbach_alpha

NON_SUBSTANTIVE = ("dont_know", "not_applicable")


@dataclass(frozen=True)
class LikertItem:
    name: str
    label: str
    scale: tuple[str, ...]  # substantive answers, lowest first
    scale_labels: tuple[str, ...]
    missing_codes: tuple[str, ...] = NON_SUBSTANTIVE

    @property
    def agreeing(self) -> tuple[str, ...]:
        """The upper part of the scale: the top two points (top half of a 4-point scale)."""
        return self.scale[-2:]


def default_agreeing(scale: Sequence[str]) -> tuple[str, ...]:
    return tuple(scale[-2:])


def distribution(
    design: DesignArrays,
    values,
    item: LikertItem,
    *,
    domain: np.ndarray | None = None,
    level: float = 0.95,
) -> dict:
    """One item: rows per answer (substantive shares with intervals; DK/NA counts).

    Returns {"rows": [...], "agree": {...}, "asked": n, "substantive": n}.
    """
    values = np.asarray(values, dtype=object)
    in_domain = np.ones(len(values), dtype=bool) if domain is None else np.asarray(domain, bool)
    asked = in_domain & np.array([isinstance(v, str) and v != "" for v in values], dtype=bool)
    table = shares(design, values, item.scale, domain=in_domain)
    low, high = table.logit_interval(level)
    rows = []
    for k, code in enumerate(item.scale):
        rows.append(
            {
                "item": item.name,
                "answer": code,
                "answer_label": item.scale_labels[k],
                "substantive": True,
                "n": int(((values == code) & in_domain).sum()),
                "share": float(table.estimate[k]),
                "se": float(table.se[k]),
                "ci_low": float(low[k]),
                "ci_high": float(high[k]),
            }
        )
    for code in item.missing_codes:
        count = int(((values == code) & in_domain).sum())
        rows.append(
            {
                "item": item.name,
                "answer": code,
                "answer_label": code.replace("_", " ").replace("dont", "don't").capitalize(),
                "substantive": False,
                "n": count,
                # Reported as a share of everyone asked, never of the substantive answers.
                "share": count / int(asked.sum()) if asked.any() else float("nan"),
                "se": None,
                "ci_low": None,
                "ci_high": None,
            }
        )
    agree_mask = np.isin(np.asarray(item.scale), item.agreeing)
    p = float(table.estimate[agree_mask].sum())
    var = float(agree_mask @ table.covariance @ agree_mask)
    a_low, a_high = logit_interval([p], [np.sqrt(max(var, 0.0))], table.df, level)
    agree = {
        "item": item.name,
        "label": item.label,
        "agreeing": " or ".join(item.scale_labels[i] for i in np.flatnonzero(agree_mask)),
        "share": p,
        "se": float(np.sqrt(max(var, 0.0))),
        "ci_low": float(a_low[0]),
        "ci_high": float(a_high[0]),
        "df": table.df,
        "n_substantive": table.n,
        "n_excluded": int(asked.sum()) - table.n,
    }
    return {"rows": rows, "agree": agree, "asked": int(asked.sum()), "substantive": table.n}


def scale_scores(values_by_item: Sequence[Sequence[object]], scale: Sequence[str]) -> np.ndarray:
    """Answers as scores 1..k (position on the scale); DK/NA/missing → NaN."""
    position = {code: float(i + 1) for i, code in enumerate(scale)}
    return np.array(
        [[position.get(v, np.nan) for v in column] for column in values_by_item], dtype=float
    ).T


def reliability(scores: np.ndarray, item_names: Sequence[str], level: float = 0.95) -> dict:
    """Alpha with Feldt's interval on complete rows, and each item's item–rest correlation."""
    complete = ~np.isnan(scores).any(axis=1)
    data = scores[complete]
    result = cronbach_alpha(data, level=level)
    item_rest = []
    for j, name in enumerate(item_names):
        rest = np.delete(data, j, axis=1).sum(axis=1)
        r = float(np.corrcoef(data[:, j], rest)[0, 1]) if data[:, j].std() > 0 else float("nan")
        item_rest.append({"item": name, "item_rest_correlation": r})
    return {
        "alpha": result.alpha,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "n_complete": result.n,
        "n_dropped": int((~complete).sum()),
        "items": result.items,
        "item_rest": item_rest,
    }
