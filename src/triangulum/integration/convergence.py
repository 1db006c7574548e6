"""The triangulation protocol's arithmetic: convergence codes compared, settled and summed up.

Farmer et al. (2006): for every theme, each pair of strands is coded as agreement, partial
agreement, silence or dissonance by two or more researchers independently; their agreement
is measured, the team settles one code per pair, and a completeness summary says what each
strand contributed that no other did. A *unit* is one theme and one (ordered) pair of
strands; with the four strands of the design, each theme has six units.

No Django here: themes, strands and coders are plain keys (ids or names). The kappas come
from ``casework.agreement`` (statsmodels underneath, see ADR 0007); this module builds
their inputs and shapes the tables the pages show.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from triangulum.casework.agreement import cohen_kappa, fleiss_kappa

# The values of integration.models.Strand and ConvergenceCode, in the design's order (a
# test checks they match the models).
STRANDS: tuple[str, ...] = ("pilot", "wave1", "indepth", "wave2")
CODES: tuple[str, ...] = ("agreement", "partial", "silence", "dissonance")
SURVEY_STRANDS = frozenset({"wave1", "wave2"})
CASE_STUDY_STRANDS = frozenset({"pilot", "indepth"})


class ConvergenceError(ValueError):
    """Codes or pairs that cannot be compared; the message names the unit at fault."""


def normalise_pair(strand_a: str, strand_b: str) -> tuple[str, str]:
    """The pair as stored: the two strand values in ascending (string) order.

    The database keeps each unordered pair once, with ``strand_a < strand_b``; a pair
    given either way round is the same pair.
    """
    for strand in (strand_a, strand_b):
        if strand not in STRANDS:
            raise ConvergenceError(
                f'"{strand}" is not a strand; choose from: {", ".join(STRANDS)}.'
            )
    if strand_a == strand_b:
        raise ConvergenceError(
            f'A convergence code compares two different strands, not "{strand_a}" with itself.'
        )
    return (strand_a, strand_b) if strand_a < strand_b else (strand_b, strand_a)


def strand_pairs(strands: Sequence[str] = STRANDS) -> list[tuple[str, str]]:
    """Every pair of the strands in the design's order of their first strand, normalised."""
    return [normalise_pair(a, b) for a, b in combinations(strands, 2)]


Unit = tuple[Hashable, str, str]  # (theme, strand_a, strand_b), pair normalised


def units_for(themes: Iterable[Hashable], strands: Sequence[str] = STRANDS) -> list[Unit]:
    """All units of the matrix: every theme with every pair of strands."""
    pairs = strand_pairs(strands)
    return [(theme, a, b) for theme in themes for a, b in pairs]


def collect_codes(
    rows: Iterable[tuple[Hashable, str, str, Hashable, str]],
) -> dict[Hashable, dict[Unit, str]]:
    """``(theme, strand_a, strand_b, coder, code)`` rows (e.g. from a ``values_list``) as
    ``{coder: {unit: code}}``, pairs normalised."""
    codes: dict[Hashable, dict[Unit, str]] = {}
    for theme, strand_a, strand_b, coder, code in rows:
        a, b = normalise_pair(strand_a, strand_b)
        codes.setdefault(coder, {})[(theme, a, b)] = code
    return codes


def _check_code(code: str, where: str) -> None:
    if code not in CODES:
        raise ConvergenceError(
            f'{where}: "{code}" is not a convergence code; use one of {", ".join(CODES)}.'
        )


# --------------------------------------------------------------------------- agreement


@dataclass(frozen=True)
class CoderAgreement:
    """Agreement between coders over the units every one of them coded."""

    coders: tuple[Hashable, ...]
    units: int  # units coded by every coder
    agreed: int  # units on which all coders gave the same code
    percent_agreement: float | None
    statistic: str  # "Cohen's kappa" (two coders) or "Fleiss' kappa" (more)
    kappa: float | None  # None where undefined (no units, or chance agreement certain)
    p_o: float | None = None  # Cohen only: observed and chance agreement
    p_e: float | None = None
    # Cohen only: rows coder 1's code, columns coder 2's, in CODES order.
    table: tuple[tuple[int, ...], ...] = ()
    # With more than two coders, Cohen's kappa for every pair of them as well.
    pairwise: tuple[tuple[Hashable, Hashable, float | None], ...] = ()
    # Units coded by some coders but not all (left out of the statistic).
    incomplete_units: int = 0


def _shared_units(codes_by_coder: Mapping[Hashable, Mapping[Unit, str]]) -> list[Unit]:
    coded = [set(codes) for codes in codes_by_coder.values()]
    shared = set.intersection(*coded) if coded else set()
    # A stable order (themes may be ints or text): by the text of each part.
    return sorted(shared, key=lambda unit: tuple(str(part) for part in unit))


def agreement(codes_by_coder: Mapping[Hashable, Mapping[Unit, str]]) -> CoderAgreement:
    """Cohen's kappa for two coders, Fleiss' kappa for three or more, over shared units.

    ``codes_by_coder`` maps each coder to ``{unit: code}``. Only units every coder coded
    count; how many others there were is reported, so a half-finished matrix is visible.
    """
    coders = tuple(codes_by_coder)
    if len(coders) < 2:
        raise ConvergenceError(
            f"Agreement needs at least two coders; {len(coders)} coded this matrix."
        )
    for coder, codes in codes_by_coder.items():
        for unit, code in codes.items():
            _check_code(code, f"coder {coder}, theme {unit[0]} ({unit[1]}/{unit[2]})")
    shared = _shared_units(codes_by_coder)
    every = set().union(*(set(codes) for codes in codes_by_coder.values()))
    incomplete = len(every) - len(shared)
    rows = [[codes_by_coder[coder][unit] for unit in shared] for coder in coders]
    agreed = sum(1 for column in zip(*rows, strict=True) if len(set(column)) == 1)
    percent = 100 * agreed / len(shared) if shared else None
    if len(coders) == 2:
        result = cohen_kappa(rows[0], rows[1])
        index = {code: i for i, code in enumerate(CODES)}
        table = [[0] * len(CODES) for _ in CODES]
        for first, second in zip(rows[0], rows[1], strict=True):
            table[index[first]][index[second]] += 1
        return CoderAgreement(
            coders=coders,
            units=len(shared),
            agreed=agreed,
            percent_agreement=percent,
            statistic="Cohen's kappa",
            kappa=result.kappa,
            p_o=result.p_o,
            p_e=result.p_e,
            table=tuple(tuple(row) for row in table),
            incomplete_units=incomplete,
        )
    kappa = fleiss_kappa(rows) if shared else None
    pairwise = tuple(
        (coders[i], coders[j], cohen_kappa(rows[i], rows[j]).kappa)
        for i, j in combinations(range(len(coders)), 2)
    )
    return CoderAgreement(
        coders=coders,
        units=len(shared),
        agreed=agreed,
        percent_agreement=percent,
        statistic="Fleiss' kappa",
        kappa=kappa,
        pairwise=pairwise,
        incomplete_units=incomplete,
    )


@dataclass(frozen=True)
class AgreementRow:
    """One unit of the agreement table: each coder's code, and the settled one."""

    theme: Hashable
    strand_a: str
    strand_b: str
    codes: dict  # coder -> code (absent where the coder has not coded the unit)
    agreed: bool | None  # None until every coder has coded the unit
    settled: str | None


def agreement_table(
    units: Iterable[Unit],
    codes_by_coder: Mapping[Hashable, Mapping[Unit, str]],
    settled: Mapping[Unit, str] | None = None,
) -> list[AgreementRow]:
    """One row per unit (in the given order) for the page that sets coders side by side."""
    settled = settled or {}
    rows = []
    for unit in units:
        theme, a, b = unit
        codes = {coder: codes[unit] for coder, codes in codes_by_coder.items() if unit in codes}
        complete = len(codes) == len(codes_by_coder) and len(codes) > 0
        rows.append(
            AgreementRow(
                theme=theme,
                strand_a=a,
                strand_b=b,
                codes=codes,
                agreed=(len(set(codes.values())) == 1) if complete else None,
                settled=settled.get(unit),
            )
        )
    return rows


# --------------------------------------------------------------------------- matrix view


@dataclass(frozen=True)
class MatrixCell:
    strand_a: str
    strand_b: str
    settled: str | None
    codes: dict  # coder -> code
    disagreement: bool  # the coders' codes differ (whatever was settled)


@dataclass(frozen=True)
class MatrixRow:
    theme: Hashable
    cells: tuple[MatrixCell, ...]
    settled_count: int
    counts: dict  # settled code -> how many of the row's pairs have it


@dataclass(frozen=True)
class SettledMatrix:
    pairs: tuple[tuple[str, str], ...]
    rows: tuple[MatrixRow, ...]
    totals: dict  # settled code -> count over the whole matrix
    units: int
    settled: int

    @property
    def complete(self) -> bool:
        return self.units > 0 and self.settled == self.units


def settled_matrix(
    themes: Sequence[Hashable],
    codes_by_coder: Mapping[Hashable, Mapping[Unit, str]],
    settled: Mapping[Unit, str],
    strands: Sequence[str] = STRANDS,
) -> SettledMatrix:
    """Themes × strand pairs: the settled code of each cell, with each coder's code."""
    pairs = tuple(strand_pairs(strands))
    rows = []
    totals = dict.fromkeys(CODES, 0)
    for theme in themes:
        cells = []
        counts = dict.fromkeys(CODES, 0)
        for a, b in pairs:
            unit = (theme, a, b)
            codes = {c: codes[unit] for c, codes in codes_by_coder.items() if unit in codes}
            code = settled.get(unit)
            if code is not None:
                _check_code(code, f"settled code for theme {theme} ({a}/{b})")
                counts[code] += 1
                totals[code] += 1
            cells.append(MatrixCell(a, b, code, codes, disagreement=len(set(codes.values())) > 1))
        rows.append(MatrixRow(theme, tuple(cells), sum(counts.values()), counts))
    return SettledMatrix(
        pairs=pairs,
        rows=tuple(rows),
        totals=totals,
        units=len(themes) * len(pairs),
        settled=sum(totals.values()),
    )


# --------------------------------------------------------------------------- completeness


@dataclass(frozen=True)
class StrandContribution:
    strand: str
    themes_covered: int  # themes on which this strand has at least one finding
    findings: int
    # Themes on which this strand alone has findings: what would be lost without it.
    unique_themes: tuple[Hashable, ...]
    # Settled "silence" codes involving this strand where it is the one that speaks.
    silences_it_fills: int = 0


@dataclass(frozen=True)
class Completeness:
    themes: int
    strands: tuple[StrandContribution, ...]
    # Theme -> strands with findings on it, in the design's order.
    coverage: dict = field(default_factory=dict)
    themes_without_findings: tuple[Hashable, ...] = ()
    # Themes every strand speaks to.
    themes_all_strands: tuple[Hashable, ...] = ()


def completeness(
    themes: Sequence[Hashable],
    findings: Iterable[tuple[Hashable, str]],
    settled: Mapping[Unit, str] | None = None,
    strands: Sequence[str] = STRANDS,
) -> Completeness:
    """What each strand contributed: coverage counts and the themes only it speaks to.

    ``findings`` is one ``(theme, strand)`` per finding (a finding with no theme is left
    out). A settled "silence" between two strands counts for the strand that has findings
    on the theme (the other is silent).
    """
    known = set(themes)
    count: dict[tuple[Hashable, str], int] = {}
    for theme, strand in findings:
        if theme is None:
            continue
        if strand not in strands:
            raise ConvergenceError(f'A finding names "{strand}", which is not a strand.')
        if theme not in known:
            raise ConvergenceError(f"A finding names theme {theme!r}, which is not listed.")
        count[(theme, strand)] = count.get((theme, strand), 0) + 1
    coverage = {
        theme: tuple(s for s in strands if count.get((theme, s), 0) > 0) for theme in themes
    }
    fills = dict.fromkeys(strands, 0)
    for (theme, a, b), code in (settled or {}).items():
        if code != "silence" or theme not in known:
            continue
        speaking = [s for s in (a, b) if s in coverage[theme]]
        if len(speaking) == 1:
            fills[speaking[0]] += 1
    contributions = tuple(
        StrandContribution(
            strand=strand,
            themes_covered=sum(1 for t in themes if strand in coverage[t]),
            findings=sum(n for (_, s), n in count.items() if s == strand),
            unique_themes=tuple(t for t in themes if coverage[t] == (strand,)),
            silences_it_fills=fills[strand],
        )
        for strand in strands
    )
    return Completeness(
        themes=len(themes),
        strands=contributions,
        coverage=coverage,
        themes_without_findings=tuple(t for t in themes if not coverage[t]),
        themes_all_strands=tuple(t for t in themes if len(coverage[t]) == len(strands)),
    )
