"""The vectorised linearisation agrees with estimation.estimate (svy, checked against R)."""

import numpy as np
import polars as pl
import pytest

from triangulum.analysis.estimation import Design, estimate
from triangulum.analysis.linearised import DesignArrays, LinearisationError, kish_deff, shares


@pytest.fixture
def clustered():
    rng = np.random.default_rng(7)
    rows = []
    for stratum in range(3):
        for psu in range(6):
            members = int(rng.integers(9, 15))
            for unit in range(int(rng.integers(3, members))):
                rows.append(
                    (
                        stratum,
                        psu,
                        unit,
                        9,
                        members,
                        float(rng.uniform(1, 4)),
                        str(rng.choice(["low", "mid", "high", "dont_know"])),
                        str(rng.choice(["a", "b"])),
                    )
                )
    return pl.DataFrame(rows, schema=["st", "psu", "ssu", "N", "M", "w", "y", "g"], orient="row")


def arrays(df, **extra):
    return DesignArrays(
        weights=df["w"].to_numpy(),
        strata=df["st"].to_numpy(),
        clusters=df["psu"].to_numpy(),
        **extra,
    )


def test_shares_match_svy_for_a_stratified_cluster_design(clustered):
    table = shares(arrays(clustered), clustered["y"].to_numpy(), ["low", "mid", "high"])
    # The same share through svy: "don't know" rows leave the domain, not the design.
    substantive = clustered.with_columns((pl.col("y") != "dont_know").alias("sub"))
    reference = estimate(
        substantive,
        "y=mid",
        design=Design(strata="st", clusters=("psu",), weights="w"),
        statistic="proportion",
        domain=("sub", "true"),
    )
    assert table.estimate[1] == pytest.approx(reference.estimate, abs=1e-12)
    assert table.se[1] == pytest.approx(reference.se, rel=1e-9)
    assert table.df == reference.df
    low, high = table.logit_interval()
    assert (low[1], high[1]) == pytest.approx((reference.ci_low, reference.ci_high), rel=1e-9)
    assert table.estimate.sum() == pytest.approx(1.0)


def test_domain_and_two_stage_fpc_match_svy(clustered):
    design = arrays(
        clustered,
        psu_population=clustered["N"].to_numpy(),
        unit_population=clustered["M"].to_numpy(),
    )
    table = shares(
        design,
        clustered["y"].to_numpy(),
        ["low", "mid", "high", "dont_know"],
        domain=clustered["g"].to_numpy() == "a",
    )
    reference = estimate(
        clustered,
        "y=high",
        design=Design(strata="st", clusters=("psu", "ssu"), weights="w", fpc=("N", "M")),
        statistic="proportion",
        domain="g=a",
    )
    assert table.estimate[2] == pytest.approx(reference.estimate, abs=1e-12)
    assert table.se[2] == pytest.approx(reference.se, rel=1e-9)


def test_kish_design_effect_by_hand():
    # Weights 1, 1, 2, 4: n Σw² / (Σw)² = 4 × 22 / 64 = 1.375.
    assert kish_deff([1, 1, 2, 4]) == pytest.approx(1.375)
    assert kish_deff([3, 3, 3]) == pytest.approx(1.0)


def test_bad_weights_and_fpc_are_named():
    with pytest.raises(LinearisationError, match="data row 2"):
        DesignArrays(weights=np.array([1.0, -1.0]))
    design = DesignArrays(
        weights=np.ones(4), clusters=np.array([1, 2, 3, 4]), psu_population=np.full(4, 3)
    )
    with pytest.raises(LinearisationError, match="fpc"):
        shares(design, np.array(["a", "b", "a", "b"]), ["a", "b"])
