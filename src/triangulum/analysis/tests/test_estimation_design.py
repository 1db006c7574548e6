"""Designs beyond the reference rows, checked against direct re-computations."""

import math
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from scipy import stats

from triangulum.analysis.estimation import Design, EstimationError, estimate, parse_margin, rake

from .survey_reference import (
    domain_mean_and_se,
    linearised_variance,
    read_api,
    total_and_se,
)

CLUSTER1 = Design(clusters=("dnum",), weights="pw", fpc=("fpc",))
CLUSTER2 = Design(clusters=("dnum", "snum"), weights="pw", fpc=("fpc1", "fpc2"))


def column(frame, name):
    return frame[name].to_numpy().astype(float)


def test_two_stage_mean_matches_the_multistage_formula():
    data = read_api("apiclus2.csv")
    result = estimate(data, "api00", design=CLUSTER2)
    mean, se = domain_mean_and_se(
        column(data, "api00"),
        column(data, "pw"),
        np.ones(data.height, bool),
        np.zeros(data.height),
        data["dnum"].to_numpy(),
        column(data, "fpc1"),
        column(data, "fpc2"),
    )
    assert result.estimate == pytest.approx(mean, rel=1e-12)
    assert result.se == pytest.approx(se, rel=1e-9)
    assert result.df == data["dnum"].n_unique() - 1


def test_two_stage_total_is_horvitz_thompson_with_missing_rows_kept_in_the_design():
    data = read_api("apiclus2.csv")
    assert data["enroll"].null_count() > 0
    result = estimate(data, "enroll", design=CLUSTER2, statistic="total", drop_missing=True)
    enroll = np.nan_to_num(column(data, "enroll"))
    total, se = total_and_se(
        enroll,
        column(data, "pw"),
        np.zeros(data.height),
        data["dnum"].to_numpy(),
        column(data, "fpc1"),
        column(data, "fpc2"),
    )
    assert result.estimate == pytest.approx(float((column(data, "pw") * enroll).sum()), rel=1e-12)
    assert result.estimate == pytest.approx(total, rel=1e-12)
    assert result.se == pytest.approx(se, rel=1e-9)
    assert result.n == data["enroll"].drop_nulls().len()


def test_second_stage_fpc_adds_the_within_cluster_term():
    data = read_api("apiclus2.csv")
    one_stage = estimate(
        data, "api00", design=Design(clusters=("dnum", "snum"), weights="pw", fpc=("fpc1",))
    )
    two_stage = estimate(data, "api00", design=CLUSTER2)
    assert two_stage.se > one_stage.se


@pytest.mark.parametrize("school_type", ["E", "H", "M"])
def test_domain_mean_uses_the_full_design(school_type):
    data = read_api("apiclus1.csv")
    result = estimate(data, "api00", design=CLUSTER1, domain=f"stype={school_type}")
    in_domain = (data["stype"] == school_type).to_numpy()
    mean, se = domain_mean_and_se(
        column(data, "api00"),
        column(data, "pw"),
        in_domain,
        np.zeros(data.height),
        data["dnum"].to_numpy(),
        column(data, "fpc"),
    )
    assert result.estimate == pytest.approx(mean, rel=1e-12)
    assert result.se == pytest.approx(se, rel=1e-9)
    assert result.n == int(in_domain.sum())
    # R's degf() of a subset counts the PSUs that hold domain members.
    assert result.df == data.filter(pl.col("stype") == school_type)["dnum"].n_unique() - 1


def test_domain_differs_from_filtering_the_rows_first():
    data = read_api("apiclus1.csv")
    domain = estimate(data, "api00", design=CLUSTER1, domain=("stype", "H"))
    filtered = estimate(data.filter(pl.col("stype") == "H"), "api00", design=CLUSTER1)
    assert domain.estimate == pytest.approx(filtered.estimate)
    assert domain.se != pytest.approx(filtered.se, rel=1e-3)


def test_domain_on_a_numeric_column_compares_numbers():
    data = read_api("apiclus1.csv")
    by_number = estimate(data, "api00", design=CLUSTER1, domain="cnum=1")
    assert by_number.n == int((data["cnum"] == 1).sum())


def test_proportion_has_the_logit_interval_on_design_df():
    data = read_api("apiclus1.csv")
    result = estimate(data, "sch.wide=Yes", design=CLUSTER1, statistic="proportion")
    indicator = (data["sch.wide"] == "Yes").to_numpy()
    p, se = domain_mean_and_se(
        indicator.astype(float),
        column(data, "pw"),
        np.ones(data.height, bool),
        np.zeros(data.height),
        data["dnum"].to_numpy(),
        column(data, "fpc"),
    )
    assert result.estimate == pytest.approx(p, rel=1e-12)
    assert result.se == pytest.approx(se, rel=1e-9)
    t = stats.t.ppf(0.975, data["dnum"].n_unique() - 1)
    logit, logit_se = math.log(p / (1 - p)), se / (p * (1 - p))
    assert result.ci_low == pytest.approx(1 / (1 + math.exp(-(logit - t * logit_se))), rel=1e-9)
    assert result.ci_high == pytest.approx(1 / (1 + math.exp(-(logit + t * logit_se))), rel=1e-9)
    # Unlike a Wald interval, the logit one is lopsided towards 1/2.
    assert result.estimate - result.ci_low > result.ci_high - result.estimate


def test_proportion_of_a_zero_one_column_equals_the_value_form():
    data = read_api("apiclus1.csv").with_columns(wide=(pl.col("sch.wide") == "Yes").cast(pl.Int64))
    from_column = estimate(data, "wide", design=CLUSTER1, statistic="proportion", domain="stype=M")
    from_value = estimate(
        data, "sch.wide=Yes", design=CLUSTER1, statistic="proportion", domain="stype=M"
    )
    assert from_column.estimate == pytest.approx(from_value.estimate)
    assert from_column.ci_high == pytest.approx(from_value.ci_high)


def test_proportion_refuses_a_column_that_is_not_zero_one():
    with pytest.raises(EstimationError, match=r"'api00' holds .* data row 1"):
        estimate(read_api("apiclus1.csv"), "api00", design=CLUSTER1, statistic="proportion")


def test_quantile_follows_svy_where_no_tie_falls_on_p():
    import svy

    data = read_api("apistrat.csv")
    design = Design(strata="stype", weights="pw", fpc=("fpc",))
    reference = (
        svy.Sample(data, svy.Design(stratum="stype", wgt="pw", pop_size="fpc"))
        .estimation.quantile("api00", p=[0.25, 0.5])
        .to_polars()
    )
    for row in reference.iter_rows(named=True):
        result = estimate(data, "api00", design=design, statistic="quantile", quantile=row["prob"])
        assert result.estimate == row["est"]
        assert (result.ci_low, result.ci_high) == (row["lci"], row["uci"])
        assert result.se == pytest.approx(row["se"], rel=1e-12)


def test_quantile_at_an_exact_tie_takes_the_lower_order_statistic():
    data = read_api("apiclus1.csv")
    elementary = data.filter(pl.col("stype") == "E")
    # Equal weights and 144 schools: the weighted CDF reaches exactly 1/2 at the 72nd
    # value, which R's qrule "math" returns.
    assert elementary["pw"].n_unique() == 1 and elementary.height == 144
    expected = float(elementary["api00"].sort()[71])
    result = estimate(data, "api00", design=CLUSTER1, statistic="quantile", domain="stype=E")
    assert result.estimate == expected
    assert result.ci_low < result.estimate < result.ci_high
    assert result.se == pytest.approx(
        (result.ci_high - result.ci_low) / (2 * stats.t.ppf(0.975, result.df))
    )


def test_weights_default_to_the_fpc_counts():
    data = read_api("apistrat.csv")
    with_weights = estimate(
        data, "api00", design=Design(strata="stype", weights="pw", fpc=("fpc",))
    )
    from_fpc = estimate(data, "api00", design=Design(strata="stype", fpc=("fpc",)))
    # pw is stored as a float32 rounding of N_h / n_h.
    assert from_fpc.estimate == pytest.approx(with_weights.estimate, rel=1e-8)
    assert from_fpc.se == pytest.approx(with_weights.se, rel=1e-6)


def test_level_changes_only_the_interval():
    data = read_api("apiclus1.csv")
    wide = estimate(data, "api00", design=CLUSTER1, level=0.99)
    narrow = estimate(data, "api00", design=CLUSTER1, level=0.90)
    assert wide.estimate == narrow.estimate and wide.se == narrow.se
    assert wide.ci_high - wide.ci_low > narrow.ci_high - narrow.ci_low
    t = stats.t.ppf(0.995, wide.df)
    assert wide.ci_high == pytest.approx(wide.estimate + t * wide.se)


# ----------------------------------------------------------------------- raking

MARGINS = {
    "stype": {"E": 4421, "H": 755, "M": 1018},
    "sch.wide": {"No": 1072, "Yes": 5122},
}


def proportional_fitting(weights, frame, margins, sweeps=500):
    weights = weights.copy()
    for _ in range(sweeps):
        for name, totals in margins.items():
            levels = frame[name].cast(pl.Utf8).to_numpy()
            for level, total in totals.items():
                rows = levels == level
                weights[rows] *= total / weights[rows].sum()
    return weights


def test_rake_matches_iterative_proportional_fitting():
    data = read_api("apiclus1.csv")
    raked = rake(data, "pw", MARGINS)
    expected = proportional_fitting(column(data, "pw"), data, MARGINS)
    np.testing.assert_allclose(raked, expected, rtol=1e-6)
    for name, totals in MARGINS.items():
        for level, total in totals.items():
            assert raked[(data[name] == level).to_numpy()].sum() == pytest.approx(total, rel=1e-8)


def test_estimate_with_raking_uses_the_raked_weights():
    data = read_api("apiclus1.csv")
    raked = rake(data, "pw", MARGINS)
    result = estimate(data, "api00", design=CLUSTER1, rake=MARGINS)
    y = column(data, "api00")
    assert result.estimate == pytest.approx((raked * y).sum() / raked.sum(), rel=1e-9)
    assert "raked" in result.method
    assert result.se > 0


def test_rake_refuses_margins_with_different_totals():
    data = read_api("apiclus1.csv")
    margins = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1000, "Yes": 5122}}
    with pytest.raises(EstimationError, match="disagree on the population total"):
        rake(data, "pw", margins)


def test_rake_refuses_a_margin_missing_a_level_of_the_data():
    data = read_api("apiclus1.csv")
    with pytest.raises(EstimationError, match=r"no total for level 'M'.*data row \d+"):
        rake(data, "pw", {"stype": {"E": 5000, "H": 1194}})


def test_parse_margin():
    assert parse_margin("stype=E:4421,H:755, M:1018") == (
        "stype",
        {"E": 4421.0, "H": 755.0, "M": 1018.0},
    )
    with pytest.raises(EstimationError, match="LEVEL:TOTAL"):
        parse_margin("stype=E4421")
    with pytest.raises(EstimationError, match="not a number"):
        parse_margin("stype=E:many")


# ----------------------------------------------------------------------- errors


def test_unknown_column_is_named():
    with pytest.raises(EstimationError, match="Column 'dnumber' is not in the data"):
        estimate(read_api("apiclus1.csv"), "api00", design=Design(clusters=("dnumber",)))


def test_missing_design_value_names_the_rows():
    data = read_api("apistrat.csv")
    data = data.with_columns(
        stype=pl.when(pl.int_range(pl.len()).is_in([4, 9])).then(None).otherwise(pl.col("stype"))
    )
    with pytest.raises(
        EstimationError, match=r"strata column 'stype' has 2 missing.*row\(s\) 5, 10"
    ):
        estimate(data, "api00", design=Design(strata="stype", weights="pw", fpc=("fpc",)))


def test_missing_analysis_values_are_refused_unless_dropped():
    data = read_api("apiclus2.csv")
    with pytest.raises(
        EstimationError, match=r"'enroll' has 6 missing value\(s\), in data row\(s\) 27"
    ):
        estimate(data, "enroll", design=CLUSTER2)


def test_non_numeric_analysis_value_names_the_row():
    data = read_api("apiclus1.csv").with_columns(pl.col("api00").cast(pl.Utf8))
    data = data.with_columns(
        api00=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("n/a")).otherwise(pl.col("api00"))
    )
    with pytest.raises(EstimationError, match=r"holds 'n/a' in data row 3"):
        estimate(data, "api00", design=CLUSTER1)


def test_fpc_smaller_than_the_sample_is_refused():
    data = read_api("apistrat.csv").with_columns(fpc=pl.lit(50))
    with pytest.raises(
        EstimationError, match=r"has 50 units in the population, fewer than the 100"
    ):
        estimate(data, "api00", design=Design(strata="stype", weights="pw", fpc=("fpc",)))


def test_fpc_varying_within_a_stratum_is_refused():
    data = read_api("apistrat.csv").with_columns(
        fpc=pl.when(pl.int_range(pl.len()) == 0).then(9999).otherwise(pl.col("fpc"))
    )
    with pytest.raises(EstimationError, match="must be constant within each stratum"):
        estimate(data, "api00", design=Design(strata="stype", weights="pw", fpc=("fpc",)))


LONELY = pl.DataFrame(
    {
        "stratum": [1, 1, 2, 2, 3],
        "psu": [1, 2, 1, 2, 1],
        "weight": [2.0, 2.0, 2.0, 2.0, 2.0],
        "y": [1.0, 2.0, 3.0, 4.0, 5.0],
    }
)


def test_lonely_psu_is_refused_by_default_with_the_stratum_named():
    with pytest.raises(
        EstimationError, match=r"Stratum 3 of 'stratum' has a single PSU \(data row 5\)"
    ):
        estimate(LONELY, "y", design=Design(strata="stratum", clusters=("psu",), weights="weight"))


def test_lonely_psu_certainty_adds_no_variance():
    design = Design(strata="stratum", clusters=("psu",), weights="weight", lonely_psu="certainty")
    result = estimate(LONELY, "y", design=design)
    y, w = column(LONELY, "y"), column(LONELY, "weight")
    mean = (w * y).sum() / w.sum()
    variance = linearised_variance(
        w * (y - mean) / w.sum(), LONELY["stratum"].to_numpy(), LONELY["psu"].to_numpy()
    )
    assert result.estimate == pytest.approx(3.0)
    assert result.se == pytest.approx(math.sqrt(variance))


def test_lonely_psu_adjust_centres_the_single_psu_at_the_grand_mean():
    design = Design(strata="stratum", clusters=("psu",), weights="weight", lonely_psu="adjust")
    certainty = estimate(LONELY, "y", design=replace(design, lonely_psu="certainty"))
    adjusted = estimate(LONELY, "y", design=design)
    # Influence values z = (y - 3)/5; PSU totals average 0 over the five PSUs, so the
    # lone PSU adds (0.4 - 0)^2 to the variance.
    assert adjusted.se**2 == pytest.approx(certainty.se**2 + 0.4**2)


def test_design_refuses_more_fpc_columns_than_stages():
    with pytest.raises(EstimationError, match="one fpc column per stage"):
        Design(clusters=("dnum",), fpc=("fpc1", "fpc2"))


def test_raked_variance_credits_the_raking_through_margin_residuals():
    # Linearisation of a raked (calibrated) mean: regress the influence values on the
    # margin indicators with the design weights and keep the residuals, scaled by the
    # raked weights. Treating raked weights as fixed would give a different SE.
    data = read_api("apiclus1.csv")
    raked = rake(data, "pw", MARGINS)
    result = estimate(data, "api00", design=CLUSTER1, rake=MARGINS)
    y, base = column(data, "api00"), column(data, "pw")
    influence = (y - result.estimate) / raked.sum()
    margins = np.column_stack(
        [(data["stype"] == level).to_numpy() for level in ("E", "H", "M")]
        + [(data["sch.wide"] == "Yes").to_numpy()]
    ).astype(float)
    slope = np.linalg.solve(margins.T @ (base[:, None] * margins), margins.T @ (base * influence))
    residual = raked * (influence - margins @ slope)
    args = (np.zeros(data.height), data["dnum"].to_numpy(), column(data, "fpc"))
    assert result.se == pytest.approx(math.sqrt(linearised_variance(residual, *args)), rel=1e-9)
    fixed = math.sqrt(linearised_variance(raked * influence, *args))
    assert result.se != pytest.approx(fixed, rel=1e-3)
