import numpy as np
import polars as pl
import pytest
import svy
from scipy import stats

from triangulum.analysis import comparisons, likert
from triangulum.analysis.linearised import DesignArrays

ITEM = likert.LikertItem(
    "q",
    "Question",
    ("sd", "d", "a", "sa"),
    ("Strongly disagree", "Disagree", "Agree", "Strongly agree"),
)


def test_dont_know_and_not_applicable_are_out_of_every_denominator():
    values = np.array(
        ["sd", "d", "a", "sa", "sa", "dont_know", "dont_know", "not_applicable", None], dtype=object
    )
    out = likert.distribution(DesignArrays(weights=np.ones(len(values))), values, ITEM)
    shares = {r["answer"]: r["share"] for r in out["rows"]}
    assert shares["sa"] == pytest.approx(2 / 5)
    assert sum(r["share"] for r in out["rows"] if r["substantive"]) == pytest.approx(1)
    assert shares["dont_know"] == pytest.approx(2 / 8)  # of the 8 asked, reported apart
    assert out["agree"]["share"] == pytest.approx(3 / 5)
    assert out["agree"]["n_excluded"] == 3


def test_feldt_interval_and_item_rest():
    rng = np.random.default_rng(2)
    latent = rng.normal(size=200)
    scores = np.column_stack([latent + rng.normal(size=200) for _ in range(4)])
    scores[0, 1] = np.nan
    out = likert.reliability(scores, ["a", "b", "c", "d"])
    complete = scores[1:]
    k, n = 4, 199
    alpha = (
        k / (k - 1) * (1 - complete.var(axis=0, ddof=1).sum() / complete.sum(axis=1).var(ddof=1))
    )
    assert out["alpha"] == pytest.approx(alpha)
    assert out["ci_low"] == pytest.approx(
        1 - (1 - alpha) * stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    )
    assert out["n_dropped"] == 1
    rest = complete[:, 1:].sum(axis=1)
    assert out["item_rest"][0]["item_rest_correlation"] == pytest.approx(
        np.corrcoef(complete[:, 0], rest)[0, 1]
    )


def test_rao_scott_matches_svy():
    rng = np.random.default_rng(5)
    n = 900
    psu = rng.integers(0, 60, n)
    stratum = psu % 3
    group = rng.choice(["g1", "g2", "g3"], n)
    answer = np.where(
        rng.random(n) < 0.3 + 0.1 * (group == "g1"), "yes", rng.choice(["no", "maybe"], n)
    )
    weights = rng.uniform(1, 3, n)
    design = DesignArrays(weights=weights, strata=stratum, clusters=psu)
    ours = comparisons.rao_scott(
        design, group, answer, rows=["g1", "g2", "g3"], columns=["maybe", "no", "yes"]
    )
    frame = pl.DataFrame(
        {"st": stratum.astype(str), "psu": psu, "w": weights, "g": group, "a": answer}
    )
    theirs = (
        svy.Sample(frame, svy.Design(stratum="st", psu="psu", wgt="w"))
        .categorical.tabulate("g", "a")
        .stats
    )
    # svy prints the uncorrected Pearson statistic beside the first-order corrected p-value;
    # R (and we) report the corrected statistic itself.
    assert ours.pearson == pytest.approx(theirs.chisq.value, rel=1e-6)
    assert ours.chisq_p == pytest.approx(theirs.chisq.p_value, rel=1e-6)
    assert ours.chisq == pytest.approx(ours.pearson * 4 / (ours.mean_deff * 4))
    assert ours.f == pytest.approx(theirs.f.value, rel=1e-6)
    assert ours.f_df_num == pytest.approx(theirs.f.df_num, rel=1e-6)
    assert ours.f_p == pytest.approx(theirs.f.p_value, rel=1e-5)


def test_odds_ratios_find_a_planted_role_contrast():
    rng = np.random.default_rng(3)
    import pandas as pd

    group = rng.choice(["senior", "finance"], 600)
    latent = rng.logistic(size=600) + np.where(group == "senior", 1.0, 0.0)
    levels = ["low", "mid", "high", "top"]
    answer = np.array(levels, dtype=object)[np.searchsorted([-1, 0.5, 2], latent)]
    answer[:10] = "dont_know"
    rows = comparisons.odds_ratios_by_group(
        pd.DataFrame({"y": answer, "g": group}), "y", levels, "g", "finance"
    )
    assert rows[0]["group"] == "senior" and rows[0]["n"] == 590
    assert rows[0]["ci_low"] < np.exp(1.0) < rows[0]["ci_high"]
    assert rows[0]["ci_low"] > 1
