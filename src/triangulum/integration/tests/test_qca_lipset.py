"""Lipset's crisp-set data on the survival of democracy in inter-war Europe.

Published results reproduced here:

* Rihoux, B. & De Meur, G. (2009) "Crisp-Set Qualitative Comparative Analysis (csQCA)", in
  Rihoux, B. & Ragin, C. C. (eds.) *Configurational Comparative Methods*, SAGE, ch. 3:
  the conservative (complex) solution for SURV, remainders excluded, p. 57:
  DEV*~URB*LIT*STB + DEV*LIT*IND*STB, and the parsimonious solution with remainders
  included, DEV*STB.
* Both, with their parameters of fit (inclS, PRI, covS, covU) and the truth table with its
  cases, as printed in the examples of `minimize()` in the R package QCA (A. Dusa; manual
  page "minimize", section "Lipset binary crisp data", which cites Rihoux & De Meur 2009,
  p. 57 for the conservative solution). The same page gives the solutions for the negated
  outcome: ~DEV*~URB*~IND + DEV*LIT*IND*~STB (complex) and ~DEV + ~STB (parsimonious).
  We read the book's results through that manual; the book itself was not at hand.

The data file and its sources are described in fixtures/README.md.
"""

from pathlib import Path

import pytest

from triangulum.integration.qca import NEGATIVE, POSITIVE, analyse, truth_table
from triangulum.integration.qca_table import read_set_table

LIPSET = Path(__file__).parent / "fixtures" / "lipset_crisp.csv"
CONDITIONS = ("DEV", "URB", "LIT", "IND", "STB")


@pytest.fixture(scope="module")
def lipset():
    table = read_set_table(LIPSET, outcome="SURV")
    assert table.conditions == CONDITIONS
    assert table.case_id_column == "CASE"
    return table.data


def test_truth_table_matches_the_published_one(lipset):
    table = truth_table(lipset, outcome="SURV", conditions=CONDITIONS)
    observed = {
        row.number: (row.configuration, row.outcome, row.n, row.consistency, set(row.cases))
        for row in table.observed_rows
    }
    assert observed == {
        32: ((1, 1, 1, 1, 1), POSITIVE, 4, 1.0, {"BE", "CZ", "NL", "UK"}),
        22: ((1, 0, 1, 0, 1), POSITIVE, 2, 1.0, {"FI", "IE"}),
        24: ((1, 0, 1, 1, 1), POSITIVE, 2, 1.0, {"FR", "SE"}),
        1: ((0, 0, 0, 0, 0), NEGATIVE, 3, 0.0, {"GR", "PT", "ES"}),
        2: ((0, 0, 0, 0, 1), NEGATIVE, 2, 0.0, {"IT", "RO"}),
        5: ((0, 0, 1, 0, 0), NEGATIVE, 2, 0.0, {"HU", "PL"}),
        6: ((0, 0, 1, 0, 1), NEGATIVE, 1, 0.0, {"EE"}),
        23: ((1, 0, 1, 1, 0), NEGATIVE, 1, 0.0, {"AU"}),
        31: ((1, 1, 1, 1, 0), NEGATIVE, 1, 0.0, {"DE"}),
    }
    assert len(table.rows) == 32 and len(table.observed_rows) == 9


def test_complex_solution_remainders_excluded(lipset):
    """Rihoux & De Meur (2009, p. 57); fit as printed by R's QCA minimize(ttLC, details=TRUE)."""
    result = analyse(lipset, outcome="SURV", conditions=CONDITIONS, include_remainders=False)
    assert result.solution_type == "complex" and result.crisp
    (solution,) = result.solutions
    assert solution.expression == "DEV*~URB*LIT*STB + DEV*LIT*IND*STB"
    first, second = solution.terms
    assert (first.consistency, first.pri) == (1.0, 1.0)
    assert first.raw_coverage == pytest.approx(0.5)
    assert first.unique_coverage == pytest.approx(0.25)
    assert set(first.cases) == {"FI", "IE", "FR", "SE"}
    assert second.raw_coverage == pytest.approx(0.75)
    assert second.unique_coverage == pytest.approx(0.5)
    assert set(second.cases) == {"FR", "SE", "BE", "CZ", "NL", "UK"}
    assert (solution.consistency, solution.coverage) == (1.0, 1.0)


def test_parsimonious_solution_remainders_included(lipset):
    """Rihoux & De Meur (2009), ch. 3, as reproduced by R's QCA minimize(ttLC, include = "?")."""
    result = analyse(lipset, outcome="SURV", conditions=CONDITIONS, include_remainders=True)
    assert result.solution_type == "parsimonious"
    (solution,) = result.solutions
    assert solution.expression == "DEV*STB"
    (term,) = solution.terms
    assert (term.consistency, term.raw_coverage) == (1.0, 1.0)
    assert set(term.cases) == {"FI", "IE", "FR", "SE", "BE", "CZ", "NL", "UK"}


def test_negated_outcome_solutions(lipset):
    """R's QCA manual, minimize() examples: ttLCn <- truthTable(LC, "~SURV")."""
    complex_ = analyse(lipset, outcome="SURV", conditions=CONDITIONS, negate_outcome=True)
    assert [s.expression for s in complex_.solutions] == ["~DEV*~URB*~IND + DEV*LIT*IND*~STB"]
    parsimonious = analyse(
        lipset, outcome="SURV", conditions=CONDITIONS, negate_outcome=True, include_remainders=True
    )
    (solution,) = parsimonious.solutions
    assert solution.expression == "~DEV + ~STB"
    not_dev, not_stb = solution.terms
    # Published: ~DEV covS 0.800 covU 0.300; ~STB covS 0.700 covU 0.200.
    assert (not_dev.raw_coverage, not_dev.unique_coverage) == pytest.approx((0.8, 0.3))
    assert (not_stb.raw_coverage, not_stb.unique_coverage) == pytest.approx((0.7, 0.2))


def test_necessity_of_development_for_survival(lipset):
    result = analyse(lipset, outcome="SURV", conditions=CONDITIONS, with_necessity=True)
    fits = dict(result.necessity)
    # Every one of the 8 survivors is developed (10 developed in all): consistency 8/8,
    # coverage 8/10; RoN = Σ(1−DEV)/Σ(1−DEV∩SURV) = 8/10.
    assert fits["DEV"].consistency == 1.0
    assert fits["DEV"].coverage == pytest.approx(0.8)
    assert fits["DEV"].relevance == pytest.approx(0.8)
    # Literacy is as consistent but more trivial: 13 of 18 are literate.
    assert fits["LIT"].consistency == 1.0
    assert fits["LIT"].coverage == pytest.approx(8 / 13)
    assert fits["LIT"].relevance == pytest.approx(5 / 10)
