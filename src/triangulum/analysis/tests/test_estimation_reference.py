"""Every design-based row of ../shared/reference/README.md, via the API and the command.

The tolerance is half a unit in the last decimal shown in the reference.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from triangulum.analysis.estimation import Design, estimate
from triangulum.testing import shared_path

from .survey_reference import read_api, read_fpc

API = ("fixtures", "survey", "samplics_svy")
FPC = ("fixtures", "survey", "xkdr_survey.jl", "fpc.csv")

# (file, design, command flags, y, statistic, estimate, SE) -- values as printed by R.
REFERENCE_ROWS = [
    (
        (*API, "apistrat.csv"),
        Design(strata="stype", weights="pw", fpc=("fpc",)),
        ["--strata", "stype", "--weights", "pw", "--fpc", "fpc"],
        "api00",
        "mean",
        "662.2873632",
        "9.4089408",
    ),
    (
        (*API, "apistrat.csv"),
        Design(strata="stype", weights="pw", fpc=("fpc",)),
        ["--strata", "stype", "--weights", "pw", "--fpc", "fpc"],
        "enroll",
        "total",
        "3687177.53",
        "114641.716",
    ),
    (
        (*API, "apiclus1.csv"),
        Design(clusters=("dnum",), weights="pw", fpc=("fpc",)),
        ["--cluster", "dnum", "--weights", "pw", "--fpc", "fpc"],
        "api00",
        "mean",
        "644.1693989",
        "23.5422407",
    ),
    (
        (*API, "apiclus1.csv"),
        Design(clusters=("dnum",), weights="pw", fpc=("fpc",)),
        ["--cluster", "dnum", "--weights", "pw", "--fpc", "fpc"],
        "enroll",
        "total",
        "3404940",
        "932235",
    ),
    (
        FPC,
        Design(strata="stratid", clusters=("psuid",), weights="weight"),
        ["--strata", "stratid", "--cluster", "psuid", "--weights", "weight"],
        "x",
        "mean",
        "5.4481",
        "0.7413",
    ),
    (
        FPC,
        Design(strata="stratid", clusters=("psuid",), weights="weight", fpc=("Nh",)),
        ["--strata", "stratid", "--cluster", "psuid", "--weights", "weight", "--fpc", "Nh"],
        "x",
        "mean",
        "5.4481",
        "0.6160407",
    ),
]
IDS = [
    "apistrat-mean-api00",
    "apistrat-total-enroll",
    "apiclus1-mean-api00",
    "apiclus1-total-enroll",
    "fpc-mean-x-no-fpc",
    "fpc-mean-x-with-fpc",
]


def tolerance(printed: str) -> float:
    decimals = len(printed.partition(".")[2])
    return 0.5 * 10.0**-decimals


def assert_as_printed(value: float, printed: str) -> None:
    assert abs(value - float(printed)) <= tolerance(printed), (value, printed)


def read(parts):
    if parts == FPC:
        return read_fpc()
    return read_api(parts[-1])


@pytest.mark.parametrize(
    ("parts", "design", "flags", "y", "statistic", "expected", "expected_se"),
    REFERENCE_ROWS,
    ids=IDS,
)
def test_api_reproduces_r_survey(parts, design, flags, y, statistic, expected, expected_se):
    result = estimate(read(parts), y, design=design, statistic=statistic)
    assert_as_printed(result.estimate, expected)
    assert_as_printed(result.se, expected_se)
    assert result.ci_low < result.estimate < result.ci_high


@pytest.mark.parametrize(
    ("parts", "design", "flags", "y", "statistic", "expected", "expected_se"),
    REFERENCE_ROWS,
    ids=IDS,
)
def test_command_reproduces_r_survey(parts, design, flags, y, statistic, expected, expected_se):
    out = StringIO()
    call_command(
        "estimate",
        str(shared_path(*parts)),
        "--y",
        y,
        "--statistic",
        statistic,
        *flags,
        "--json",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    assert {"estimate", "se", "ci_low", "ci_high", "n"} <= set(printed)
    assert_as_printed(printed["estimate"], expected)
    assert_as_printed(printed["se"], expected_se)
    assert printed["n"] == read(parts).height


def test_population_mean_of_api00_is_664_7126_with_no_sampling_error():
    population = read_api("apipop.csv").drop_nulls("api00")
    census = population.with_columns(population_size=population.height)
    # Every unit sampled: fpc = N removes all sampling variance.
    result = estimate(census, "api00", design=Design(fpc=("population_size",)))
    assert_as_printed(result.estimate, "664.7126")
    assert result.se == pytest.approx(0.0, abs=1e-9)
