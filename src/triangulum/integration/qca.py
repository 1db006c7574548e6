"""Qualitative Comparative Analysis (QCA) on crisp and fuzzy set memberships.

Pure computation, no Django: set operations, Ragin's direct calibration, parameters of fit
for sufficiency and necessity, the truth table, and the complex (remainders excluded) and
parsimonious (remainders included) solutions. Formulas follow Ragin (2008) *Redesigning
Social Inquiry* and Schneider & Wagemann (2012) *Set-Theoretic Methods for the Social
Sciences*; notation and conventions follow R's QCA package (Dusa 2019), so results can be
compared with it line by line. See docs/adr/0009-qca-implementation.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from triangulum.integration.qca_minimise import Implicant, minimise

# Memberships come from CSV text and from sums of floats; a row whose consistency equals
# the threshold up to rounding must pass it, as it does in R's QCA.
TOLERANCE = 1e-9

# Ragin's direct method places full membership at 0.95 and full non-membership at 0.05, so
# the anchors sit at log-odds of ±ln(0.95 / 0.05).
ANCHOR_LOG_ODDS = math.log(0.95 / 0.05)
# Ragin (2008, ch. 5) and his fsQCA software round those log-odds to ±3, which puts the
# anchors at 0.953 and 0.047; callers who want memberships comparable with fsQCA pass this.
FSQCA_ANCHOR_LOG_ODDS = 3.0


class QCAError(ValueError):
    """The analysis cannot be run on this input; the message says why and where."""


# ---------------------------------------------------------------------------------------
# Set operations and calibration


def negation(values: Sequence[float]) -> list[float]:
    return [1.0 - v for v in values]


def intersection(*columns: Sequence[float]) -> list[float]:
    return [min(vs) for vs in zip(*columns, strict=True)]


def union(*columns: Sequence[float]) -> list[float]:
    return [max(vs) for vs in zip(*columns, strict=True)]


def calibrate_direct(
    values: Sequence[float],
    *,
    exclusion: float,
    crossover: float,
    inclusion: float,
    anchor_log_odds: float = ANCHOR_LOG_ODDS,
) -> list[float]:
    """Ragin's direct method of calibration: raw values to fuzzy memberships.

    The deviation from the crossover is scaled into log-odds so that the full-exclusion
    anchor maps to 0.05, the crossover to 0.5 and the full-inclusion anchor to 0.95, then
    turned into a membership by the logistic function. Anchors may also run downwards
    (exclusion > crossover > inclusion) for a set whose membership falls as the raw value
    rises. ``anchor_log_odds=FSQCA_ANCHOR_LOG_ODDS`` places the anchors at ±3 log-odds
    (0.047 and 0.953) as Ragin's fsQCA does.
    """
    if not anchor_log_odds > 0:
        raise QCAError(f"the anchors' log-odds must be positive (got {anchor_log_odds})")
    increasing = exclusion < crossover < inclusion
    decreasing = exclusion > crossover > inclusion
    if not (increasing or decreasing):
        raise QCAError(
            "the crossover must lie strictly between the full-exclusion and full-inclusion "
            f"anchors (got exclusion={exclusion}, crossover={crossover}, inclusion={inclusion})"
        )
    memberships = []
    for value in values:
        deviation = value - crossover
        on_inclusion_side = deviation * (inclusion - crossover) >= 0
        span = (inclusion - crossover) if on_inclusion_side else (crossover - exclusion)
        log_odds = deviation / span * anchor_log_odds
        memberships.append(1.0 / (1.0 + math.exp(-log_odds)))
    return memberships


# ---------------------------------------------------------------------------------------
# Parameters of fit


def _ratio(numerator: float, denominator: float) -> float | None:
    # An empty set (sum of memberships 0) has no defined consistency or coverage.
    return numerator / denominator if denominator > 0 else None


@dataclass(frozen=True)
class SufficiencyFit:
    consistency: float | None
    coverage: float | None
    pri: float | None


@dataclass(frozen=True)
class NecessityFit:
    consistency: float | None
    coverage: float | None
    relevance: float | None


def sufficiency(x: Sequence[float], y: Sequence[float]) -> SufficiencyFit:
    """Is X a subset of Y? consistency Σmin(X,Y)/ΣX, coverage Σmin(X,Y)/ΣY, and PRI
    (Σmin(X,Y) − Σmin(X,Y,~Y)) / (ΣX − Σmin(X,Y,~Y))."""
    both = sum(min(a, b) for a, b in zip(x, y, strict=True))
    both_and_not = sum(min(a, b, 1.0 - b) for a, b in zip(x, y, strict=True))
    total_x, total_y = sum(x), sum(y)
    return SufficiencyFit(
        consistency=_ratio(both, total_x),
        coverage=_ratio(both, total_y),
        pri=_ratio(both - both_and_not, total_x - both_and_not),
    )


def necessity(x: Sequence[float], y: Sequence[float]) -> NecessityFit:
    """Is Y a subset of X? consistency Σmin(X,Y)/ΣY, coverage Σmin(X,Y)/ΣX, and relevance
    of necessity Σ(1−X) / Σ(1−min(X,Y)) (Schneider & Wagemann 2012, p. 236)."""
    both = [min(a, b) for a, b in zip(x, y, strict=True)]
    return NecessityFit(
        consistency=_ratio(sum(both), sum(y)),
        coverage=_ratio(sum(both), sum(x)),
        relevance=_ratio(sum(1.0 - a for a in x), sum(1.0 - m for m in both)),
    )


# ---------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class SetData:
    """Memberships in [0, 1] for named sets, one value per case."""

    case_ids: tuple[str, ...]
    memberships: Mapping[str, tuple[float, ...]]

    def __post_init__(self):
        for name, values in self.memberships.items():
            if len(values) != len(self.case_ids):
                raise QCAError(
                    f"set {name!r} has {len(values)} values for {len(self.case_ids)} cases"
                )
            for case, value in zip(self.case_ids, values, strict=True):
                if not (0.0 <= value <= 1.0) or math.isnan(value):
                    raise QCAError(
                        f"case {case!r}, set {name!r}: membership {value} is outside [0, 1]"
                    )

    def is_crisp(self, names: Sequence[str]) -> bool:
        return all(v in (0.0, 1.0) for name in names for v in self.memberships[name])

    def column(self, name: str) -> tuple[float, ...]:
        if name not in self.memberships:
            raise QCAError(f"there is no set called {name!r}; sets: {', '.join(self.memberships)}")
        return self.memberships[name]


# ---------------------------------------------------------------------------------------
# Truth table

POSITIVE, NEGATIVE, REMAINDER = "1", "0", "?"


@dataclass(frozen=True)
class TruthTableRow:
    number: int  # 1-based, as in R's QCA: the configuration read as binary, plus one
    configuration: tuple[int, ...]
    n: int
    consistency: float | None
    pri: float | None
    outcome: str  # POSITIVE, NEGATIVE or REMAINDER
    cases: tuple[str, ...]


@dataclass(frozen=True)
class TruthTable:
    outcome: str  # as written in solutions, "~SURV" for a negated outcome
    conditions: tuple[str, ...]
    incl_cut: float
    n_cut: int
    rows: tuple[TruthTableRow, ...]  # every logically possible configuration
    # Cases with a membership of exactly 0.5 in some condition sit in no configuration.
    unassigned_cases: tuple[str, ...] = ()

    def with_outcome(self, value: str) -> list[TruthTableRow]:
        return [row for row in self.rows if row.outcome == value]

    @property
    def observed_rows(self) -> list[TruthTableRow]:
        return [row for row in self.rows if row.n > 0]


def configuration_memberships(
    data: SetData, conditions: Sequence[str], configuration: Sequence[int]
) -> list[float]:
    """Each case's membership in one corner of the property space (an AND of conditions
    or their negations)."""
    columns = [
        data.column(name) if present else negation(data.column(name))
        for name, present in zip(conditions, configuration, strict=True)
    ]
    return intersection(*columns)


def _outcome_values(data: SetData, outcome: str, negate: bool) -> list[float]:
    values = list(data.column(outcome))
    return negation(values) if negate else values


def _check_conditions(outcome: str, conditions: Sequence[str]) -> None:
    if not conditions:
        raise QCAError("at least one condition is needed")
    if len(set(conditions)) != len(conditions):
        raise QCAError(f"a condition is listed twice: {', '.join(conditions)}")
    if outcome in conditions:
        raise QCAError(f"the outcome {outcome!r} cannot also be a condition")
    if len(conditions) > 16:
        raise QCAError(
            f"{len(conditions)} conditions give 2^{len(conditions)} configurations; "
            "QCA here is limited to 16"
        )


def truth_table(
    data: SetData,
    *,
    outcome: str,
    conditions: Sequence[str],
    incl_cut: float = 1.0,
    n_cut: int = 1,
    negate_outcome: bool = False,
) -> TruthTable:
    """Sort cases into configurations and decide which configurations are sufficient.

    A case belongs to the configuration in which its membership exceeds 0.5. A row with at
    least ``n_cut`` cases is positive when its consistency reaches ``incl_cut`` and
    negative otherwise; rows with fewer cases are logical remainders.
    """
    _check_conditions(outcome, conditions)
    if not 0.0 <= incl_cut <= 1.0:
        raise QCAError(f"the inclusion cut-off must lie in [0, 1] (got {incl_cut})")
    if n_cut < 1:
        raise QCAError(f"the frequency cut-off must be at least 1 (got {n_cut})")
    y = _outcome_values(data, outcome, negate_outcome)
    width = len(conditions)
    rows = []
    assigned: set[str] = set()
    for number in range(1 << width):
        configuration = tuple((number >> (width - 1 - i)) & 1 for i in range(width))
        membership = configuration_memberships(data, conditions, configuration)
        cases = tuple(c for c, m in zip(data.case_ids, membership, strict=True) if m > 0.5)
        assigned.update(cases)
        fit = sufficiency(membership, y)
        if len(cases) < n_cut:
            verdict = REMAINDER
        elif fit.consistency is not None and fit.consistency >= incl_cut - TOLERANCE:
            verdict = POSITIVE
        else:
            verdict = NEGATIVE
        rows.append(
            TruthTableRow(
                number=number + 1,
                configuration=configuration,
                n=len(cases),
                consistency=fit.consistency,
                pri=fit.pri,
                outcome=verdict,
                cases=cases,
            )
        )
    return TruthTable(
        outcome=f"~{outcome}" if negate_outcome else outcome,
        conditions=tuple(conditions),
        incl_cut=incl_cut,
        n_cut=n_cut,
        rows=tuple(rows),
        unassigned_cases=tuple(c for c in data.case_ids if c not in assigned),
    )


# ---------------------------------------------------------------------------------------
# Solutions


@dataclass(frozen=True)
class Term:
    expression: str
    literals: tuple[tuple[str, bool], ...]  # (condition, present?) in condition order
    consistency: float | None
    pri: float | None
    raw_coverage: float | None
    unique_coverage: float | None
    cases: tuple[str, ...]  # cases with membership above 0.5 in the term


@dataclass(frozen=True)
class Solution:
    terms: tuple[Term, ...]
    consistency: float | None
    pri: float | None
    coverage: float | None

    @property
    def expression(self) -> str:
        return " + ".join(term.expression for term in self.terms)


@dataclass(frozen=True)
class QCAResult:
    truth_table: TruthTable
    remainders_included: bool
    solutions: tuple[Solution, ...]
    crisp: bool
    necessity: tuple[tuple[str, NecessityFit], ...] = field(default=())

    @property
    def solution_type(self) -> str:
        return "parsimonious" if self.remainders_included else "complex"


def literal_text(condition: str, present: bool) -> str:
    return condition if present else f"~{condition}"


def expression_of(literals: Sequence[tuple[str, bool]]) -> str:
    # A term with no literals is the whole universe: the outcome follows from anything.
    return "*".join(literal_text(c, p) for c, p in literals) or "1"


def _term_memberships(data: SetData, literals: Sequence[tuple[str, bool]]) -> list[float]:
    if not literals:
        return [1.0] * len(data.case_ids)
    return intersection(
        *(data.column(c) if present else negation(data.column(c)) for c, present in literals)
    )


def _term_order(implicant: Implicant, width: int) -> tuple:
    # R's QCA lists shorter terms first, then by the conditions they keep in column order,
    # a present condition before its negation.
    codes = []
    for index in range(width):
        bit = 1 << (width - 1 - index)
        codes.append(0 if implicant.mask & bit else (2 if implicant.value & bit else 1))
    return (width - bin(implicant.mask).count("1"), tuple(-c for c in codes))


def _fitted_solution(
    data: SetData, conditions: Sequence[str], y: Sequence[float], cover: Sequence[Implicant]
) -> Solution:
    width = len(conditions)
    ordered = sorted(cover, key=lambda imp: _term_order(imp, width))
    literal_sets = [
        tuple((conditions[i], present) for i, present in imp.literals(width)) for imp in ordered
    ]
    memberships = [_term_memberships(data, literals) for literals in literal_sets]
    whole = union(*memberships)
    whole_fit = sufficiency(whole, y)
    terms = []
    for index, (literals, membership) in enumerate(zip(literal_sets, memberships, strict=True)):
        fit = sufficiency(membership, y)
        others = [m for j, m in enumerate(memberships) if j != index]
        without = sufficiency(union(*others), y).coverage if others else 0.0
        unique = None
        if whole_fit.coverage is not None and without is not None:
            unique = whole_fit.coverage - without
        terms.append(
            Term(
                expression=expression_of(literals),
                literals=literals,
                consistency=fit.consistency,
                pri=fit.pri,
                raw_coverage=fit.coverage,
                unique_coverage=unique,
                cases=tuple(c for c, m in zip(data.case_ids, membership, strict=True) if m > 0.5),
            )
        )
    return Solution(
        terms=tuple(terms),
        consistency=whole_fit.consistency,
        pri=whole_fit.pri,
        coverage=whole_fit.coverage,
    )


def solve(
    data: SetData, table: TruthTable, *, include_remainders: bool, negate_outcome: bool
) -> tuple[Solution, ...]:
    """Minimise the positive rows of the truth table: the complex solution uses them alone,
    the parsimonious one may also assume any logical remainder is positive."""
    positives = [row.number - 1 for row in table.with_outcome(POSITIVE)]
    if not positives:
        return ()
    remainders = (
        [row.number - 1 for row in table.with_outcome(REMAINDER)] if include_remainders else []
    )
    width = len(table.conditions)
    outcome = table.outcome.removeprefix("~")
    y = _outcome_values(data, outcome, negate_outcome)
    covers = minimise(positives, remainders, width=width)
    solutions = [_fitted_solution(data, table.conditions, y, cover) for cover in covers]
    solutions.sort(key=lambda s: (sum(len(t.literals) for t in s.terms), s.expression))
    return tuple(solutions)


def necessity_analysis(
    data: SetData, *, outcome: str, conditions: Sequence[str], negate_outcome: bool = False
) -> tuple[tuple[str, NecessityFit], ...]:
    """Necessity of each condition and of its negation for the outcome."""
    _check_conditions(outcome, conditions)
    y = _outcome_values(data, outcome, negate_outcome)
    results = []
    for name in conditions:
        for present in (True, False):
            x = list(data.column(name)) if present else negation(data.column(name))
            results.append((literal_text(name, present), necessity(x, y)))
    return tuple(results)


def analyse(
    data: SetData,
    *,
    outcome: str,
    conditions: Sequence[str],
    incl_cut: float = 1.0,
    n_cut: int = 1,
    include_remainders: bool = False,
    negate_outcome: bool = False,
    with_necessity: bool = False,
) -> QCAResult:
    """Truth table, solutions and (optionally) necessity for one outcome."""
    table = truth_table(
        data,
        outcome=outcome,
        conditions=conditions,
        incl_cut=incl_cut,
        n_cut=n_cut,
        negate_outcome=negate_outcome,
    )
    solutions = solve(
        data, table, include_remainders=include_remainders, negate_outcome=negate_outcome
    )
    return QCAResult(
        truth_table=table,
        remainders_included=include_remainders,
        solutions=solutions,
        crisp=data.is_crisp([*conditions, outcome]),
        necessity=(
            necessity_analysis(
                data, outcome=outcome, conditions=conditions, negate_outcome=negate_outcome
            )
            if with_necessity
            else ()
        ),
    )


def result_as_dict(result: QCAResult, *, source: str) -> dict:
    table = result.truth_table
    return {
        "source": source,
        "outcome": table.outcome,
        "conditions": list(table.conditions),
        "set_type": "crisp" if result.crisp else "fuzzy",
        "incl_cut": table.incl_cut,
        "n_cut": table.n_cut,
        "remainders": "include" if result.remainders_included else "exclude",
        "solution_type": result.solution_type,
        "truth_table": [
            {
                "row": row.number,
                "configuration": dict(zip(table.conditions, row.configuration, strict=True)),
                "outcome": row.outcome,
                "n": row.n,
                "incl": row.consistency,
                "pri": row.pri,
                "cases": list(row.cases),
            }
            for row in table.observed_rows
        ],
        "unassigned_cases": list(table.unassigned_cases),
        "solutions": [
            {
                "model": f"M{number}",
                "expression": solution.expression,
                "consistency": solution.consistency,
                "pri": solution.pri,
                "coverage": solution.coverage,
                "terms": [
                    {
                        "term": term.expression,
                        "consistency": term.consistency,
                        "pri": term.pri,
                        "raw_coverage": term.raw_coverage,
                        "unique_coverage": term.unique_coverage,
                        "cases": list(term.cases),
                    }
                    for term in solution.terms
                ],
            }
            for number, solution in enumerate(result.solutions, start=1)
        ],
        "necessity": [{"condition": name, **asdict(fit)} for name, fit in result.necessity],
    }
