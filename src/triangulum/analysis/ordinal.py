"""Proportional-odds (cumulative link) regression, fitted as R's MASS::polr fits it.

Model: P(Y <= k) = F(zeta_k - x'beta), with F the logistic (proportional odds), normal
or complementary log-log distribution function; the cut-points zeta_1 < ... < zeta_q are
reported as polr reports them ("unlikely|somewhat likely", ...). No Django here.

Why not just maximise the likelihood exactly: polr does not. It starts from a binary
regression at the middle cut (glm's IRLS), then runs optim's BFGS (R's ``vmmin``) over
(beta, zeta_1, log(zeta_2 - zeta_1), ...) and stops when an accepted step changes the
deviance by less than sqrt(machine epsilon) of itself. That leaves it a few 1e-4 short
of the maximum on ordinary data (UCLA ``apply``: gradient ~1e-3, log-likelihood 3e-7
below the top), so R's printed estimates differ from the exact maximum in the fourth or
fifth decimal. Analysts compare our tables with R's output, so the default procedure,
``"polr"``, repeats polr's steps (same start, same quasi-Newton updates, line search and
stopping rule) and reproduces its estimates to the digits R prints, standard errors
included (from optim's finite-difference Hessian in (beta, zeta), as ``Hess = TRUE``).
``"exact"`` continues with Newton steps to the maximum itself and takes its standard
errors from the analytic observed information. ADR 0022 records the choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr, ndtri

LINKS = ("logit", "probit", "cloglog")
PROCEDURES = ("polr", "exact")
# polr clamps the cut-point-minus-predictor differences to this range before F.
CLAMP = 100.0
# optim()'s defaults for BFGS: relative tolerance sqrt(.Machine$double.eps), 100 iterations.
RELTOL = float(np.sqrt(np.finfo(float).eps))
MAX_ITERATIONS = 100
# vmmin's line search: shrink the step by 0.2 until the decrease is at least 1e-4 of
# the one the gradient promises; a coordinate has "not moved" when 10 + x is unchanged.
STEP_SHRINK = 0.2
ACCEPT_FRACTION = 1e-4
NO_MOVE_OFFSET = 10.0
# glm.fit's IRLS: converged when the deviance changes by less than 1e-8 of itself.
GLM_EPSILON = 1e-8
GLM_MAX_ITERATIONS = 25


class OrdinalModelError(ValueError):
    """Data the model cannot be fitted to; the message names the column and row."""


@dataclass(frozen=True)
class ProportionalOddsFit:
    levels: tuple[str, ...]
    coefficients: dict[str, float]
    se: dict[str, float]
    thresholds: dict[str, float]
    threshold_se: dict[str, float]
    log_likelihood: float
    n: int
    converged: bool
    procedure: str = "polr"
    # Largest absolute score (gradient of the log-likelihood in beta and zeta) at the
    # estimates: small but not zero where polr stops (1.5e-3 on the UCLA data), at
    # rounding level for "exact".
    max_abs_score: float = 0.0
    iterations: int = 0


# --------------------------------------------------------------------------- links


def _distribution(link: str) -> tuple[Callable, Callable, Callable]:
    """F, its density f and the density's derivative f' for a link."""
    if link == "logit":

        def cdf(z):
            return expit(z)

        def pdf(z):
            e = np.exp(-np.abs(z))
            return e / (1.0 + e) ** 2

        def dpdf(z):
            return pdf(z) * (1.0 - 2.0 * expit(z))

    elif link == "probit":

        def cdf(z):
            return ndtr(z)

        def pdf(z):
            return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)

        def dpdf(z):
            return -z * pdf(z)

    else:  # cloglog: the minimum-Gumbel distribution of MASS (pGumbel, dGumbel)

        def cdf(z):
            return -np.expm1(-np.exp(z))

        def pdf(z):
            return np.exp(z - np.exp(z))

        def dpdf(z):
            # exp(z - e^z)(1 - e^z), written so that a huge z gives 0 rather than 0 * inf.
            return pdf(z) - np.exp(2.0 * z - np.exp(z))

    return cdf, pdf, dpdf


# --------------------------------------------------------------------------- likelihood


class _CumulativeLink:
    """Likelihood of the model for fixed data; y holds level indices 0..q."""

    def __init__(self, x: np.ndarray, y: np.ndarray, n_levels: int, link: str):
        self.x, self.y, self.q, self.k = x, y, n_levels - 1, x.shape[1]
        self.cdf, self.pdf, self.dpdf = _distribution(link)
        # Which cut-point bounds each case from above (y < q) and from below (y > 0).
        cuts = np.arange(self.q)
        self.upper_of = (y[:, None] == cuts[None, :]).astype(float)
        self.lower_of = ((y - 1)[:, None] == cuts[None, :]).astype(float)

    @staticmethod
    def cutpoints(theta: np.ndarray) -> np.ndarray:
        """polr's unconstrained thresholds: zeta_1 = theta_1, increments exp(theta_j)."""
        return np.cumsum(np.concatenate([theta[:1], np.exp(theta[1:])]))

    def _bounds(self, beta: np.ndarray, zeta: np.ndarray):
        eta = self.x @ beta
        padded = np.concatenate([[-np.inf], zeta, [np.inf]])
        upper = np.minimum(CLAMP, padded[self.y + 1] - eta)
        lower = np.maximum(-CLAMP, padded[self.y] - eta)
        return upper, lower

    def log_likelihood(self, beta: np.ndarray, zeta: np.ndarray) -> float:
        upper, lower = self._bounds(beta, zeta)
        p = self.cdf(upper) - self.cdf(lower)
        return float(np.sum(np.log(p))) if np.all(p > 0) else -np.inf

    def score_and_information(self, beta: np.ndarray, zeta: np.ndarray):
        """Gradient of the log-likelihood in (beta, zeta) and the observed information."""
        upper, lower = self._bounds(beta, zeta)
        p = self.cdf(upper) - self.cdf(lower)
        f_up, f_low = self.pdf(upper), self.pdf(lower)
        d_up, d_low = self.dpdf(upper), self.dpdf(lower)
        # d(upper)/d(beta, zeta) = (-x, indicator of the upper cut); likewise for lower.
        a = np.hstack([-self.x, self.upper_of])
        b = np.hstack([-self.x, self.lower_of])
        per_case = (f_up[:, None] * a - f_low[:, None] * b) / p[:, None]
        score = per_case.sum(axis=0)
        hessian = (a.T * (d_up / p)) @ a - (b.T * (d_low / p)) @ b - per_case.T @ per_case
        return score, -hessian

    def information_by_differences(
        self, beta: np.ndarray, zeta: np.ndarray, fallback: np.ndarray
    ) -> np.ndarray:
        """The observed information as polr gets it: optimHess's central differences
        of the analytic score, steps of 1e-3 in (beta, zeta), then symmetrised. It
        differs from the analytic one in the seventh digit, which R prints for some
        models; if a step would disorder the cut-points, the analytic one is used."""
        k, step = self.k, 1e-3
        point = np.concatenate([beta, zeta])
        rows = []
        for i in range(len(point)):
            shift = np.zeros(len(point))
            shift[i] = step
            up, down = point + shift, point - shift
            if np.any(np.diff(up[k:]) <= 0) or np.any(np.diff(down[k:]) <= 0):
                return fallback
            rows.append(
                (self._score(up[:k], up[k:]) - self._score(down[:k], down[k:])) / (2 * step)
            )
        hessian = np.array(rows)
        return -0.5 * (hessian + hessian.T)

    # polr's objective and gradient, over (beta, theta) -------------------------------

    def deviance_half(self, params: np.ndarray) -> float:
        value = self.log_likelihood(params[: self.k], self.cutpoints(params[self.k :]))
        return -value if np.isfinite(value) else np.inf

    def deviance_half_gradient(self, params: np.ndarray) -> np.ndarray:
        theta = params[self.k :]
        score = self._score(params[: self.k], self.cutpoints(theta))
        # d zeta / d theta: 1 in the first column, exp(theta_j) from row j down.
        jacobian = np.zeros((self.q, self.q))
        jacobian[:, 0] = 1.0
        for j in range(1, self.q):
            jacobian[j:, j] = np.exp(theta[j])
        return -np.concatenate([score[: self.k], score[self.k :] @ jacobian])

    def _score(self, beta: np.ndarray, zeta: np.ndarray) -> np.ndarray:
        upper, lower = self._bounds(beta, zeta)
        p = self.cdf(upper) - self.cdf(lower)
        f_up, f_low = self.pdf(upper), self.pdf(lower)
        w_up, w_low = f_up / p, f_low / p
        score_beta = -(self.x.T @ (w_up - w_low))
        score_zeta = self.upper_of.T @ w_up - self.lower_of.T @ w_low
        return np.concatenate([score_beta, score_zeta])


# --------------------------------------------------------------------------- polr's steps


def _binary_start(x: np.ndarray, event: np.ndarray, link: str) -> np.ndarray | None:
    """glm.fit's IRLS for a binary regression with intercept; None if it fails."""
    design = np.column_stack([np.ones(len(event)), x])
    tiny = np.finfo(float).eps
    if link == "logit":
        # binomial()'s C code: eta beyond +-30 is held at the edge.

        def inverse(eta):
            odds = np.where(eta < -30, tiny, np.where(eta > 30, 1 / tiny, np.exp(eta)))
            return odds / (1.0 + odds)

        def mu_eta(eta):
            e = np.exp(eta)
            return np.where(np.abs(eta) > 30, tiny, e / (1.0 + e) ** 2)

        def link_of(mu):
            return np.log(mu / (1 - mu))

    else:  # probit (polr starts cloglog from probit on purpose)
        limit = -ndtri(tiny)  # binomial("probit") clamps eta here

        def inverse(eta):
            return ndtr(np.clip(eta, -limit, limit))

        def mu_eta(eta):
            return np.maximum(np.exp(-0.5 * eta * eta) / np.sqrt(2 * np.pi), tiny)

        def link_of(mu):
            return ndtri(mu)

    def deviance(mu):
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(event > 0, np.log(1 / mu), np.log(1 / (1 - mu)))
        return 2.0 * float(terms.sum())

    eta = link_of((event + 0.5) / 2.0)
    mu = inverse(eta)
    previous = deviance(mu)
    for _ in range(GLM_MAX_ITERATIONS):
        derivative = mu_eta(eta)
        working = eta + (event - mu) / derivative
        weight = np.sqrt(derivative**2 / (mu * (1 - mu)))
        coefficients, _, rank, _ = np.linalg.lstsq(
            design * weight[:, None], working * weight, rcond=None
        )
        if rank < design.shape[1]:
            return None
        eta = design @ coefficients
        mu = inverse(eta)
        current = deviance(mu)
        if not np.isfinite(current):
            return None
        if abs(current - previous) / (abs(current) + 0.1) < GLM_EPSILON:
            return coefficients
        previous = current
    return None


def _polr_start(model: _CumulativeLink, link: str) -> np.ndarray:
    """polr's start: binary fit at the middle cut, cut-points spaced like logistic quantiles."""
    q = model.q
    middle = (q + 1) // 2  # polr's q1: the binary split is y > q1 (levels counted from 1)
    coefficients = _binary_start(model.x, (model.y + 1 > middle).astype(float), link)
    if coefficients is None:
        # polr would stop here; start instead from no effects and the observed
        # cumulative shares, which the quasi-Newton search then improves on.
        cumulative = np.cumsum(np.bincount(model.y, minlength=q + 1))[:-1] / len(model.y)
        spacing = np.log(cumulative / (1 - cumulative))
        if link != "logit":
            spacing = spacing / 1.7
        beta = np.zeros(model.k)
        return np.concatenate([beta, spacing[:1], np.log(np.diff(spacing))])
    positions = np.arange(1, q + 1) / (q + 1)
    spacing = np.log(positions / (1 - positions))
    if link != "logit":
        spacing = spacing / 1.7
    zeta = -coefficients[0] + spacing - spacing[middle - 1]
    return np.concatenate([coefficients[1:], zeta[:1], np.log(np.diff(zeta))])


def _variable_metric(
    objective: Callable[[np.ndarray], float],
    gradient: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
) -> tuple[np.ndarray, bool, int]:
    """Minimise by R's optim(method = "BFGS") rules (Nash's variable metric method).

    An inverse-Hessian approximation starts as the identity and is updated by BFGS after
    each accepted step; the step along its direction is shrunk until the decrease is
    acceptable; the search restarts from the identity when a direction is uphill, an
    update would lose positive definiteness, or 2n gradients pass without a restart.
    It stops when a step changes the objective by less than RELTOL of itself, or when
    no coordinate can move, after a restart. Returns (point, converged, iterations).
    """
    n = len(start)
    point = np.array(start, dtype=float)
    best = objective(point)
    if not np.isfinite(best):
        raise OrdinalModelError("The start values give an impossible fit (a zero probability).")
    grad = gradient(point)
    gradients = iterations = 1
    last_reset = gradients
    inverse_hessian = np.eye(n)
    value = best
    while True:
        if last_reset == gradients:
            inverse_hessian = np.eye(n)
        origin, origin_grad = point.copy(), grad.copy()
        direction = -(inverse_hessian @ grad)
        slope = float(direction @ grad)
        unmoved = 0
        if slope < 0:
            step = 1.0
            while True:
                point = origin + step * direction
                unmoved = int(np.sum(NO_MOVE_OFFSET + origin == NO_MOVE_OFFSET + point))
                if unmoved < n:
                    value = objective(point)
                    if np.isfinite(value) and value <= best + slope * step * ACCEPT_FRACTION:
                        break
                    step *= STEP_SHRINK
                else:
                    break
            if abs(value - best) <= RELTOL * (abs(best) + RELTOL):
                unmoved = n  # progress too small to go on: stop here
                best = value
            if unmoved < n:
                best = value
                grad = gradient(point)
                gradients += 1
                iterations += 1
                moved = step * direction
                change = grad - origin_grad
                curvature = float(moved @ change)
                if curvature > 0:
                    projected = inverse_hessian @ change
                    factor = 1.0 + float(projected @ change) / curvature
                    inverse_hessian = (
                        inverse_hessian
                        + (
                            factor * np.outer(moved, moved)
                            - np.outer(projected, moved)
                            - np.outer(moved, projected)
                        )
                        / curvature
                    )
                else:
                    last_reset = gradients
            elif last_reset < gradients:
                unmoved = 0
                last_reset = gradients
        else:
            unmoved = 0
            if last_reset == gradients:
                unmoved = n
            else:
                last_reset = gradients
        if iterations >= MAX_ITERATIONS:
            return point, False, iterations
        if gradients - last_reset > 2 * n:
            last_reset = gradients
        if unmoved == n and last_reset == gradients:
            return point, True, iterations


def _newton(model: _CumulativeLink, beta: np.ndarray, zeta: np.ndarray):
    """Newton steps in (beta, zeta) from polr's point to the maximum itself.

    Starting this close, full steps converge quadratically; a step is halved only if it
    would disorder the cut-points or lower the likelihood. Stops when a step moves no
    parameter by more than 1e-10 (relative to its size).
    """
    k = model.k
    current = model.log_likelihood(beta, zeta)
    for steps in range(1, 51):
        score, information = model.score_and_information(beta, zeta)
        move = np.linalg.solve(information, score)
        scale = 1.0
        while True:
            new_beta, new_zeta = beta + scale * move[:k], zeta + scale * move[k:]
            ordered = bool(np.all(np.diff(new_zeta) > 0))
            candidate = model.log_likelihood(new_beta, new_zeta) if ordered else -np.inf
            if candidate >= current - 1e-12 * abs(current):
                break
            scale /= 2
            if scale < 1e-6:  # no step improves: as close as rounding allows
                return beta, zeta, bool(np.abs(score).max() < 1e-6), steps
        beta, zeta, current = new_beta, new_zeta, candidate
        size = np.abs(np.concatenate([beta, zeta])) + 1.0
        if np.all(np.abs(scale * move) <= 1e-10 * size):
            return beta, zeta, True, steps
    return beta, zeta, False, 50


# --------------------------------------------------------------------------- public


def fit_proportional_odds(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    levels: Sequence[object] | None = None,
    link: str = "logit",
    procedure: str = "polr",
) -> ProportionalOddsFit:
    """Fit a cumulative-link model of ``outcome`` on ``predictors`` by maximum likelihood.

    ``levels`` lists the outcome categories from lowest to highest; without it the
    outcome must be an ordered pandas Categorical. Rows with a missing value are an
    error (named by row, counted from 1), not silently dropped. ``procedure`` is
    ``"polr"`` (R's estimates, digit for digit) or ``"exact"`` (the maximum itself).
    """
    for column in [outcome, *predictors]:
        if column not in data.columns:
            raise OrdinalModelError(f"Column {column!r} is not in the data.")
    if link not in LINKS:
        raise OrdinalModelError(f"Unknown link {link!r}; use one of {', '.join(LINKS)}.")
    if procedure not in PROCEDURES:
        raise OrdinalModelError(f"Unknown procedure {procedure!r}; use 'polr' or 'exact'.")
    frame = data[[outcome, *predictors]]
    missing = frame.isna()
    if missing.any().any():
        row, col = np.argwhere(missing.to_numpy())[0]
        raise OrdinalModelError(
            f"Column {frame.columns[col]!r} is missing in data row {row + 1}; "
            "remove or impute incomplete rows first."
        )
    if levels is None:
        series = frame[outcome]
        if not (isinstance(series.dtype, pd.CategoricalDtype) and series.dtype.ordered):
            raise OrdinalModelError(
                f"Give the order of the levels of {outcome!r} (lowest first): it is not an "
                "ordered categorical."
            )
        levels = list(series.cat.categories)
    levels = list(levels)
    unknown = ~frame[outcome].isin(levels)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise OrdinalModelError(
            f"Data row {row + 1} has {outcome} = {frame[outcome].iloc[row]!r}, which is not "
            f"one of the levels {levels}."
        )
    if len(levels) < 3:
        raise OrdinalModelError("An ordinal outcome needs at least three levels.")
    y = pd.Categorical(frame[outcome], categories=levels).codes.astype(int)
    absent = [str(level) for i, level in enumerate(levels) if not (y == i).any()]
    if absent:
        raise OrdinalModelError(
            f"No row has {outcome} = {absent[0]!r}: its cut-point cannot be estimated; "
            "leave the level out of the levels."
        )
    x = np.empty((len(frame), len(predictors)))
    for j, column in enumerate(predictors):
        try:
            x[:, j] = pd.to_numeric(frame[column]).to_numpy(dtype=float)
        except (TypeError, ValueError) as error:
            raise OrdinalModelError(f"Column {column!r} is not numeric: {error}.") from None
    for j, column in enumerate(predictors):
        kept = np.column_stack([np.ones(len(x)), x[:, : j + 1]])
        if np.linalg.matrix_rank(kept) < j + 2:
            raise OrdinalModelError(
                f"Predictor {column!r} is constant or a linear combination of "
                f"{list(predictors[:j]) or 'the intercept'}: its effect cannot be "
                "estimated; leave it out."
            )

    model = _CumulativeLink(x, y, len(levels), link)
    k = len(predictors)
    # Trial points of the line search may send exp() past the largest float; the
    # likelihood there is 0 or 1 as it should be, and such points are rejected.
    with np.errstate(over="ignore"):
        params, converged, iterations = _variable_metric(
            model.deviance_half, model.deviance_half_gradient, _polr_start(model, link)
        )
        beta, zeta = params[:k], model.cutpoints(params[k:])
        if procedure == "exact":
            beta, zeta, converged, newton_steps = _newton(model, beta, zeta)
            iterations += newton_steps
        score, information = model.score_and_information(beta, zeta)
        if procedure == "polr":
            information = model.information_by_differences(beta, zeta, information)
    covariance = np.linalg.pinv(information)
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    cut_names = [f"{levels[j]}|{levels[j + 1]}" for j in range(len(levels) - 1)]
    return ProportionalOddsFit(
        levels=tuple(str(level) for level in levels),
        coefficients={name: float(beta[i]) for i, name in enumerate(predictors)},
        se={name: float(se[i]) for i, name in enumerate(predictors)},
        thresholds={name: float(v) for name, v in zip(cut_names, zeta, strict=True)},
        threshold_se={name: float(se[k + j]) for j, name in enumerate(cut_names)},
        log_likelihood=model.log_likelihood(beta, zeta),
        n=int(len(frame)),
        converged=bool(converged),
        procedure=procedure,
        max_abs_score=float(np.abs(score).max()),
        iterations=int(iterations),
    )
