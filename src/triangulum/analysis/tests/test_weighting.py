import numpy as np
import pandas as pd
import pytest

from triangulum.analysis import weighting


def units():
    # Region A: 6 eligible, 3 respond; region B: 4 eligible, 1 responds.
    return pd.DataFrame(
        {
            "region": ["A"] * 6 + ["B"] * 4,
            "role": ["gp", "gp", "chair", "chair", "gp", "chair", "gp", "gp", "chair", "chair"],
            "responded": [1, 1, 1, 0, 0, 0, 1, 0, 0, 0],
        }
    )


def test_class_adjustment_by_hand():
    result = weighting.weighting_class_adjustment(
        units(), responded="responded", classes=["region"], min_respondents=1
    )
    assert list(result.weights) == pytest.approx([2.0, 2.0, 2.0, 4.0])
    assert result.weights.sum() == pytest.approx(10)
    assert result.collapsed == []


def test_small_cells_are_merged_into_the_coarser_class():
    result = weighting.weighting_class_adjustment(
        units(), responded="responded", classes=["region", "role"], min_respondents=1
    )
    # B | chair has no respondent: it merges into B | * with B's gp cell.
    assert any(entry.startswith("B | chair") for entry in result.collapsed)
    assert result.weights.sum() == pytest.approx(10)


def test_raking_converges_to_both_margins():
    rng = np.random.default_rng(1)
    data = pd.DataFrame(
        {"sex": rng.choice(["f", "m"], 300), "age": rng.choice(["y", "m", "o"], 300)}
    )
    margins = {"sex": {"f": 520, "m": 480}, "age": {"y": 300, "m": 400, "o": 300}}
    result = weighting.rake(np.ones(300), data, margins)
    assert result.converged
    for column, totals in margins.items():
        for level, total in totals.items():
            assert result.weights[data[column] == level].sum() == pytest.approx(total, rel=1e-7)


def test_raking_names_a_level_without_a_target():
    data = pd.DataFrame({"sex": ["f", "m", "x"]})
    with pytest.raises(weighting.WeightingError, match="'sex' has no total for level 'x'"):
        weighting.rake(np.ones(3), data, {"sex": {"f": 1, "m": 1}})


def test_trimming_caps_and_keeps_the_total():
    w = np.array([1.0] * 9 + [20.0])
    result = weighting.trim(w, ratio=3.0)
    assert result.cap == pytest.approx(3.0)
    assert result.weights.max() <= result.cap + 1e-9
    assert result.weights.sum() == pytest.approx(w.sum())
    assert result.trimmed == 1


def test_respondents_compared_with_frame():
    frame = pd.DataFrame({"region": ["A", "A", "B", "B"]})
    respondents = pd.DataFrame({"region": ["A", "A", "B"]})
    table = weighting.compare_with_frame(frame, respondents, [1, 1, 2], ["region"])
    row_b = table[table["level"] == "B"].iloc[0]
    assert row_b["frame_share"] == 0.5 and row_b["respondent_share"] == pytest.approx(1 / 3)
    assert row_b["weighted_share"] == pytest.approx(0.5)
