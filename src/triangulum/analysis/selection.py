"""Proposing in-depth case-study sites from the typology. No Django here.

Sites should span the typology's classes and the frame's variety. The rule: first the
most typical member of each class (highest posterior probability of its class), the
largest class first; then, while more sites are wanted, the candidate farthest (Gower
distance on region and on percentile ranks of the numeric frame variables) from those
already proposed, among units classified with posterior ≥ ``min_posterior`` and from
the class with fewest proposed sites relative to its size. Every proposal says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Candidate:
    code: str
    name: str
    typology_class: int  # 1-based
    posterior: float
    categorical: Mapping[str, str]  # e.g. region
    numeric: Mapping[str, float | None]  # e.g. registered patients


def _ranks(values: list[float | None]) -> list[float | None]:
    known = np.sort(np.array([v for v in values if v is not None], dtype=float))
    if not len(known):
        return [None] * len(values)
    out = []
    for v in values:
        if v is None:
            out.append(None)
        else:
            below = np.searchsorted(known, v, side="left")
            equal = np.searchsorted(known, v, side="right") - below
            out.append(float((below + (equal - 1) / 2) / max(len(known) - 1, 1)))
    return out


def _third(rank: float | None) -> str:
    if rank is None:
        return "unknown"
    return "lower third" if rank < 1 / 3 else ("middle third" if rank < 2 / 3 else "upper third")


def propose_sites(
    candidates: Sequence[Candidate],
    n: int,
    *,
    min_posterior: float = 0.8,
    exclude: Sequence[str] = (),
) -> list[dict]:
    """Up to ``n`` proposed sites with the reason for each, in order of proposal."""
    pool = [c for c in candidates if c.code not in set(exclude)]
    if not pool or n < 1:
        return []
    numeric_names = sorted({k for c in pool for k in c.numeric})
    categorical_names = sorted({k for c in pool for k in c.categorical})
    ranks = {name: _ranks([c.numeric.get(name) for c in pool]) for name in numeric_names}

    def distance(i: int, j: int) -> float:
        parts = []
        for name in numeric_names:
            a, b = ranks[name][i], ranks[name][j]
            if a is not None and b is not None:
                parts.append(abs(a - b))
        for name in categorical_names:
            a, b = pool[i].categorical.get(name), pool[j].categorical.get(name)
            if a is not None and b is not None:
                parts.append(0.0 if a == b else 1.0)
        return float(np.mean(parts)) if parts else 0.0

    sizes: dict[int, int] = {}
    for c in pool:
        sizes[c.typology_class] = sizes.get(c.typology_class, 0) + 1
    chosen: list[int] = []
    reasons: list[str] = []
    for cls in sorted(sizes, key=lambda k: (-sizes[k], k)):
        if len(chosen) >= n:
            break
        members = [i for i, c in enumerate(pool) if c.typology_class == cls]
        best = max(members, key=lambda i: (pool[i].posterior, pool[i].code))
        chosen.append(best)
        reasons.append(
            f"most typical member of class {cls} ({sizes[cls]} organisations; posterior "
            f"{pool[best].posterior:.2f})"
        )
    while len(chosen) < n:
        per_class = {k: sum(pool[i].typology_class == k for i in chosen) for k in sizes}
        cls = min(sizes, key=lambda k: (per_class[k] / sizes[k], -sizes[k], k))
        eligible = [
            i
            for i, c in enumerate(pool)
            if i not in chosen and c.typology_class == cls and c.posterior >= min_posterior
        ] or [i for i, c in enumerate(pool) if i not in chosen and c.typology_class == cls]
        if not eligible:
            eligible = [i for i in range(len(pool)) if i not in chosen]
        if not eligible:
            break
        best = max(eligible, key=lambda i: (min(distance(i, j) for j in chosen), pool[i].code))
        gap = min(distance(best, j) for j in chosen)
        chosen.append(best)
        reasons.append(
            f"class {pool[best].typology_class}, chosen to differ most from the sites already "
            f"proposed (Gower distance {gap:.2f}; posterior {pool[best].posterior:.2f})"
        )
    rows = []
    for order, (i, reason) in enumerate(zip(chosen, reasons, strict=True), start=1):
        c = pool[i]
        profile = [f"{name}: {c.categorical.get(name, 'unknown')}" for name in categorical_names]
        profile += [f"{name}: {_third(ranks[name][i])}" for name in numeric_names]
        rows.append(
            {
                "order": order,
                "code": c.code,
                "name": c.name,
                "typology_class": c.typology_class,
                "posterior": c.posterior,
                "reason": f"{reason}; {', '.join(profile)}",
            }
        )
    return rows
