"""Cronbach's alpha with Feldt's interval, checked by hand."""

import numpy as np
import pytest

from triangulum.analysis.reliability import ScaleDataError, cronbach_alpha


def test_alpha_and_feldt_interval_by_hand():
    # Items (1,2,3,4) and (2,1,4,3): each has variance 5/3, the totals (3,3,7,7) have
    # 16/3, so alpha = 2 * (1 - (10/3)/(16/3)) = 0.75. Feldt with n = 4, k = 2 uses
    # F(3, 3); the 97.5% point is 15.44 (printed F tables), and with equal df the
    # 2.5% point is its reciprocal: bounds 1 - 0.25*15.44 and 1 - 0.25/15.44.
    result = cronbach_alpha([[1, 2], [2, 1], [3, 4], [4, 3]])
    assert result.alpha == pytest.approx(0.75)
    assert result.ci_low == pytest.approx(1 - 0.25 * 15.44, abs=0.005)
    assert result.ci_high == pytest.approx(1 - 0.25 / 15.44, abs=0.0005)
    assert (result.n, result.items) == (4, 2)


def test_parallel_items_have_alpha_one():
    item = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    assert cronbach_alpha(np.column_stack([item, item, item])).alpha == pytest.approx(1.0)


def test_wider_level_gives_wider_interval():
    rng = np.random.default_rng(7)  # simulated scores, for the property only
    scores = rng.integers(1, 6, size=(40, 5)) + rng.integers(0, 3, size=(40, 1))
    narrow, wide = cronbach_alpha(scores, level=0.8), cronbach_alpha(scores, level=0.99)
    assert wide.ci_low < narrow.ci_low < narrow.alpha < narrow.ci_high < wide.ci_high


def test_missing_score_is_named():
    with pytest.raises(ScaleDataError, match=r"Item 2 is missing for respondent \(row\) 3"):
        cronbach_alpha([[1, 2], [2, 3], [3, np.nan]])
