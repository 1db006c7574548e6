"""The `estimate` command: output, flags and error messages."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from triangulum.analysis.estimation import Design, estimate
from triangulum.testing import shared_path

from .survey_reference import read_api


def run(*args):
    out = StringIO()
    call_command("estimate", *args, stdout=out)
    return out.getvalue()


def api_file(name):
    return str(shared_path("fixtures", "survey", "samplics_svy", name))


def test_text_output_shows_estimate_se_and_interval():
    text = run(
        api_file("apistrat.csv"),
        "--y",
        "api00",
        "--strata",
        "stype",
        "--weights",
        "pw",
        "--fpc",
        "fpc",
    )
    assert "mean of api00" in text
    assert "662.2873632" in text
    assert "9.408940803" in text
    assert "95% CI" in text and "197 design df" in text


def test_two_stage_domain_quantile_and_raking_flags_reach_the_estimate():
    data = read_api("apiclus1.csv")
    design = Design(clusters=("dnum",), weights="pw", fpc=("fpc",))
    margins = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}
    expected = estimate(
        data,
        "api00",
        design=design,
        statistic="quantile",
        quantile=0.25,
        domain="stype=M",
        rake=margins,
        level=0.9,
    )
    printed = json.loads(
        run(
            api_file("apiclus1.csv"),
            "--y",
            "api00",
            "--cluster",
            "dnum",
            "--weights",
            "pw",
            "--fpc",
            "fpc",
            "--statistic",
            "quantile",
            "--quantile",
            "0.25",
            "--domain",
            "stype=M",
            "--rake",
            "stype=E:4421,H:755,M:1018",
            "--rake",
            "sch.wide=No:1072,Yes:5122",
            "--level",
            "0.9",
            "--json",
        )
    )
    assert printed["estimate"] == expected.estimate
    assert printed["ci_low"] == expected.ci_low and printed["ci_high"] == expected.ci_high
    assert printed["n"] == expected.n == int((data["stype"] == "M").sum())
    assert printed["statistic"] == "quantile" and printed["df"] == expected.df


def test_two_stage_cluster_and_fpc_lists():
    printed = json.loads(
        run(
            api_file("apiclus2.csv"),
            "--y",
            "api00",
            "--cluster",
            "dnum,snum",
            "--fpc",
            "fpc1,fpc2",
            "--weights",
            "pw",
            "--json",
        )
    )
    expected = estimate(
        read_api("apiclus2.csv"),
        "api00",
        design=Design(clusters=("dnum", "snum"), weights="pw", fpc=("fpc1", "fpc2")),
    )
    assert printed["se"] == expected.se


def test_proportion_by_value():
    printed = json.loads(
        run(
            api_file("apiclus1.csv"),
            "--y",
            "sch.wide=Yes",
            "--cluster",
            "dnum",
            "--weights",
            "pw",
            "--fpc",
            "fpc",
            "--statistic",
            "proportion",
            "--json",
        )
    )
    assert 0 < printed["ci_low"] < printed["estimate"] < printed["ci_high"] < 1


def test_error_names_file_column_and_rows():
    path = api_file("apiclus2.csv")
    with pytest.raises(
        CommandError, match=rf"{path}: The column 'enroll' has 6 missing .* row\(s\) 27, 28"
    ):
        run(
            path, "--y", "enroll", "--cluster", "dnum,snum", "--fpc", "fpc1,fpc2", "--weights", "pw"
        )


def test_error_for_an_unknown_column_names_the_file():
    path = api_file("apistrat.csv")
    with pytest.raises(CommandError, match=rf"{path}: Column 'strata' is not in the data"):
        run(path, "--y", "api00", "--strata", "strata")


def test_error_for_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "absent.csv"), "--y", "x")


def test_error_for_a_malformed_rake():
    with pytest.raises(CommandError, match="LEVEL:TOTAL"):
        run(api_file("apistrat.csv"), "--y", "api00", "--rake", "stype=E")


def test_lonely_psu_error_names_the_stratum(tmp_path):
    survey = tmp_path / "lonely.csv"
    survey.write_text("stratum,psu,w,y\nA,1,2,1\nA,2,2,2\nB,1,2,3\n")
    with pytest.raises(
        CommandError, match=r"lonely.csv: Stratum 'B' of 'stratum' has a single PSU \(data row 3\)"
    ):
        run(str(survey), "--y", "y", "--strata", "stratum", "--cluster", "psu", "--weights", "w")
