"""Latent class analysis of categorical items, model choice by BIC, and stability.

No Django here. The model: each unit belongs to one of K classes with probability
π_k, and, given its class, answers each item independently with class-specific
category probabilities θ_kj. Fitted by EM from several random starts (the best log
likelihood wins); a missing answer simply leaves that item out of the unit's
likelihood. The number of classes is chosen by BIC over K = 1..max; stability is the
mean adjusted Rand index between the full-data classification and the classification
by models refitted to bootstrap resamples of the units. Classes are numbered by size
(largest first) so that the same seed gives the same labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A small pseudo-count keeps every category probability off zero, so one unusual
# answer cannot make a class impossible (log 0) for a unit.
_SMOOTHING = 1e-3


class TypologyError(ValueError):
    """Data a latent class model cannot be fitted to."""


@dataclass(frozen=True)
class LatentClassModel:
    k: int
    class_shares: np.ndarray  # (k,)
    item_probabilities: list[np.ndarray]  # per item: (k, categories)
    log_likelihood: float
    parameters: int
    bic: float
    iterations: int
    converged: bool

    def posterior(self, codes: np.ndarray) -> np.ndarray:
        return _posterior(codes, self.class_shares, self.item_probabilities)[0]

    def classify(self, codes: np.ndarray) -> np.ndarray:
        return self.posterior(codes).argmax(axis=1)


def _one_hot(codes: np.ndarray, categories: Sequence[int]) -> np.ndarray:
    """Units x (sum of categories) indicator matrix; a missing answer is a row of zeros."""
    blocks = []
    for j, count in enumerate(categories):
        observed = codes[:, j] >= 0
        block = np.zeros((codes.shape[0], count))
        block[np.flatnonzero(observed), codes[observed, j]] = 1.0
        blocks.append(block)
    return np.hstack(blocks)


def _posterior(codes, shares, probabilities, hot: np.ndarray | None = None):
    if hot is None:
        hot = _one_hot(codes, [theta.shape[1] for theta in probabilities])
    log = hot @ np.log(np.hstack(probabilities)).T + np.log(shares)[None, :]
    top = log.max(axis=1, keepdims=True)
    weights = np.exp(log - top)
    total = weights.sum(axis=1, keepdims=True)
    return weights / total, float((np.log(total) + top).sum())


def _check(codes: np.ndarray, categories: Sequence[int]) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != len(categories):
        raise TypologyError("Codes must be a units x items table with one category count per item.")
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypologyError("Codes must be integers (category positions; -1 for missing).")
    for j, count in enumerate(categories):
        bad = codes[:, j] >= count
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise TypologyError(
                f"Unit (row) {row + 1}, item {j + 1}: code {codes[row, j]} is not below {count}."
            )
    if (codes < 0).all(axis=1).any():
        row = int(np.flatnonzero((codes < 0).all(axis=1))[0])
        raise TypologyError(f"Unit (row) {row + 1} answered none of the items.")
    return codes


def fit(
    codes: np.ndarray,
    categories: Sequence[int],
    k: int,
    *,
    rng: np.random.Generator,
    starts: int = 10,
    max_iterations: int = 500,
    tolerance: float = 1e-6,
    initial: LatentClassModel | None = None,
) -> LatentClassModel:
    """The best of ``starts`` EM runs for ``k`` classes (or one run from ``initial``)."""
    codes = _check(codes, categories)
    n = codes.shape[0]
    if k < 1 or k > n:
        raise TypologyError(f"Cannot fit {k} classes to {n} units.")
    hot = _one_hot(codes, categories)
    edges = np.cumsum([0, *categories])
    best = None
    for _ in range(1 if initial is not None or k == 1 else starts):
        if initial is not None:
            shares = initial.class_shares.copy()
            probabilities = [theta.copy() for theta in initial.item_probabilities]
        else:
            shares = rng.dirichlet(np.full(k, 5.0))
            probabilities = [rng.dirichlet(np.ones(count), size=k) for count in categories]
        previous = -np.inf
        converged = False
        for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported
            post, log_likelihood = _posterior(codes, shares, probabilities, hot)
            shares = post.mean(axis=0)
            shares = np.clip(shares, 1e-12, None)
            shares /= shares.sum()
            counts = post.T @ hot + _SMOOTHING
            probabilities = [
                counts[:, a:b] / counts[:, a:b].sum(axis=1, keepdims=True)
                for a, b in zip(edges[:-1], edges[1:], strict=True)
            ]
            if abs(log_likelihood - previous) < tolerance * (1 + abs(log_likelihood)):
                converged = True
                break
            previous = log_likelihood
        _, log_likelihood = _posterior(codes, shares, probabilities, hot)
        if best is None or log_likelihood > best[0] + 1e-9:
            best = (log_likelihood, shares, probabilities, iteration, converged)
    log_likelihood, shares, probabilities, iterations, converged = best
    order = np.lexsort((-_mean_position(probabilities), -shares))
    shares = shares[order]
    probabilities = [theta[order] for theta in probabilities]
    parameters = (k - 1) + k * sum(count - 1 for count in categories)
    return LatentClassModel(
        k=k,
        class_shares=shares,
        item_probabilities=probabilities,
        log_likelihood=log_likelihood,
        parameters=parameters,
        bic=-2 * log_likelihood + parameters * np.log(n),
        iterations=iterations,
        converged=converged,
    )


def _mean_position(probabilities: list[np.ndarray]) -> np.ndarray:
    """Each class's mean category position over items (a tie-break for the labels)."""
    return np.mean(
        [theta @ np.arange(theta.shape[1]) / max(theta.shape[1] - 1, 1) for theta in probabilities],
        axis=0,
    )


def adjusted_rand_index(a: Sequence[int], b: Sequence[int]) -> float:
    """Hubert and Arabie's adjusted Rand index of two partitions of the same units."""
    a = np.unique(np.asarray(a), return_inverse=True)[1]
    b = np.unique(np.asarray(b), return_inverse=True)[1]
    if len(a) != len(b):
        raise TypologyError("The two partitions cover different numbers of units.")
    n = len(a)
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)

    def pairs(x):
        return (x * (x - 1) / 2).sum()

    index = pairs(table)
    row, column = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = row * column / pairs(np.array([n]))
    maximum = (row + column) / 2
    if maximum == expected:
        return 1.0
    return float((index - expected) / (maximum - expected))


@dataclass(frozen=True)
class Typology:
    models: list[LatentClassModel]  # k = 1..max
    chosen: LatentClassModel
    classes: np.ndarray  # modal class per unit (0-based)
    posterior: np.ndarray
    stability: float  # mean ARI over bootstrap refits
    stability_sd: float
    resamples: int


def choose(
    codes: np.ndarray,
    categories: Sequence[int],
    *,
    seed: int,
    max_classes: int = 6,
    starts: int = 10,
    resamples: int = 20,
) -> Typology:
    """Fit K = 1..max_classes, choose by BIC, classify, and measure stability."""
    codes = _check(codes, categories)
    rng = np.random.default_rng(seed)
    upper = max(1, min(max_classes, codes.shape[0] // 5))
    models = [fit(codes, categories, k, rng=rng, starts=starts) for k in range(1, upper + 1)]
    chosen = min(models, key=lambda m: m.bic)
    posterior = chosen.posterior(codes)
    classes = posterior.argmax(axis=1)
    scores = []
    if chosen.k > 1:
        n = codes.shape[0]
        for _ in range(resamples):
            sample = codes[rng.integers(0, n, n)]
            if (sample < 0).all(axis=1).any():
                continue
            # Started from the full-data solution (so class labels correspond and EM needs
            # few iterations); the ARI does not depend on labels anyway.
            refit = fit(sample, categories, chosen.k, rng=rng, initial=chosen)
            scores.append(adjusted_rand_index(classes, refit.classify(codes)))
    else:
        scores = [1.0]
    return Typology(
        models=models,
        chosen=chosen,
        classes=classes,
        posterior=posterior,
        stability=float(np.mean(scores)),
        stability_sd=float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0,
        resamples=len(scores) if chosen.k > 1 else 0,
    )
