"""Testing a case-study proposition on the second survey wave, and the verdict rule.

A proposition says, before the wave's data is analysed for it, which statistic of which
wave-2 items should lie on which side of a threshold. Three tests:

- ``proportion``: the weighted share of members whose answer falls in the named
  categories, against a threshold share;
- ``mean``: the weighted mean of a numeric item, or of a choice item scored by its scale
  position (1 = the lowest substantive answer), against a threshold;
- ``difference``: the share in the named categories in group A minus that in group B, the
  groups defined by another column (an item, or ``role_group``), against a threshold
  (0 by default).

Everything is design-based, with the analysis app's own machinery: the wave's final
weights (``analysis.steps.compute_weights``: class adjustment, raking, trimming), members
clustered in their organisations without a finite population correction (the
proposition is about CCGs in general, not only these), and Taylor linearisation from
``analysis.linearised``. Nothing here re-implements an estimator.

No Django here: the input is one wave's ``tidy.WaveData`` and nothing else, so a verdict
cannot depend on another wave.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from triangulum.analysis.linearised import (
    DesignArrays,
    LinearisationError,
    logit_interval,
    ratio_means,
    total_covariance,
)
from triangulum.analysis.steps import WEIGHTING_DEFAULTS, AnalysisContext, StepError
from triangulum.analysis.tidy import NON_SUBSTANTIVE, StudyData, WaveData
from triangulum.analysis.weighting import WeightingError

TESTS = ("proportion", "mean", "difference")
DIRECTIONS = ("greater", "less")
VERDICTS = ("supported", "not_supported", "inconclusive")
LEVEL = 0.95
# The smallest effect worth the name, where the proposition does not give one: five
# percentage points for a share or a difference of shares, a fifth of a standard
# deviation (Cohen's "small") for a mean.
DEFAULT_MARGIN = {"proportion": 0.05, "difference": 0.05}
DEFAULT_MEAN_MARGIN_SD = 0.2
DESIGN_NOTE = (
    "members clustered in their organisations (with-replacement PSUs, no finite population "
    "correction: the proposition is about CCGs in general); final weights from the analysis "
    f"app: non-response classes by {' and '.join(WEIGHTING_DEFAULTS['classes'])}, raked to "
    f"{' and '.join(WEIGHTING_DEFAULTS['rake_to'])}, trimmed at "
    f"{WEIGHTING_DEFAULTS['trim_ratio']} × the median; Taylor linearisation"
)


class PropositionTestError(ValueError):
    """A test that cannot be stated or run; ``field`` names the parameter at fault."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --------------------------------------------------------------------------- the rule


def verdict_rule_text() -> str:
    """The verdict rule in words, for the propositions pages and the ADR."""
    return (
        "Each proposition is tested once its wave-2 data is in, with the 95% confidence "
        "interval of its statistic (a share, a mean, or a difference of shares) and the "
        "threshold and direction stated before it was locked. "
        "Supported: the whole interval lies on the predicted side of the threshold. "
        "Not supported: the estimate is on the threshold or on the other side of it, and the "
        "interval rules out an effect in the predicted direction at least as large as the "
        "smallest effect worth the name (the margin: 5 percentage points for a share or a "
        "difference, a fifth of a standard deviation for a mean, unless the proposition set "
        "its own); an interval wholly on the other side always meets this. "
        "Inconclusive: anything else — the interval includes the threshold and the data can "
        "neither confirm the prediction nor rule out a meaningful effect in its direction. "
        "The p-value is one-sided, against the threshold, in the predicted direction; "
        "the verdict is read from the interval, not from the p-value."
    )


def lock_statement(wave_data_at_lock: Mapping | None) -> str:
    """What the lock's audit event says about the testing wave's data at that moment."""
    if not wave_data_at_lock:
        return (
            "The audit trail does not say how much of the testing wave's data existed at the lock."
        )
    interviews = int(wave_data_at_lock.get("complete_interviews") or 0)
    answers = int(wave_data_at_lock.get("answers_to_items") or 0)
    if interviews == 0 and answers == 0:
        return "Locked before the testing wave held any data."
    return (
        f"Locked when the testing wave already held {interviews} complete interviews "
        f"({answers} answers to the proposition's items), but before the proposition was "
        "tested on them."
    )


def outcome_text(
    *, test: str, estimate: float, ci_low: float, ci_high: float, threshold: float
) -> str:
    """A tested proposition's statistic in words: "share 78% (95% CI 75%–80%) against 50%"."""
    if test == "mean":
        return f"mean {estimate:.2f} (95% CI {ci_low:.2f}–{ci_high:.2f}) against {threshold:g}"
    if test == "difference":
        return (
            f"difference {estimate * 100:+.1f} percentage points (95% CI "
            f"{ci_low * 100:+.1f} to {ci_high * 100:+.1f}) against {threshold * 100:+.1f}"
        )
    return f"share {estimate:.0%} (95% CI {ci_low:.0%}–{ci_high:.0%}) against {threshold:.0%}"


def decide(
    *,
    direction: str,
    estimate: float,
    ci_low: float,
    ci_high: float,
    threshold: float,
    margin: float,
) -> str:
    """The verdict: supported, not_supported or inconclusive (see ``verdict_rule_text``)."""
    if direction not in DIRECTIONS:
        raise PropositionTestError(
            f'The direction must be one of {", ".join(DIRECTIONS)}, not "{direction}".',
            field="direction",
        )
    if any(v is None or math.isnan(v) for v in (estimate, ci_low, ci_high)):
        return "inconclusive"
    sign = 1.0 if direction == "greater" else -1.0
    # Distances from the threshold, positive on the predicted side.
    point = sign * (estimate - threshold)
    near, far = sorted((sign * (ci_low - threshold), sign * (ci_high - threshold)))
    if near > 0:
        return "supported"
    if point <= 0 and far < margin:
        return "not_supported"
    return "inconclusive"


# --------------------------------------------------------------------------- parameters


def _as_list(value, name: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise PropositionTestError(f'"{name}" must be a non-empty list of answers.', field=name)
    return [str(v) for v in value]


def _number(parameters: Mapping, name: str, default=None) -> float:
    value = parameters.get(name, default)
    if value is None:
        raise PropositionTestError(f'The test needs a "{name}".', field=name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PropositionTestError(
            f'"{name}" must be a number, not {value!r}.', field=name
        ) from None
    if math.isnan(number) or math.isinf(number):
        raise PropositionTestError(f'"{name}" must be a finite number.', field=name)
    return number


@dataclass(frozen=True)
class Spec:
    """A checked test: which statistic, of what, against which threshold."""

    test: str
    direction: str
    item: str
    threshold: float
    margin: float | None  # None: the default for the test (for a mean, from the data)
    categories: tuple[str, ...] = ()
    denominator: str = "substantive"  # or "asked": "don't know" stays in the denominator
    group_item: str = ""
    group_a: tuple[str, ...] = ()
    group_b: tuple[str, ...] = ()

    @property
    def items(self) -> list[str]:
        return [self.item, *([self.group_item] if self.group_item else [])]


def check_spec(
    *, test: str, direction: str, parameters: Mapping, catalogue: Mapping | None = None
) -> Spec:
    """Check a test's parameters (against the wave's item catalogue, where given).

    ``catalogue`` maps item names to ``tidy.ItemInfo`` (the wave's form). Raises
    ``PropositionTestError`` naming the parameter at fault.
    """
    if test not in TESTS:
        raise PropositionTestError(
            f'The test must be one of {", ".join(TESTS)}, not "{test}".', field="test"
        )
    if direction not in DIRECTIONS:
        raise PropositionTestError(
            f'The direction must be one of {", ".join(DIRECTIONS)}, not "{direction}".',
            field="direction",
        )
    if not isinstance(parameters, Mapping):
        raise PropositionTestError("The test's parameters must be a mapping.", field="parameters")
    known = {"item", "categories", "threshold", "margin", "denominator"}
    if test == "difference":
        known |= {"group_item", "group_a", "group_b"}
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise PropositionTestError(
            f"The {test} test does not take {', '.join(map(repr, unknown))}; it takes "
            f"{', '.join(sorted(known))}.",
            field="parameters",
        )
    item = str(parameters.get("item") or "")
    if not item:
        raise PropositionTestError('The test needs the "item" it is about.', field="item")
    info = None
    if catalogue is not None:
        info = catalogue.get(item)
        if info is None:
            raise PropositionTestError(
                f'"{item}" is not an item of the wave\'s questionnaire.', field="item"
            )
    margin = parameters.get("margin")
    margin = None if margin is None else _number(parameters, "margin")
    if margin is not None and margin < 0:
        raise PropositionTestError('"margin" cannot be negative.', field="margin")
    denominator = str(parameters.get("denominator", "substantive"))
    if denominator not in ("substantive", "asked"):
        raise PropositionTestError(
            '"denominator" must be "substantive" (don\'t know and not applicable left out) '
            'or "asked" (kept in).',
            field="denominator",
        )
    if test == "mean":
        if info is not None and not (
            info.type in ("integer", "decimal") or (info.is_single_choice and len(info.scale) >= 2)
        ):
            raise PropositionTestError(
                f'A mean needs a numeric item or a single-choice scale; "{item}" is "{info.type}".',
                field="item",
            )
        return Spec(
            test, direction, item, _number(parameters, "threshold"), margin, denominator=denominator
        )
    categories = tuple(_as_list(parameters.get("categories"), "categories"))
    if info is not None:
        if not info.is_single_choice:
            raise PropositionTestError(
                f'A share needs a single-choice item; "{item}" is "{info.type}".', field="item"
            )
        choices = [name for name, _ in info.choices]
        for category in categories:
            if category not in choices:
                raise PropositionTestError(
                    f'"{category}" is not an answer to "{item}"; its answers are: '
                    f"{', '.join(choices)}.",
                    field="categories",
                )
    if test == "proportion":
        threshold = _number(parameters, "threshold")
        if not 0 < threshold < 1:
            raise PropositionTestError(
                f"A threshold share must lie strictly between 0 and 1, not {threshold:g}.",
                field="threshold",
            )
        return Spec(test, direction, item, threshold, margin, categories, denominator)
    group_item = str(parameters.get("group_item") or "")
    if not group_item:
        raise PropositionTestError(
            'A difference needs the "group_item" that defines the two groups.',
            field="group_item",
        )
    group_a = tuple(_as_list(parameters.get("group_a"), "group_a"))
    group_b = tuple(_as_list(parameters.get("group_b"), "group_b"))
    overlap = sorted(set(group_a) & set(group_b))
    if overlap:
        raise PropositionTestError(
            f"The two groups overlap ({', '.join(overlap)}): a member can be in only one.",
            field="group_b",
        )
    group_info = catalogue.get(group_item) if catalogue is not None else None
    if group_info is not None and group_info.choices:
        answers = [name for name, _ in group_info.choices]
        for name, values in (("group_a", group_a), ("group_b", group_b)):
            for value in values:
                if value not in answers:
                    raise PropositionTestError(
                        f'"{value}" is not an answer to "{group_item}"; its answers are: '
                        f"{', '.join(answers)}.",
                        field=name,
                    )
    threshold = _number(parameters, "threshold", 0.0)
    if not -1 < threshold < 1:
        raise PropositionTestError(
            f"A threshold difference of shares must lie between -1 and 1, not {threshold:g}.",
            field="threshold",
        )
    return Spec(
        test,
        direction,
        item,
        threshold,
        margin,
        categories,
        denominator,
        group_item,
        group_a,
        group_b,
    )


# --------------------------------------------------------------------------- the tests


@dataclass(frozen=True)
class Outcome:
    """A tested proposition: the statistic, its interval, the p-value and the verdict."""

    verdict: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float | None
    n: int
    details: dict = field(default_factory=dict)


def wave_design(wave: WaveData) -> DesignArrays:
    """The wave's design as the analysis app builds it, from this wave's tables alone."""
    context = AnalysisContext(
        StudyData(slug="", waves={wave.number: wave}, is_simulated=wave.is_simulated)
    )
    try:
        return context.design(wave.number)
    except (StepError, WeightingError) as error:
        raise PropositionTestError(
            f"{wave.name}: the weights cannot be computed: {error}"
        ) from None


def wave_inputs_hash(wave: WaveData) -> str:
    """SHA-256 of this wave's tables (units, respondents, frame), as the analysis hashes them."""
    return StudyData(slug="", waves={wave.number: wave}).inputs_hash()


def _values(wave: WaveData, column: str, what: str) -> np.ndarray:
    if column not in wave.respondents.columns:
        raise PropositionTestError(
            f'{wave.name} has no answers to "{column}" (no respondent was asked it, or it is '
            "not an item of this wave).",
            field=what,
        )
    return wave.respondents[column].to_numpy(dtype=object)


def _answered(values: np.ndarray) -> np.ndarray:
    return np.array([isinstance(v, str) and v != "" for v in values], dtype=bool)


def _valid_for_share(spec: Spec, wave: WaveData, values: np.ndarray) -> np.ndarray:
    answered = _answered(values)
    if spec.denominator == "asked":
        return answered
    info = wave.catalogue.get(spec.item)
    if info is not None and info.scale:
        return answered & np.isin(values, list(info.scale) + list(spec.categories))
    return answered & ~np.isin(values, NON_SUBSTANTIVE)


def _t(df: int) -> float:
    return float(stats.t.ppf(1 - (1 - LEVEL) / 2, max(df, 1)))


def _one_sided_p(statistic: float, df: int, direction: str) -> float | None:
    if statistic is None or math.isnan(statistic):
        return None
    distribution = stats.t(max(df, 1))
    return float(
        distribution.sf(statistic) if direction == "greater" else distribution.cdf(statistic)
    )


def _cohen_h(p: float, q: float) -> float:
    return float(
        2 * math.asin(math.sqrt(min(max(p, 0.0), 1.0)))
        - 2 * math.asin(math.sqrt(min(max(q, 0.0), 1.0)))
    )


def _proportion(spec: Spec, wave: WaveData, design: DesignArrays) -> dict:
    values = _values(wave, spec.item, "item")
    valid = _valid_for_share(spec, wave, values)
    if not valid.any():
        raise PropositionTestError(
            f'No respondent of {wave.name} gave an answer to "{spec.item}" that counts.',
            field="item",
        )
    hit = np.isin(values, spec.categories).astype(float)[:, None]
    table = ratio_means(design, hit, valid, (spec.item,))
    p, se, df = float(table.estimate[0]), float(table.se[0]), table.df
    low, high = logit_interval(table.estimate, table.se, df, LEVEL)
    statistic = math.nan
    if 0 < p < 1 and se > 0:
        # On the logit scale, as the interval is, so the two never disagree.
        logit = math.log(p / (1 - p)) - math.log(spec.threshold / (1 - spec.threshold))
        statistic = logit / (se / (p * (1 - p)))
    return {
        "estimate": p,
        "se": se,
        "df": df,
        "ci_low": float(low[0]),
        "ci_high": float(high[0]),
        "statistic": statistic,
        "n": table.n,
        "weighted_n": table.weighted_n,
        "margin": DEFAULT_MARGIN["proportion"] if spec.margin is None else spec.margin,
        "standardised_effect": {
            "name": "Cohen's h (share against the threshold)",
            "value": _cohen_h(p, spec.threshold),
        },
        "interval": "logit (t on design df), as the analysis app's shares",
    }


def _scores(spec: Spec, wave: WaveData) -> tuple[np.ndarray, np.ndarray, str]:
    values = _values(wave, spec.item, "item")
    info = wave.catalogue.get(spec.item)
    if info is not None and info.is_single_choice and info.scale:
        position = {answer: index + 1 for index, answer in enumerate(info.scale)}
        scores = np.array(
            [position.get(v, np.nan) if isinstance(v, str) else np.nan for v in values]
        )
        scale = ", ".join(f"{i + 1} = {label}" for i, label in enumerate(info.scale_labels))
        return scores, ~np.isnan(scores), f"scored by scale position ({scale})"
    numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    return numeric, ~np.isnan(numeric), "as answered"


def _mean(spec: Spec, wave: WaveData, design: DesignArrays) -> dict:
    scores, valid, scoring = _scores(spec, wave)
    if not valid.any():
        raise PropositionTestError(
            f'No respondent of {wave.name} gave a usable answer to "{spec.item}".', field="item"
        )
    y = np.where(valid, scores, 0.0)[:, None]
    table = ratio_means(design, y, valid, (spec.item,))
    mean, se, df = float(table.estimate[0]), float(table.se[0]), table.df
    t = _t(df)
    w = design.weights * valid
    sd = float(math.sqrt((w * (y[:, 0] - mean) ** 2).sum() / w.sum()))
    return {
        "estimate": mean,
        "se": se,
        "df": df,
        "ci_low": mean - t * se,
        "ci_high": mean + t * se,
        "statistic": (mean - spec.threshold) / se if se > 0 else math.nan,
        "n": table.n,
        "weighted_n": table.weighted_n,
        "weighted_sd": sd,
        "margin": DEFAULT_MEAN_MARGIN_SD * sd if spec.margin is None else spec.margin,
        "scoring": scoring,
        "standardised_effect": {
            "name": "Cohen's d (mean against the threshold, weighted SD)",
            "value": (mean - spec.threshold) / sd if sd > 0 else None,
        },
        "interval": "t on design df",
    }


def _difference(spec: Spec, wave: WaveData, design: DesignArrays) -> dict:
    values = _values(wave, spec.item, "item")
    groups = np.array([str(g) for g in _values(wave, spec.group_item, "group_item")], dtype=object)
    valid = _valid_for_share(spec, wave, values)
    in_a = valid & np.isin(groups, spec.group_a)
    in_b = valid & np.isin(groups, spec.group_b)
    for name, members, wanted in (("group_a", in_a, spec.group_a), ("group_b", in_b, spec.group_b)):
        if not members.any():
            raise PropositionTestError(
                f"No respondent of {wave.name} with {spec.group_item} in "
                f'{", ".join(wanted)} answered "{spec.item}".',
                field=name,
            )
    hit = np.isin(values, spec.categories).astype(float)
    shares = {}
    influence = []
    for label, members in (("a", in_a), ("b", in_b)):
        table = ratio_means(design, hit[:, None], members, (spec.item,))
        low, high = logit_interval(table.estimate, table.se, table.df, LEVEL)
        shares[label] = {
            "share": float(table.estimate[0]),
            "se": float(table.se[0]),
            "ci_low": float(low[0]),
            "ci_high": float(high[0]),
            "n": table.n,
        }
        # The share's linearised influence (as ratio_means forms it), for the covariance.
        w = design.weights * members
        influence.append(w * (hit - table.estimate[0]) / w.sum())
    covariance, _ = total_covariance(design, np.column_stack(influence))
    variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    se = float(math.sqrt(max(variance, 0.0)))
    # Degrees of freedom of the two groups together (PSUs holding either, minus strata).
    df = ratio_means(design, hit[:, None], in_a | in_b, (spec.item,)).df
    difference = shares["a"]["share"] - shares["b"]["share"]
    t = _t(df)
    return {
        "estimate": difference,
        "se": se,
        "df": df,
        "ci_low": difference - t * se,
        "ci_high": difference + t * se,
        "statistic": (difference - spec.threshold) / se if se > 0 else math.nan,
        "n": int(in_a.sum() + in_b.sum()),
        "groups": {
            "a": {"values": list(spec.group_a), **shares["a"]},
            "b": {"values": list(spec.group_b), **shares["b"]},
        },
        "covariance_ab": float(covariance[0, 1]),
        "margin": DEFAULT_MARGIN["difference"] if spec.margin is None else spec.margin,
        "standardised_effect": {
            "name": "Cohen's h (group A against group B)",
            "value": _cohen_h(shares["a"]["share"], shares["b"]["share"]),
        },
        "interval": "t on design df; both groups in one design (their covariance counted)",
    }


RUNNERS = {"proportion": _proportion, "mean": _mean, "difference": _difference}


def run_test(
    *,
    test: str,
    direction: str,
    parameters: Mapping,
    wave: WaveData,
    design: DesignArrays | None = None,
    inputs_hash: str | None = None,
) -> Outcome:
    """Test one proposition on one wave's tidy data and give the verdict.

    ``design`` defaults to the wave's own design (``wave_design``); tests pass one to
    check the arithmetic on plain data. ``inputs_hash`` is ``wave_inputs_hash(wave)``,
    given where several propositions share one wave.
    """
    spec = check_spec(
        test=test, direction=direction, parameters=parameters, catalogue=wave.catalogue
    )
    if wave.respondents.empty:
        raise PropositionTestError(f"{wave.name} has no complete interview to test on.")
    design = design if design is not None else wave_design(wave)
    if design.n != len(wave.respondents):
        raise PropositionTestError(
            f"The design has {design.n} rows but {wave.name} has {len(wave.respondents)} "
            "respondents."
        )
    try:
        result = RUNNERS[spec.test](spec, wave, design)
    except LinearisationError as error:
        raise PropositionTestError(f"{wave.name}: {error}") from None
    verdict = decide(
        direction=spec.direction,
        estimate=result["estimate"],
        ci_low=result["ci_low"],
        ci_high=result["ci_high"],
        threshold=spec.threshold,
        margin=result["margin"],
    )
    p_value = _one_sided_p(result["statistic"], result["df"], spec.direction)
    details = {
        "test": spec.test,
        "direction": spec.direction,
        "item": spec.item,
        "categories": list(spec.categories),
        "denominator": spec.denominator if spec.test != "mean" else "usable answers",
        "threshold": spec.threshold,
        "level": LEVEL,
        "distance_from_threshold": result["estimate"] - spec.threshold,
        "p_value_sided": f"one-sided ({spec.direction} than the threshold)",
        "wave": {"number": wave.number, "name": wave.name, "respondents": len(wave.respondents)},
        "wave_inputs_hash": inputs_hash or wave_inputs_hash(wave),
        "design": DESIGN_NOTE,
        "rule": "supported / not supported / inconclusive from the 95% interval (verdict_rule_text)",
        **{k: v for k, v in result.items() if k not in ("ci_low", "ci_high")},
    }
    if spec.group_item:
        details["group_item"] = spec.group_item
    if isinstance(details.get("statistic"), float) and math.isnan(details["statistic"]):
        details["statistic"] = None
    return Outcome(
        verdict=verdict,
        estimate=float(result["estimate"]),
        ci_low=float(result["ci_low"]),
        ci_high=float(result["ci_high"]),
        p_value=p_value,
        n=int(result["n"]),
        details=details,
    )
