"""Design-based estimates from complex survey samples.

Means, totals, proportions and quantiles under stratified, one- or two-stage cluster
designs with weights and finite population corrections, for the whole population or
for a domain (estimated over the full design), with optional raking of the weights.

Variance is Taylor linearisation as in R's ``survey`` package: with-replacement
"ultimate cluster" at the first stage, corrected by the first-stage fpc, and R's
multistage formula when both stages carry an fpc. The arithmetic is delegated to
``svy`` (see docs/adr/0008-design-based-estimation-library.md); this module validates
the input, names problems by column and row, and hand-writes the quantile point
estimate and Woodruff interval, where ``svy`` resolves ties at an exact probability by
floating-point accident.

No Django here: everything takes and returns plain data.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from scipy import stats

Statistic = Literal["mean", "total", "proportion", "quantile"]
LonelyPsu = Literal["fail", "adjust", "average", "remove", "certainty"]

STATISTICS: tuple[str, ...] = ("mean", "total", "proportion", "quantile")
LONELY_PSU_RULES: tuple[str, ...] = ("fail", "adjust", "average", "remove", "certainty")

# R's survey.lonely.psu options mapped to svy's singleton rules. "remove" and
# "certainty" both let a single-PSU stratum contribute no variance.
_SVY_SINGLETON = {"adjust": "center", "average": "scale", "remove": "skip", "certainty": "skip"}

# Working columns added to a copy of the caller's data; the double underscore keeps
# them apart from survey variables.
_WEIGHT = "__triangulum_weight"
_Y = "__triangulum_y"
_IN_DOMAIN = "__triangulum_in_domain"
_BELOW_QUANTILE = "__triangulum_below_quantile"

# Cumulative weight shares are sums of floats: a share that is p in exact arithmetic
# may come out a few ulps either side, so "reaches p" allows this relative slack.
_CDF_SLACK = 1e-9


class EstimationError(ValueError):
    """Input that cannot be estimated from; the message names the column and rows."""

    def __init__(self, message: str, *, column: str | None = None, rows: list[int] | None = None):
        super().__init__(message)
        self.column = column
        self.rows = rows or []


@dataclass(frozen=True)
class Design:
    """The sampling design: column names in the data.

    ``clusters`` lists the sampling units by stage (first-stage PSU, then second-stage
    unit); labels are taken within stratum, so a PSU label reused in two strata is two
    PSUs. ``fpc`` gives, per stage, a column holding the population count of units at
    that stage (stratum size of PSUs; for the second stage, the number of units in the
    PSU). Without ``weights`` the weights are derived from the fpc counts, as R does;
    without either every row weighs 1. ``lonely_psu`` says what a stratum with a single
    PSU does to the variance, with R's ``survey.lonely.psu`` names; "fail" (R's default)
    refuses.
    """

    strata: str | None = None
    clusters: tuple[str, ...] = ()
    weights: str | None = None
    fpc: tuple[str, ...] = ()
    lonely_psu: LonelyPsu = "fail"

    def __post_init__(self) -> None:
        object.__setattr__(self, "clusters", tuple(self.clusters))
        object.__setattr__(self, "fpc", tuple(self.fpc))
        if len(self.clusters) > 2:
            raise EstimationError("At most two stages of clusters are supported.")
        if len(self.fpc) > max(1, len(self.clusters)):
            raise EstimationError(
                f"{len(self.fpc)} fpc columns given for {len(self.clusters)} cluster stage(s): "
                "give one fpc column per stage at most."
            )
        if self.lonely_psu not in LONELY_PSU_RULES:
            raise EstimationError(
                f"Unknown lonely-PSU rule {self.lonely_psu!r}; use one of "
                f"{', '.join(LONELY_PSU_RULES)}."
            )

    def columns(self) -> list[str]:
        named = [self.strata, *self.clusters, self.weights, *self.fpc]
        return [c for c in named if c is not None]


@dataclass(frozen=True)
class Estimate:
    """One design-based estimate with its standard error and interval."""

    statistic: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    df: int
    level: float
    method: str
    quantile: float | None = None
    domain: str | None = None

    def as_dict(self) -> dict[str, object]:
        def number(value: float) -> float | None:
            return None if value is None or math.isnan(value) else float(value)

        return {
            "estimate": number(self.estimate),
            "se": number(self.se),
            "ci_low": number(self.ci_low),
            "ci_high": number(self.ci_high),
            "n": int(self.n),
            "statistic": self.statistic,
            "df": int(self.df),
            "method": self.method,
        }


# --------------------------------------------------------------------------- parsing


def parse_assignment(text: str, *, what: str = "domain") -> tuple[str, str]:
    """Split ``"COLUMN=VALUE"`` (the text after the first ``=`` is the value)."""
    column, sep, value = text.partition("=")
    if not sep or not column.strip():
        raise EstimationError(f"The {what} {text!r} is not of the form COLUMN=VALUE.")
    return column.strip(), value.strip()


def parse_margin(text: str) -> tuple[str, dict[str, float]]:
    """Parse ``"COLUMN=LEVEL:TOTAL,LEVEL:TOTAL"`` into a raking margin."""
    column, spec = parse_assignment(text, what="raking margin")
    totals: dict[str, float] = {}
    for part in spec.split(","):
        level, sep, total = part.rpartition(":")
        if not sep or not level.strip():
            raise EstimationError(
                f"In the raking margin {text!r}, {part!r} is not of the form LEVEL:TOTAL."
            )
        try:
            value = float(total)
        except ValueError:
            raise EstimationError(
                f"In the raking margin {text!r}, the total {total!r} for level "
                f"{level.strip()!r} is not a number."
            ) from None
        if not value > 0 or math.isinf(value):
            raise EstimationError(
                f"In the raking margin {text!r}, the total for level {level.strip()!r} "
                "must be a positive number."
            )
        if level.strip() in totals:
            raise EstimationError(
                f"In the raking margin {text!r}, level {level.strip()!r} appears twice."
            )
        totals[level.strip()] = value
    return column, totals


# ------------------------------------------------------------------------ validation


def _as_polars(data: object) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        return pl.from_pandas(data, nan_to_null=True)
    raise EstimationError("The data must be a pandas or polars data frame.")


def _rows(mask: pl.Series | np.ndarray, limit: int = 10) -> list[int]:
    """1-based data row numbers where ``mask`` holds."""
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    return [int(p) + 1 for p in positions[:limit]]


def _row_list(rows: list[int], total: int) -> str:
    shown = ", ".join(str(r) for r in rows)
    more = total - len(rows)
    return f"{shown} and {more} more" if more > 0 else shown


def _require_columns(data: pl.DataFrame, columns: list[str]) -> None:
    for column in columns:
        if column not in data.columns:
            raise EstimationError(
                f"Column {column!r} is not in the data (columns: {', '.join(data.columns)}).",
                column=column,
            )


def _require_complete(data: pl.DataFrame, column: str, role: str) -> None:
    missing = data[column].is_null()
    if data[column].dtype.is_float():
        missing = missing | data[column].is_nan().fill_null(False)
    count = int(missing.sum())
    if count:
        rows = _rows(missing)
        raise EstimationError(
            f"The {role} column {column!r} has {count} missing value(s), in data row(s) "
            f"{_row_list(rows, count)}; every row needs a {role} value.",
            column=column,
            rows=rows,
        )


def _numeric(data: pl.DataFrame, column: str, role: str) -> pl.Series:
    """The column as floats; text that is not a number is named by row."""
    series = data[column]
    if series.dtype.is_numeric():
        return series.cast(pl.Float64)
    if series.dtype == pl.Boolean:
        return series.cast(pl.Float64)
    as_text = series.cast(pl.Utf8)
    parsed = as_text.str.strip_chars().cast(pl.Float64, strict=False)
    bad = parsed.is_null() & as_text.is_not_null()
    count = int(bad.sum())
    if count:
        rows = _rows(bad)
        first = as_text[rows[0] - 1]
        raise EstimationError(
            f"The {role} column {column!r} must be numeric but holds {first!r} in data row "
            f"{rows[0]} ({count} non-numeric value(s), rows {_row_list(rows, count)}).",
            column=column,
            rows=rows,
        )
    return parsed


def _matches(series: pl.Series, value: str) -> pl.Series:
    """Rows whose value equals ``value`` as typed on a command line."""
    if series.dtype.is_numeric():
        try:
            number = float(value)
        except ValueError:
            return pl.Series([False] * len(series))
        return (series.cast(pl.Float64) == number).fill_null(False)
    if series.dtype == pl.Boolean:
        truth = value.strip().lower()
        if truth not in {"true", "false", "1", "0"}:
            return pl.Series([False] * len(series))
        return (series == (truth in {"true", "1"})).fill_null(False)
    return (series.cast(pl.Utf8) == value).fill_null(False)


def _check_design(data: pl.DataFrame, design: Design) -> None:
    _require_columns(data, design.columns())
    for column in design.columns():
        role = (
            "strata"
            if column == design.strata
            else "cluster"
            if column in design.clusters
            else "weight"
            if column == design.weights
            else "fpc"
        )
        _require_complete(data, column, role)
    if design.weights:
        weights = _numeric(data, design.weights, "weight")
        bad = weights <= 0
        if bad.any():
            rows = _rows(bad)
            raise EstimationError(
                f"The weight column {design.weights!r} must be positive; data row {rows[0]} "
                f"holds {weights[rows[0] - 1]:g}.",
                column=design.weights,
                rows=rows,
            )
    for column in design.fpc:
        _numeric(data, column, "fpc")


def _unit_keys(data: pl.DataFrame, design: Design) -> tuple[np.ndarray, list[np.ndarray]]:
    """Integer codes for the stratum and for each stage's unit (nested in its parent)."""
    strata = (
        data[design.strata].cast(pl.Utf8).to_numpy()
        if design.strata
        else np.full(data.height, "", dtype=object)
    )
    stratum_code = np.unique(strata.astype(str), return_inverse=True)[1]
    parent = stratum_code
    stages = []
    for column in design.clusters:
        labels = data[column].cast(pl.Utf8).to_numpy().astype(str)
        combined = np.char.add(np.char.add(parent.astype(str), "\x1f"), labels)
        parent = np.unique(combined, return_inverse=True)[1]
        stages.append(parent)
    if not design.clusters:
        stages.append(np.arange(data.height))
    return stratum_code, stages


def _check_fpc_and_singletons(data: pl.DataFrame, design: Design) -> np.ndarray:
    """Validate fpc counts and lonely PSUs; return the design weights as floats."""
    stratum_code, stages = _unit_keys(data, design)
    parents = [stratum_code, *stages[:-1]]
    probabilities = np.ones(data.height)
    for stage, column in enumerate(design.fpc):
        population = _numeric(data, column, "fpc").to_numpy()
        parent, units = parents[stage], stages[stage]
        level = "stratum" if stage == 0 else "first-stage cluster"
        for code in np.unique(parent):
            rows = parent == code
            values = np.unique(population[rows])
            if len(values) > 1:
                where = _rows(rows, limit=3)
                raise EstimationError(
                    f"The fpc column {column!r} must be constant within each {level}, but "
                    f"the {level} holding data row {where[0]} has the values "
                    f"{', '.join(f'{v:g}' for v in values[:5])}.",
                    column=column,
                    rows=where,
                )
            sampled = len(np.unique(units[rows]))
            if values[0] < sampled:
                where = _rows(rows, limit=3)
                raise EstimationError(
                    f"The fpc column {column!r} says the {level} holding data row {where[0]} "
                    f"has {values[0]:g} units in the population, fewer than the {sampled} "
                    "sampled from it; fpc must be a population count at least as large as "
                    "the sample.",
                    column=column,
                    rows=where,
                )
            probabilities[rows] *= sampled / values[0]
    if design.lonely_psu == "fail":
        psus = stages[0]
        for code in np.unique(stratum_code):
            rows = stratum_code == code
            if len(np.unique(psus[rows])) == 1:
                where = _rows(rows, limit=3)
                label = data[design.strata][where[0] - 1] if design.strata else "(all)"
                raise EstimationError(
                    f"Stratum {label!r} of {design.strata!r} has a single PSU (data row "
                    f"{where[0]}), so its variance cannot be estimated. Choose a lonely-PSU "
                    "rule (R's survey.lonely.psu): 'certainty' or 'remove' (the stratum "
                    "adds no variance), 'adjust' (centred at the grand mean) or 'average'.",
                    column=design.strata,
                    rows=where,
                )
    if design.weights:
        return _numeric(data, design.weights, "weight").to_numpy()
    return 1.0 / probabilities


# ---------------------------------------------------------------------- svy binding


def _svy_sample(frame: pl.DataFrame, design: Design):
    import svy

    pop_size: object = None
    if len(design.fpc) == 1:
        pop_size = design.fpc[0]
    elif len(design.fpc) == 2:
        pop_size = svy.PopSize(psu=design.fpc[0], ssu=design.fpc[1])
    # A second stage changes R's variance only through its fpc (otherwise the
    # ultimate-cluster formula uses first-stage totals alone), so svy gets the SSU
    # only when that fpc is there.
    ssu = design.clusters[1] if len(design.fpc) == 2 else None
    svy_design = svy.Design(
        stratum=design.strata,
        psu=design.clusters[0] if design.clusters else None,
        ssu=ssu,
        wgt=_WEIGHT,
        pop_size=pop_size,
        singleton=_SVY_SINGLETON.get(design.lonely_psu),
    )
    return svy.Sample(frame, svy_design)


def _rake_sample(sample, frame: pl.DataFrame, margins: Mapping[str, Mapping[str, float]]):
    """Rake the sample's weights to the margins (levels compared as text)."""
    controls: dict[str, dict[str, float]] = {}
    columns: dict[str, str] = {}
    for index, (column, totals) in enumerate(margins.items()):
        levels = frame[column].cast(pl.Utf8)
        missing = levels.is_null()
        if missing.any():
            rows = _rows(missing)
            raise EstimationError(
                f"The raking column {column!r} has missing values (data row(s) "
                f"{_row_list(rows, int(missing.sum()))}).",
                column=column,
                rows=rows,
            )
        present = set(levels.unique().to_list())
        wanted = {str(level) for level in totals}
        for level in sorted(present - wanted):
            rows = _rows(levels == level)
            raise EstimationError(
                f"The raking margin for {column!r} has no total for level {level!r}, which "
                f"the data holds (data row {rows[0]}); give a total for every level.",
                column=column,
                rows=rows,
            )
        for level in sorted(wanted - present):
            raise EstimationError(
                f"The raking margin for {column!r} gives a total for level {level!r}, "
                "which no sampled row has; weights cannot be raked to an empty level.",
                column=column,
            )
        name = f"__triangulum_rake_{index}"
        columns[column] = name
        controls[name] = {str(level): float(total) for level, total in totals.items()}
    grand = [sum(c.values()) for c in controls.values()]
    if grand and max(grand) - min(grand) > 1e-9 * max(grand):
        raise EstimationError(
            "The raking margins disagree on the population total ("
            + ", ".join(f"{c}: {g:g}" for c, g in zip(margins, grand, strict=True))
            + "); every margin must add up to the same total."
        )
    extra = [frame[column].cast(pl.Utf8).alias(name) for column, name in columns.items()]
    sample = sample.wrangling.mutate({e.name: e for e in extra}) if extra else sample
    return sample.weighting.rake(
        controls=controls, wgt_name="__triangulum_raked", tol=1e-10, max_iter=1000
    )


# ----------------------------------------------------------------------- estimation


def _quantile_at(values: np.ndarray, weights: np.ndarray, p: float) -> float:
    """R's qrule "math": the smallest value whose weighted CDF reaches ``p``."""
    if not 0.0 <= p <= 1.0:
        return math.nan
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    cdf = np.cumsum(weights[order]) / weights.sum()
    position = int(np.searchsorted(cdf, p - _CDF_SLACK, side="left"))
    return float(ordered[min(position, len(ordered) - 1)])


def estimate(
    data: object,
    y: str,
    *,
    design: Design | None = None,
    statistic: Statistic = "mean",
    domain: tuple[str, object] | str | None = None,
    quantile: float = 0.5,
    level: float = 0.95,
    rake: Mapping[str, Mapping[str, float]] | None = None,
    drop_missing: bool = False,
) -> Estimate:
    """Estimate a mean, total, proportion or quantile of ``y`` under ``design``.

    ``domain`` (``(column, value)`` or ``"COLUMN=VALUE"``) restricts the estimate to a
    subpopulation while keeping the full design for the variance, as R's ``subset``
    of a design does. For a proportion, ``y`` is a 0/1 (or boolean) column, or
    ``"COLUMN=VALUE"`` for the share taking that value. With ``drop_missing`` rows
    missing ``y`` leave the estimate but stay in the design (R's ``na.rm=TRUE``);
    otherwise they are an error naming the rows. ``rake`` adjusts the weights to
    ``{column: {level: population total}}`` first; the variance then credits the
    raking. Intervals are t intervals on the design degrees of freedom; proportions
    use the logit interval and quantiles Woodruff's.
    """
    design = design or Design()
    frame = _as_polars(data)
    if statistic not in STATISTICS:
        raise EstimationError(
            f"Unknown statistic {statistic!r}; use one of {', '.join(STATISTICS)}."
        )
    if not 0.0 < level < 1.0:
        raise EstimationError(f"The confidence level must lie between 0 and 1, not {level}.")
    if statistic == "quantile" and not 0.0 < quantile < 1.0:
        raise EstimationError(f"The quantile must lie strictly between 0 and 1, not {quantile}.")
    if frame.height == 0:
        raise EstimationError("The data has no rows.")

    _check_design(frame, design)
    weights = _check_fpc_and_singletons(frame, design)

    y_values, y_label = _response(frame, y, statistic)
    in_domain = np.ones(frame.height, dtype=bool)
    domain_label = None
    if domain is not None:
        column, value = parse_assignment(domain) if isinstance(domain, str) else domain
        _require_columns(frame, [column])
        in_domain = _matches(frame[column], str(value)).to_numpy()
        domain_label = f"{column}={value}"
        if not in_domain.any():
            raise EstimationError(
                f"No row has {column} = {value!r}, so the domain is empty.", column=column
            )
    missing = np.isnan(y_values)
    if missing.any() and not drop_missing:
        rows = _rows(missing)
        raise EstimationError(
            f"The column {y_label!r} has {int(missing.sum())} missing value(s), in data row(s) "
            f"{_row_list(rows, int(missing.sum()))}.",
            column=y_label,
            rows=rows,
        )
    in_domain &= ~missing
    if not in_domain.any():
        raise EstimationError(
            f"No row has a value of {y_label!r} to estimate from.", column=y_label
        )

    work = frame.with_columns(
        pl.Series(_WEIGHT, weights, dtype=pl.Float64),
        pl.Series(_Y, np.where(missing, 0.0, y_values), dtype=pl.Float64),
        pl.Series(_IN_DOMAIN, in_domain),
    )
    sample = _svy_sample(work, design)
    if rake:
        _require_columns(frame, list(rake))
        sample = _rake_sample(sample, work, rake)
    restricted = not bool(in_domain.all())

    import svy

    where = svy.col(_IN_DOMAIN) if restricted else None
    alpha = 1.0 - level
    variance = _variance_description(design, rake is not None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if statistic == "quantile":
            result = _woodruff_quantile(sample, y_values, in_domain, quantile, level, where)
            return Estimate(
                statistic=statistic,
                quantile=quantile,
                level=level,
                domain=domain_label,
                method=f"{variance}; R qrule 'math', Woodruff interval (t, design df)",
                **result,
            )
        if statistic == "proportion":
            table = sample.estimation.prop(
                _Y, where=where, alpha=alpha, ci_method="logit"
            ).to_polars()
            row = _proportion_row(table)
            method = f"{variance}; logit interval (t, design df)"
        else:
            call = sample.estimation.mean if statistic == "mean" else sample.estimation.total
            row = call(_Y, where=where, alpha=alpha).to_polars().row(0, named=True)
            method = f"{variance}; t interval on design df"
    return Estimate(
        statistic=statistic,
        estimate=float(row["est"]),
        se=float(row["se"]),
        ci_low=float(row["lci"]),
        ci_high=float(row["uci"]),
        n=int(in_domain.sum()),
        df=int(row["df"]),
        level=level,
        method=method,
        domain=domain_label,
    )


def _response(frame: pl.DataFrame, y: str, statistic: str) -> tuple[np.ndarray, str]:
    """The analysed variable as floats (NaN where missing) and its name for messages."""
    if y not in frame.columns and statistic == "proportion" and "=" in y:
        column, value = parse_assignment(y, what="proportion")
        _require_columns(frame, [column])
        series = frame[column]
        indicator = _matches(series, value).cast(pl.Float64).to_numpy()
        return np.where(series.is_null().to_numpy(), np.nan, indicator), column
    _require_columns(frame, [y])
    values = _numeric(frame, y, "analysis").fill_nan(None).to_numpy().astype(float)
    if statistic == "proportion":
        present = values[~np.isnan(values)]
        bad = ~np.isin(present, (0.0, 1.0))
        if bad.any():
            rows = _rows(~np.isnan(values) & ~np.isin(values, (0.0, 1.0)))
            raise EstimationError(
                f"A proportion needs a 0/1 column, but {y!r} holds {present[bad][0]:g} in "
                f"data row {rows[0]}; ask for the share of one value with {y}=VALUE.",
                column=y,
                rows=rows,
            )
    return values, y


def _proportion_row(table: pl.DataFrame) -> dict[str, float]:
    level_column = table.columns[0]
    ones = table.filter(pl.col(level_column).cast(pl.Float64) == 1.0)
    if ones.height:
        return ones.row(0, named=True)
    # No row has the value: the share is 0 and, as in R, the logit interval is undefined.
    zero = table.row(0, named=True)
    return {"est": 0.0, "se": 0.0, "lci": math.nan, "uci": math.nan, "df": zero["df"]}


def _woodruff_quantile(
    sample, y_values: np.ndarray, in_domain: np.ndarray, p: float, level: float, where
) -> dict[str, float]:
    """R's svyquantile (qrule "math", interval.type "mean").

    The interval for F(q̂), the estimated share at or below the quantile, comes from the
    linearised SE of that share; inverting the CDF at its limits gives the interval for
    the quantile, and the SE is its half-width over the t quantile.
    """
    values = y_values[in_domain]
    weights = sample.data[sample.design.wgt].to_numpy()[in_domain]
    point = _quantile_at(values, weights, p)
    below = np.where(in_domain, (np.nan_to_num(y_values, nan=np.inf) <= point), False)
    sample = sample.wrangling.mutate({_BELOW_QUANTILE: pl.Series(below.astype(float))})
    share = sample.estimation.mean(_BELOW_QUANTILE, where=where).to_polars().row(0, named=True)
    df = int(share["df"])
    t = float(stats.t.ppf(0.5 + level / 2.0, df)) if df > 0 else math.nan
    low_p = share["est"] - t * share["se"]
    high_p = share["est"] + t * share["se"]
    ci_low = _quantile_at(values, weights, low_p) if low_p >= 0 else math.nan
    ci_high = _quantile_at(values, weights, high_p) if high_p <= 1 else math.nan
    return {
        "estimate": point,
        "se": (ci_high - ci_low) / (2.0 * t),
        "ci_low": ci_low,
        "ci_high": ci_high,
        "n": int(in_domain.sum()),
        "df": df,
    }


def _variance_description(design: Design, raked: bool) -> str:
    parts = ["Taylor linearisation"]
    if len(design.fpc) == 2:
        parts.append("two-stage with fpc at both stages")
    elif design.clusters:
        parts.append("with-replacement PSUs (ultimate cluster)")
    if len(design.fpc) == 1:
        parts.append("first-stage fpc")
    if raked:
        parts.append("raked weights")
    return ", ".join(parts)


def rake(
    data: object,
    weights: str | None,
    margins: Mapping[str, Mapping[str, float]],
) -> np.ndarray:
    """Weights raked (iterative proportional fitting) to population margin totals.

    ``margins`` maps a column to ``{level: population total}``; levels are compared as
    text, so ``{"stype": {"E": 4421, ...}}`` and ``{"year": {"2024": ...}}`` both work.
    Every level in the data needs a total and all margins must share one grand total.
    Returns the adjusted weights in row order.
    """
    frame = _as_polars(data)
    design = Design(weights=weights)
    _check_design(frame, design)
    _require_columns(frame, list(margins))
    base = _check_fpc_and_singletons(frame, design)
    work = frame.with_columns(pl.Series(_WEIGHT, base, dtype=pl.Float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raked = _rake_sample(_svy_sample(work, design), work, margins)
    return raked.data[raked.design.wgt].to_numpy().astype(float)
