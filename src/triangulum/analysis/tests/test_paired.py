"""McNemar and Stuart-Maxwell for two-wave paired data."""

from fractions import Fraction

import pytest
from scipy import stats

from triangulum.analysis.paired import PairedTableError, mcnemar, stuart_maxwell

TABLE = [[23, 15], [19, 31]]


def test_mcnemar_without_correction_matches_the_reference():
    result = mcnemar(TABLE, correction=False)
    assert abs(result.statistic - 0.470588) <= 0.5e-6
    assert abs(result.p_value - 0.49272) <= 0.5e-5
    assert result.df == 1


def test_mcnemar_with_continuity_correction_matches_the_reference():
    result = mcnemar(TABLE)
    assert abs(result.statistic - 0.264706) <= 0.5e-6
    assert abs(result.p_value - 0.60691) <= 0.5e-5


def test_stuart_maxwell_equals_the_hand_computation():
    table = [[20, 10, 5], [3, 30, 15], [0, 5, 40]]
    # Margins: rows 35, 48, 45; columns 23, 45, 60, so d = (12, 3). The covariance
    # S has S11 = 35 + 23 - 40 = 18, S22 = 48 + 45 - 60 = 33, S12 = -(10 + 3) = -13;
    # det S = 425 and d' S^-1 d = (33*144 + 2*13*36 + 18*9) / 425 = 5850 / 425.
    expected = Fraction(5850, 425)
    result = stuart_maxwell(table)
    assert result.statistic == pytest.approx(float(expected), rel=1e-12)
    assert result.df == 2
    assert result.p_value == pytest.approx(stats.chi2.sf(float(expected), 2))


def test_stuart_maxwell_on_symmetric_margins_is_zero():
    assert stuart_maxwell([[10, 4, 1], [4, 12, 3], [1, 3, 9]]).statistic == pytest.approx(0.0)


def test_tables_are_checked():
    with pytest.raises(PairedTableError, match="2x2"):
        mcnemar([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    with pytest.raises(PairedTableError, match="No discordant pairs"):
        mcnemar([[5, 0], [0, 7]])
    with pytest.raises(PairedTableError, match=r"Cell \(row 2, column 1\)"):
        stuart_maxwell([[1, 2], [-1, 3]])
