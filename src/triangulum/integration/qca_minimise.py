"""Exact Boolean minimisation for QCA: Quine–McCluskey prime implicants and every
minimal prime-implicant cover.

Pure Python, no Django. A configuration of ``width`` binary conditions is an integer whose
most significant bit is the first condition (so row ``r`` of an R QCA truth table is the
integer ``r - 1``). An implicant is a pair ``(value, mask)``: bits set in ``mask`` are
eliminated conditions ("don't care"), and ``value`` has those bits cleared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# A chart needing more search steps than this is too large to solve exactly in reasonable
# time; we refuse rather than return a possibly incomplete list of models.
MAX_SEARCH_NODES = 2_000_000


class MinimisationError(ValueError):
    """The minimisation problem is malformed or too large to solve exactly."""


@dataclass(frozen=True, order=True)
class Implicant:
    value: int
    mask: int

    def covers(self, configuration: int) -> bool:
        return configuration & ~self.mask == self.value

    def literals(self, width: int) -> list[tuple[int, bool]]:
        """(condition index, present?) for each condition the implicant keeps, in order."""
        kept = []
        for index in range(width):
            bit = 1 << (width - 1 - index)
            if not self.mask & bit:
                kept.append((index, bool(self.value & bit)))
        return kept


def prime_implicants(
    minterms: Iterable[int], dont_cares: Iterable[int] = (), *, width: int
) -> list[Implicant]:
    """All prime implicants of the function that is 1 on ``minterms``, free on
    ``dont_cares`` and 0 elsewhere, that cover at least one minterm."""
    on_set = set(minterms)
    free = set(dont_cares) - on_set
    limit = 1 << width
    for configuration in on_set | free:
        if not 0 <= configuration < limit:
            raise MinimisationError(
                f"configuration {configuration} does not fit {width} conditions"
            )
    current = {Implicant(value, 0) for value in on_set | free}
    primes: set[Implicant] = set()
    while current:
        merged: set[Implicant] = set()
        used: set[Implicant] = set()
        for implicant in current:
            for index in range(width):
                bit = 1 << index
                # Pair each implicant only with its partner that has this bit set, so that
                # every merge is found once.
                if implicant.mask & bit or implicant.value & bit:
                    continue
                partner = Implicant(implicant.value | bit, implicant.mask)
                if partner in current:
                    merged.add(Implicant(implicant.value, implicant.mask | bit))
                    used.add(implicant)
                    used.add(partner)
        primes |= current - used
        current = merged
    return sorted(p for p in primes if any(p.covers(m) for m in on_set))


def minimal_covers(minterms: Iterable[int], primes: list[Implicant]) -> list[tuple[Implicant, ...]]:
    """Every cover of ``minterms`` by the fewest prime implicants.

    R's QCA reports all equally short models rather than one picked arbitrarily, and so do
    we. The search is exact branch and bound: take the uncovered configuration with the
    fewest implicants covering it (so essential implicants are taken first, with no
    branching), try each of those implicants in turn, and never try an implicant again in
    a later sibling branch, since every cover containing it was found in its own branch.
    """
    targets = frozenset(minterms)
    if not targets:
        return []
    coverage = {p: frozenset(m for m in targets if p.covers(m)) for p in primes}
    covering = {m: [p for p in primes if m in coverage[p]] for m in targets}
    for m in sorted(targets):
        if not covering[m]:
            raise MinimisationError(f"configuration {m} is covered by no prime implicant")
    widest = max(len(c) for c in coverage.values())
    best = len(primes) + 1
    found: list[tuple[Implicant, ...]] = []
    visited = 0

    def search(chosen: list[Implicant], uncovered: frozenset, excluded: frozenset) -> None:
        nonlocal best, found, visited
        visited += 1
        if visited > MAX_SEARCH_NODES:
            raise MinimisationError(
                f"the prime implicant chart ({len(primes)} implicants for {len(targets)} "
                "configurations) is too large to solve exactly"
            )
        if not uncovered:
            if len(chosen) < best:
                best, found = len(chosen), []
            found.append(tuple(sorted(chosen)))
            return
        # No cover can be shorter than this: each further implicant adds at most `widest`.
        if len(chosen) + -(-len(uncovered) // widest) > best:
            return
        pivot = min(
            sorted(uncovered),
            key=lambda m: sum(p not in excluded for p in covering[m]),
        )
        options = [p for p in covering[pivot] if p not in excluded]
        tried: set[Implicant] = set()
        for option in options:
            search(
                [*chosen, option],
                uncovered - coverage[option],
                excluded | tried,
            )
            tried.add(option)

    search([], targets, frozenset())
    return sorted(set(found))


def minimise(
    minterms: Iterable[int], dont_cares: Iterable[int] = (), *, width: int
) -> list[tuple[Implicant, ...]]:
    """All minimal sums of prime implicants for ``minterms``, using ``dont_cares`` freely."""
    on_set = sorted(set(minterms))
    if not on_set:
        return []
    return minimal_covers(on_set, prime_implicants(on_set, dont_cares, width=width))
