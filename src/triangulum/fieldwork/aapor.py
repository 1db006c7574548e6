"""AAPOR final disposition codes and outcome rates (Standard Definitions).

Pure computation: no Django import. A disposition is either an AAPOR final code
(``1.1``, ``2.111``, ``4.10`` …) or one of the bucket letters the rate formulas use:

    I complete, P partial, R refusal and break-off, NC non-contact, O other
    eligible non-interview, UH unknown if household, UO unknown other, NE not eligible.

Codes are matched on their major digit and the first digit after the point, so any
deeper sub-code falls into its parent's bucket (``2.112`` → R, ``3.213`` → UO), and a
code a spreadsheet has shortened (``2.10`` saved as ``2.1``) still maps correctly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BUCKETS = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")

BUCKET_LABELS = {
    "I": "complete interview",
    "P": "partial interview",
    "R": "refusal and break-off",
    "NC": "non-contact",
    "O": "other eligible non-interview",
    "UH": "unknown if household/occupied",
    "UO": "unknown eligibility, other",
    "NE": "not eligible",
}

RATE_NAMES = (
    "RR1",
    "RR2",
    "RR3",
    "RR4",
    "RR5",
    "RR6",
    "COOP1",
    "COOP2",
    "COOP3",
    "COOP4",
    "REF1",
    "REF2",
    "REF3",
    "CON1",
    "CON2",
    "CON3",
    "LOC1",
    "LOC2",
)

E_METHODS = ("given", "proportional")

# (major digit, first digit after the point) → bucket, for the telephone final codes.
_CODE_BUCKETS = {
    ("1", "1"): "I",
    ("1", "2"): "P",
    ("2", "1"): "R",
    ("2", "2"): "NC",
    ("2", "3"): "O",
    ("3", "1"): "UH",
    ("3", "2"): "UO",
    ("3", "9"): "UO",
    ("4", "0"): "NE",
    ("4", "1"): "NE",
    ("4", "2"): "NE",
    ("4", "3"): "NE",
    ("4", "4"): "NE",
    ("4", "5"): "NE",
    ("4", "7"): "NE",
    ("4", "8"): "NE",
    ("4", "9"): "NE",
}

# Headings that span more than one bucket, so a case coded with one cannot be counted.
_AMBIGUOUS_HEADINGS = {
    "1": "1.0 (interview) does not say whether it was complete (1.1) or partial (1.2)",
    "2": "2.0 (eligible, no interview) does not say whether it was a refusal (2.10), "
    "non-contact (2.20) or other (2.30)",
    "3": "3.0 (unknown eligibility) does not say whether household status (3.10) or "
    "respondent (3.20) was unknown",
}

_CODE_PATTERN = re.compile(r"^([1-4])(?:\.(\d+))?$")


class DispositionError(ValueError):
    """A disposition that is not an AAPOR final code or bucket letter, or a bad weight."""

    def __init__(self, message: str, *, position: int | None = None, value: str = ""):
        super().__init__(message)
        self.position = position
        self.value = value


def bucket_for(disposition: str) -> str:
    """The rate bucket (I, P, R, NC, O, UH, UO or NE) of one disposition."""
    text = str(disposition).strip()
    if not text:
        raise DispositionError("empty disposition", value=text)
    upper = text.upper()
    if upper in BUCKETS:
        return upper
    match = _CODE_PATTERN.match(text)
    if match:
        major, minor = match.group(1), match.group(2) or "0"
        if minor.strip("0") == "" and major in _AMBIGUOUS_HEADINGS:
            raise DispositionError(
                f'AAPOR disposition "{text}" is a heading, not a final code: '
                f"{_AMBIGUOUS_HEADINGS[major]}",
                value=text,
            )
        bucket = _CODE_BUCKETS.get((major, minor[0]))
        if bucket:
            return bucket
    raise DispositionError(
        f'unknown AAPOR disposition "{text}" (expected a final code such as 1.1, 2.111 '
        f"or 4.10, or one of {', '.join(BUCKETS)})",
        value=text,
    )


def count_dispositions(
    dispositions: Iterable[str], weights: Iterable[float] | None = None
) -> dict[str, float]:
    """Cases (or summed weights) per bucket; every bucket appears, zero if unused.

    A ``DispositionError`` carries ``position``, the 0-based index of the offending
    disposition, so a caller can name the row of its file.
    """
    counts = dict.fromkeys(BUCKETS, 0.0)
    disposition_list = list(dispositions)
    weight_list = None if weights is None else list(weights)
    if weight_list is not None and len(weight_list) != len(disposition_list):
        raise ValueError(f"{len(disposition_list)} dispositions but {len(weight_list)} weights")
    for position, disposition in enumerate(disposition_list):
        try:
            bucket = bucket_for(disposition)
        except DispositionError as error:
            error.position = position
            raise
        try:
            weight = 1.0 if weight_list is None else float(weight_list[position])
        except (TypeError, ValueError):
            weight = math.nan
        if not math.isfinite(weight) or weight < 0:
            raise DispositionError(
                f"weight {weight_list[position]!r} is not a non-negative number",
                position=position,
                value=str(weight_list[position]),
            )
        counts[bucket] += weight
    return counts


def proportional_e(counts: dict[str, float]) -> float | None:
    """e by proportional allocation: the eligible share among cases of known eligibility.

    None when no case has known eligibility (the share is then undefined).
    """
    eligible = sum(counts[b] for b in ("I", "P", "R", "NC", "O"))
    known = eligible + counts["NE"]
    return eligible / known if known > 0 else None


def _ratio(numerator: float, denominator: float | None) -> float | None:
    if denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def outcome_rates(counts: dict[str, float], e: float | None) -> dict[str, float | None]:
    """The 18 AAPOR rates, keyed RR1 … LOC2; None where a denominator is zero.

    ``e`` may be None (undefined); rates that use it are then None unless there are no
    unknown-eligibility cases for it to scale.
    """
    i, p, r, nc, o = (counts[b] for b in ("I", "P", "R", "NC", "O"))
    unknown = counts["UH"] + counts["UO"]
    interviews = i + p
    eligible_known = interviews + r + nc + o
    contacted = interviews + r + o
    all_cases_base = eligible_known + unknown
    if unknown == 0:
        e_base: float | None = eligible_known
    elif e is None:
        e_base = None
    else:
        e_base = eligible_known + e * unknown
    return {
        "RR1": _ratio(i, all_cases_base),
        "RR2": _ratio(interviews, all_cases_base),
        "RR3": _ratio(i, e_base),
        "RR4": _ratio(interviews, e_base),
        "RR5": _ratio(i, eligible_known),
        "RR6": _ratio(interviews, eligible_known),
        "COOP1": _ratio(i, interviews + r + o),
        "COOP2": _ratio(interviews, interviews + r + o),
        "COOP3": _ratio(i, interviews + r),
        "COOP4": _ratio(interviews, interviews + r),
        "REF1": _ratio(r, all_cases_base),
        "REF2": _ratio(r, e_base),
        "REF3": _ratio(r, eligible_known),
        "CON1": _ratio(contacted, all_cases_base),
        "CON2": _ratio(contacted, e_base),
        "CON3": _ratio(contacted, eligible_known),
        "LOC1": _ratio(eligible_known, all_cases_base),
        "LOC2": _ratio(eligible_known, e_base),
    }


@dataclass(frozen=True)
class RatesResult:
    counts: dict[str, float]
    e: float | None
    e_method: str  # "given" or "proportional"
    rates: dict[str, float | None]


def compute_rates(
    dispositions: Sequence[str],
    *,
    weights: Sequence[float] | None = None,
    e: float | None = None,
    e_method: str | None = None,
) -> RatesResult:
    """Counts, e and every rate for a list of dispositions.

    Give ``e`` (0 ≤ e ≤ 1) to use it as is; otherwise e is estimated by ``e_method``
    (only "proportional" is implemented).
    """
    if e is not None and e_method not in (None, "given"):
        raise ValueError("give either e or an e_method, not both")
    if e is not None and not (math.isfinite(e) and 0 <= e <= 1):
        raise ValueError(f"e must be between 0 and 1, got {e}")
    counts = count_dispositions(dispositions, weights)
    if e is not None:
        return RatesResult(counts, e, "given", outcome_rates(counts, e))
    method = e_method or "proportional"
    if method != "proportional":
        raise ValueError(f'unknown e method "{method}" (only "proportional" is available)')
    estimated = proportional_e(counts)
    return RatesResult(counts, estimated, method, outcome_rates(counts, estimated))
