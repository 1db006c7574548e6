"""Waves compared: cross-sections with intervals, and change among those in both.

No Django here. Organisations are followed across a reorganisation through the
succession table: with ``rule="follow"`` each wave-1 CCG is paired with the CCG it
became (so two merged predecessors are two pairs sharing one wave-2 value); with
``rule="combine"`` the predecessors' members are pooled into one wave-1 unit under
the successor's code, and paired once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from .paired import PairedTableError, mcnemar, stuart_maxwell

RULES = ("follow", "combine")


class WaveComparisonError(ValueError):
    """A comparison across waves that cannot be made."""


def successor_of(code: str, successions: Mapping[str, str], *, limit: int = 20) -> str:
    """Follow ``code`` through successive mergers to the organisation that now holds it."""
    seen = [code]
    while code in successions:
        code = successions[code]
        if code in seen or len(seen) > limit:
            raise WaveComparisonError(
                f"The succession table loops at {code!r}: {' → '.join(seen)}."
            )
        seen.append(code)
    return code


def difference(first: dict, second: dict, level: float = 0.95) -> dict:
    """Wave 2 minus wave 1 for two independent cross-section estimates (est, se, df).

    The waves overlap in people, whose answers correlate positively, so treating them
    as independent overstates the variance of the difference: the interval is
    conservative.
    """
    diff = second["share"] - first["share"]
    se = float(np.hypot(first["se"], second["se"]))
    df = max(1, min(int(first["df"]), int(second["df"])))
    t = stats.t.ppf(1 - (1 - level) / 2, df)
    return {
        "difference": float(diff),
        "se": se,
        "ci_low": float(diff - t * se),
        "ci_high": float(diff + t * se),
        "p_value": float(2 * stats.t.sf(abs(diff) / se, df)) if se > 0 else float("nan"),
        "df": df,
    }


def paired_table(
    first: Mapping[str, str], second: Mapping[str, str], categories: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """Counts of (wave-1 answer, wave-2 answer) over keys with a category in both."""
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)), dtype=int)
    keys = []
    for key in sorted(set(first) & set(second)):
        a, b = first[key], second[key]
        if a in index and b in index:
            table[index[a], index[b]] += 1
            keys.append(key)
    return table, keys


def paired_test(table: np.ndarray) -> dict:
    """McNemar for a 2x2 table, Stuart–Maxwell otherwise; the reason if neither can run."""
    try:
        if table.shape == (2, 2):
            result = mcnemar(table)
        else:
            keep = (table.sum(axis=0) + table.sum(axis=1)) > 0
            result = stuart_maxwell(table[np.ix_(keep, keep)])
    except (PairedTableError, np.linalg.LinAlgError, ValueError) as error:
        return {"test": "none", "statistic": None, "df": None, "p_value": None, "note": str(error)}
    return {
        "test": result.test,
        "statistic": result.statistic,
        "df": result.df,
        "p_value": result.p_value,
        "note": "",
    }


def organisation_pairs(
    first: Mapping[str, str | None],
    second: Mapping[str, str | None],
    successions: Mapping[str, str],
    *,
    rule: str,
    first_members: Mapping[str, Sequence[str]] | None = None,
    combine=None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Wave-1 and wave-2 organisation values keyed for pairing.

    ``first``/``second`` map organisation codes to their combined values (None where
    an organisation has none). For ``combine``, predecessors that share a successor
    are pooled: ``first_members`` (code → members' answers) and ``combine`` (answers →
    value) make the pooled value.
    """
    if rule not in RULES:
        raise WaveComparisonError(f"Unknown rule {rule!r}: use one of {', '.join(RULES)}.")
    later = {code: value for code, value in second.items() if value is not None}
    earlier: dict[str, str] = {}
    if rule == "follow":
        after: dict[str, str] = {}
        for code, value in first.items():
            target = successor_of(code, successions)
            if value is not None and target in later:
                earlier[code] = value
                after[code] = later[target]
        return earlier, after
    if first_members is None or combine is None:
        raise WaveComparisonError("Combining predecessors needs their members' answers.")
    groups: dict[str, list[str]] = {}
    for code in first:
        groups.setdefault(successor_of(code, successions), []).append(code)
    for target, codes in groups.items():
        if len(codes) == 1 and codes[0] == target:
            value = first[target]
        else:
            value = combine([v for code in codes for v in first_members.get(code, [])])
        if value is not None:
            earlier[target] = value
    return earlier, later
