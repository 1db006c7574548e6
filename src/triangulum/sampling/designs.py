"""Sampling designs on plain records: census, stratified random sampling, purposive selection.

No Django here: a frame is a sequence of ``Unit`` (an identifier and a dict of attributes),
and a design returns a ``Draw`` (the chosen units with stratum, inclusion probability, base
weight, order of selection and a reason). The same seed and frame always give the same
draw, whatever order the frame arrives in: units are sorted by identifier, and strata by
name, before any random number is used.

Random numbers come from NumPy's PCG64 generator, seeded with the design's seed, and only
through ``Generator.random`` (uniform doubles), so that a draw can be re-done outside
Triangulum from the seed, the frame's identifiers and the description in ADR 0006.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

ALLOCATIONS = ("proportional", "fixed", "equal")


class DesignError(ValueError):
    """Parameters a design cannot honour; the message names the parameter and the problem."""


@dataclass(frozen=True)
class Unit:
    id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Selected:
    unit_id: str
    selection_order: int
    stratum: str = ""
    # None where the design gives no probability of selection (purposive selection).
    inclusion_probability: float | None = None
    base_weight: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class StratumAllocation:
    stratum: str
    population: int  # N_h
    sample_size: int  # n_h


@dataclass(frozen=True)
class Draw:
    method: str
    frame_size: int
    units: tuple[Selected, ...]
    strata: tuple[StratumAllocation, ...] = ()

    @property
    def unit_ids(self) -> list[str]:
        return [selected.unit_id for selected in self.units]


def _sorted_frame(units: Iterable[Unit]) -> list[Unit]:
    frame = sorted(units, key=lambda unit: unit.id)
    if not frame:
        raise DesignError("The frame is empty: there are no units to select from.")
    seen: set[str] = set()
    for unit in frame:
        if unit.id in seen:
            raise DesignError(f"The frame lists unit {unit.id!r} more than once.")
        seen.add(unit.id)
    return frame


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DesignError(f"seed must be a whole number of 0 or more, not {seed!r}.")
    return int(seed)


def _generator(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


# --------------------------------------------------------------------------------------
# Census


def census(units: Iterable[Unit]) -> Draw:
    """Every unit of the frame, each with probability 1 and weight 1, in identifier order."""
    frame = _sorted_frame(units)
    chosen = tuple(
        Selected(
            unit_id=unit.id,
            selection_order=order,
            inclusion_probability=1.0,
            base_weight=1.0,
            reason="Census: every unit of the frame is included.",
        )
        for order, unit in enumerate(frame, start=1)
    )
    return Draw(method="census", frame_size=len(frame), units=chosen)


# --------------------------------------------------------------------------------------
# Stratified simple random sampling without replacement


def _stratum_function(stratum_of: str | Callable[[Unit], Any]) -> Callable[[Unit], str]:
    if callable(stratum_of):
        return lambda unit: stratum_of(unit)

    def by_attribute(unit: Unit) -> Any:
        return unit.attributes.get(stratum_of)

    return by_attribute


def group_by_stratum(
    units: Iterable[Unit], stratum_of: str | Callable[[Unit], Any]
) -> dict[str, list[Unit]]:
    """Units grouped by stratum, strata in name order, units in identifier order."""
    frame = _sorted_frame(units)
    label = stratum_of if isinstance(stratum_of, str) else "the stratum function"
    find = _stratum_function(stratum_of)
    groups: dict[str, list[Unit]] = {}
    for unit in frame:
        value = find(unit)
        if value is None or str(value).strip() == "":
            raise DesignError(
                f"Unit {unit.id!r} has no value for {label}, so it cannot be placed in a stratum."
            )
        groups.setdefault(str(value), []).append(unit)
    return dict(sorted(groups.items()))


def _largest_remainder(
    quotas: Mapping[str, float], total: int, sizes: Mapping[str, int]
) -> dict[str, int]:
    """Round ``quotas`` to whole numbers summing to ``total`` by the largest-remainder method.

    Each stratum gets the whole part of its quota; the units still to place go one each to
    the strata with the largest fractional parts. Ties go to the larger stratum, then to the
    stratum whose name sorts first, so the rounding never depends on input order.
    """
    whole = {name: math.floor(quota + 1e-9) for name, quota in quotas.items()}
    left = total - sum(whole.values())
    by_remainder = sorted(
        quotas, key=lambda name: (-(quotas[name] - whole[name]), -sizes[name], name)
    )
    for name in by_remainder[:left]:
        whole[name] += 1
    return whole


def proportional_allocation(
    sizes: Mapping[str, int], n_total: int, minimum: int = 1
) -> dict[str, int]:
    """Sample sizes per stratum proportional to stratum size, each at least ``minimum``.

    A stratum whose share ``n * N_h / N`` falls below the minimum (or below its whole size,
    if that is smaller) is fixed at that floor and the rest of ``n`` is shared again among
    the other strata, until no share falls below its floor; the shares are then rounded by
    the largest-remainder method (``_largest_remainder``).
    """
    floors = {name: min(minimum, size) for name, size in sizes.items()}
    fixed: dict[str, int] = {}
    while True:
        free = [name for name in sizes if name not in fixed]
        remaining = n_total - sum(fixed.values())
        free_population = sum(sizes[name] for name in free)
        if not free:
            return fixed
        quotas = {name: remaining * sizes[name] / free_population for name in free}
        below = {name: floors[name] for name in free if quotas[name] < floors[name]}
        if not below:
            return {**fixed, **_largest_remainder(quotas, remaining, sizes)}
        fixed.update(below)


def _allocate(
    sizes: Mapping[str, int],
    *,
    allocation: str,
    n_total: int | None,
    n_per_stratum: int | Mapping[str, int] | None,
    minimum: int,
) -> dict[str, int]:
    population = sum(sizes.values())
    if allocation not in ALLOCATIONS:
        raise DesignError(
            f"Unknown allocation {allocation!r}: choose one of {', '.join(ALLOCATIONS)}."
        )
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
        raise DesignError(
            f"minimum_per_stratum must be a whole number of at least 1, not {minimum!r}: a "
            "stratum with no draws would leave its units no chance of selection."
        )
    if n_total is not None:
        if isinstance(n_total, bool) or not isinstance(n_total, int) or n_total < 1:
            raise DesignError(f"n_total must be a whole number of at least 1, not {n_total!r}.")
        if n_total > population:
            raise DesignError(
                f"n_total={n_total} is larger than the frame, which has {population} units."
            )

    if allocation == "proportional":
        if n_total is None or n_per_stratum is not None:
            raise DesignError("Proportional allocation needs n_total (and no n_per_stratum).")
        floors = sum(min(minimum, size) for size in sizes.values())
        if n_total < floors:
            raise DesignError(
                f"n_total={n_total} is too small to give each of the {len(sizes)} strata at "
                f"least {minimum} unit(s): it needs at least {floors}."
            )
        return proportional_allocation(sizes, n_total, minimum)

    if allocation == "equal":
        if (n_total is None) == (n_per_stratum is None):
            raise DesignError(
                "Equal allocation needs either n_total or n_per_stratum (one number)."
            )
        if n_per_stratum is not None:
            if isinstance(n_per_stratum, bool) or not isinstance(n_per_stratum, int):
                raise DesignError(
                    f"Equal allocation needs n_per_stratum as one whole number, not {n_per_stratum!r}."
                )
            wanted = dict.fromkeys(sizes, n_per_stratum)
        else:
            share = n_total / len(sizes)
            wanted = _largest_remainder(dict.fromkeys(sizes, share), n_total, sizes)
    else:  # fixed
        if not isinstance(n_per_stratum, Mapping) or n_total is not None:
            raise DesignError(
                "Fixed allocation needs n_per_stratum as a mapping of stratum to sample size "
                "(and no n_total)."
            )
        unknown = sorted(set(map(str, n_per_stratum)) - set(sizes))
        missing = sorted(set(sizes) - set(map(str, n_per_stratum)))
        if unknown:
            raise DesignError(
                f"n_per_stratum names strata not in the frame: {', '.join(unknown)} "
                f"(the frame's strata: {', '.join(sizes)})."
            )
        if missing:
            raise DesignError(f"n_per_stratum gives no sample size for: {', '.join(missing)}.")
        wanted = {str(name): size for name, size in n_per_stratum.items()}

    for name, n_h in wanted.items():
        if isinstance(n_h, bool) or not isinstance(n_h, int) or n_h < minimum:
            raise DesignError(
                f"Stratum {name!r} would get {n_h!r} unit(s); each stratum needs a whole number "
                f"of at least {minimum}."
            )
        if n_h > sizes[name]:
            raise DesignError(
                f"Stratum {name!r} has {sizes[name]} unit(s), so {n_h} cannot be drawn from it "
                "without replacement."
            )
    return dict(wanted)


def stratified(
    units: Iterable[Unit],
    stratum_of: str | Callable[[Unit], Any],
    *,
    seed: int,
    n_total: int | None = None,
    n_per_stratum: int | Mapping[str, int] | None = None,
    allocation: Literal["proportional", "fixed", "equal"] = "proportional",
    minimum_per_stratum: int = 1,
) -> Draw:
    """A stratified simple random sample without replacement.

    Within stratum h of N_h units, n_h are drawn with equal probability; each chosen unit
    has inclusion probability n_h / N_h and base weight N_h / n_h, so the base weights of
    the sample add up to the frame size N.

    How units are drawn: one PCG64 generator seeded with ``seed``; strata in name order;
    in each, units in identifier order each receive one uniform number from
    ``Generator.random``, and the n_h units with the smallest numbers are chosen (a random
    sort, equivalent to simple random sampling without replacement), in that order.
    """
    seed = _check_seed(seed)
    groups = group_by_stratum(units, stratum_of)
    sizes = {name: len(members) for name, members in groups.items()}
    sample_sizes = _allocate(
        sizes,
        allocation=allocation,
        n_total=n_total,
        n_per_stratum=n_per_stratum,
        minimum=minimum_per_stratum,
    )
    generator = _generator(seed)
    chosen: list[Selected] = []
    for name, members in groups.items():
        size, n_h = sizes[name], sample_sizes[name]
        keys = generator.random(size)
        # A stable sort keeps the (vanishingly unlikely) tie in identifier order.
        picked = np.argsort(keys, kind="stable")[:n_h]
        probability = n_h / size
        weight = size / n_h
        for index in picked:
            chosen.append(
                Selected(
                    unit_id=members[int(index)].id,
                    selection_order=len(chosen) + 1,
                    stratum=name,
                    inclusion_probability=probability,
                    base_weight=weight,
                    reason=(
                        f"Drawn at random: {n_h} of the {size} units in stratum {name} "
                        f"(seed {seed})."
                    ),
                )
            )
    allocations = tuple(
        StratumAllocation(stratum=name, population=sizes[name], sample_size=sample_sizes[name])
        for name in groups
    )
    return Draw(
        method="stratified",
        frame_size=sum(sizes.values()),
        units=tuple(chosen),
        strata=allocations,
    )


# --------------------------------------------------------------------------------------
# Purposive selection for maximum variation


@dataclass(frozen=True)
class Attribute:
    """An attribute that purposive selection spreads the chosen units across."""

    name: str
    kind: Literal["categorical", "numeric"]
    label: str = ""
    # How a value reads in a reason, e.g. "£{:,.0f}" for money.
    number_format: str = "{:,.0f}"

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")

    def show(self, value: Any) -> str:
        if self.kind == "numeric":
            return self.number_format.format(value)
        return str(value)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _percentile_ranks(values: Sequence[float | None]) -> list[float | None]:
    """Each present value's mid-rank among the present values, scaled to [0, 1]."""
    present = sorted(value for value in values if value is not None)
    count = len(present)
    if count <= 1:
        return [None if value is None else 0.5 for value in values]
    positions: dict[float, float] = {}
    start = 0
    while start < count:
        end = start
        while end + 1 < count and present[end + 1] == present[start]:
            end += 1
        positions[present[start]] = ((start + end) / 2) / (count - 1)
        start = end + 1
    return [None if value is None else positions[value] for value in values]


THIRDS = ("bottom third", "middle third", "top third")


def _third(rank: float) -> str:
    return THIRDS[min(int(rank * 3), 2)]


class _Profile:
    """The frame described on the selection's attributes: values and percentile ranks."""

    def __init__(self, frame: Sequence[Unit], attributes: Sequence[Attribute]):
        self.attributes = attributes
        self.values: dict[str, list[Any]] = {}
        self.ranks: dict[str, list[float | None]] = {}
        for attribute in attributes:
            column: list[Any] = []
            for unit in frame:
                value = unit.attributes.get(attribute.name)
                if _is_missing(value):
                    column.append(None)
                elif attribute.kind == "numeric":
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        raise DesignError(
                            f"Unit {unit.id!r}: attribute {attribute.name!r} should be a "
                            f"number, not {value!r}."
                        )
                    column.append(float(value))
                else:
                    column.append(str(value))
            self.values[attribute.name] = column
            if attribute.kind == "numeric":
                self.ranks[attribute.name] = _percentile_ranks(column)

    def distance(self, i: int, j: int) -> float:
        """Gower's distance on percentile ranks: the mean, over attributes both units have,
        of |rank_i - rank_j| (numeric) or 0/1 for same/different category."""
        total, compared = 0.0, 0
        for attribute in self.attributes:
            if attribute.kind == "numeric":
                a, b = self.ranks[attribute.name][i], self.ranks[attribute.name][j]
                if a is None or b is None:
                    continue
                total += abs(a - b)
            else:
                a, b = self.values[attribute.name][i], self.values[attribute.name][j]
                if a is None or b is None:
                    continue
                total += 0.0 if a == b else 1.0
            compared += 1
        return total / compared if compared else 0.0

    def describe(self, index: int, chosen_before: Sequence[int]) -> list[str]:
        parts: list[str] = []
        for attribute in self.attributes:
            value = self.values[attribute.name][index]
            if value is None:
                parts.append(f"{attribute.title} not recorded")
                continue
            if attribute.kind == "categorical":
                earlier = [k for k in chosen_before if self.values[attribute.name][k] == value]
                if earlier:
                    choices = "choice" if len(earlier) == 1 else "choices"
                    parts.append(
                        f"{attribute.title} {value}, already covered by {len(earlier)} "
                        f"earlier {choices}"
                    )
                else:
                    parts.append(f"adds {attribute.title} {value}, not yet covered")
                continue
            text = (
                f"{attribute.title} {attribute.show(value)}, in the "
                f"{_third(self.ranks[attribute.name][index])} of the frame"
            )
            earlier = [
                self.values[attribute.name][k]
                for k in chosen_before
                if self.values[attribute.name][k] is not None
            ]
            if earlier and value > max(earlier):
                text += ", higher than any earlier choice"
            elif earlier and value < min(earlier):
                text += ", lower than any earlier choice"
            parts.append(text)
        return parts


def _sentence(parts: Sequence[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def purposive(
    units: Iterable[Unit],
    attributes: Sequence[Attribute],
    n: int,
    *,
    seed: int,
    must_include: Mapping[str, str] | None = None,
    exclude: Iterable[str] = (),
) -> Draw:
    """Choose ``n`` units that differ from one another as much as possible (maximum variation).

    Distance: Gower's distance with numeric attributes standardised as percentile ranks in
    the frame (mid-ranks for ties, 0 = smallest, 1 = largest) and categorical attributes
    scored 0 when equal and 1 when different; the distance is the mean over the attributes
    both units have, so it lies between 0 and 1 and each attribute counts equally. Ranks,
    not z-scores, so that one very large unit does not dominate the choice.

    Selection: first the researcher's ``must_include`` units (id → reason), in the order
    given; then, greedily, the eligible unit farthest from its nearest already-chosen unit
    (farthest-point selection). Where nothing is chosen yet, the first unit is drawn at
    random with ``seed``. Ties go to the unit with the smaller random key (one uniform
    number per unit from a PCG64 generator seeded with ``seed``, given in identifier order).

    Excluded units (``exclude``) stay in the frame that ranks are computed over, so that
    "top third of the frame" means the same thing in two selections from one frame, but
    cannot be chosen. The draw has no selection probabilities: purposive units carry none.
    """
    seed = _check_seed(seed)
    frame = _sorted_frame(units)
    if not attributes:
        raise DesignError("Purposive selection needs at least one attribute to vary.")
    names = [attribute.name for attribute in attributes]
    if len(set(names)) != len(names):
        raise DesignError(f"Attributes are listed more than once: {', '.join(names)}.")
    for attribute in attributes:
        if attribute.kind not in ("categorical", "numeric"):
            raise DesignError(
                f"Attribute {attribute.name!r} has kind {attribute.kind!r}; use categorical or numeric."
            )
    index_of = {unit.id: i for i, unit in enumerate(frame)}
    excluded = set(exclude)
    unknown_excluded = sorted(excluded - set(index_of))
    if unknown_excluded:
        raise DesignError(f"Excluded units are not in the frame: {', '.join(unknown_excluded)}.")
    must_include = dict(must_include or {})
    for unit_id, reason in must_include.items():
        if unit_id not in index_of:
            raise DesignError(f"Unit {unit_id!r} must be included but is not in the frame.")
        if unit_id in excluded:
            raise DesignError(f"Unit {unit_id!r} is both excluded and required.")
        if not str(reason).strip():
            raise DesignError(f"Give the researcher's reason for including unit {unit_id!r}.")
    eligible = [i for i, unit in enumerate(frame) if unit.id not in excluded]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DesignError(f"n must be a whole number of at least 1, not {n!r}.")
    if n > len(eligible):
        raise DesignError(
            f"n={n} is larger than the {len(eligible)} units that can be chosen "
            f"(frame of {len(frame)}, {len(excluded)} excluded)."
        )
    if len(must_include) > n:
        raise DesignError(f"{len(must_include)} units must be included, more than n={n}.")

    profile = _Profile(frame, attributes)
    keys = _generator(seed).random(len(frame))
    chosen: list[int] = []
    reasons: list[str] = []
    for unit_id, reason in must_include.items():
        index = index_of[unit_id]
        parts = [f"Chosen by the researcher: {str(reason).strip()}"]
        parts += profile.describe(index, chosen)
        reasons.append(_sentence(parts))
        chosen.append(index)

    # nearest[i]: distance from eligible unit i to its nearest chosen unit.
    nearest = {i: math.inf for i in eligible if i not in chosen}
    for k in chosen:
        for i in nearest:
            nearest[i] = min(nearest[i], profile.distance(i, k))
    while len(chosen) < n:
        if not chosen:
            pick = min(nearest, key=lambda i: (keys[i], i))
            lead = f"starting point, drawn at random from the frame (seed {seed})"
        else:
            pick = max(nearest, key=lambda i: (nearest[i], -keys[i], -i))
            lead = (
                f"farthest remaining unit from those already chosen (distance "
                f"{nearest[pick]:.2f} to the nearest, on a 0–1 scale)"
            )
        reasons.append(_sentence([*profile.describe(pick, chosen), lead]))
        chosen.append(pick)
        del nearest[pick]
        for i in nearest:
            nearest[i] = min(nearest[i], profile.distance(i, pick))

    selected = tuple(
        Selected(unit_id=frame[index].id, selection_order=order, reason=reason)
        for order, (index, reason) in enumerate(zip(chosen, reasons, strict=True), start=1)
    )
    return Draw(method="purposive", frame_size=len(frame), units=selected)
