"""`triangulum qca FILE.csv --outcome …`: output and input errors."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

LIPSET = Path(__file__).parent / "fixtures" / "lipset_crisp.csv"


def run(*args) -> str:
    out = StringIO()
    call_command("qca", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_json_output_for_the_complex_and_parsimonious_solutions():
    complex_ = json.loads(run(LIPSET, "--outcome", "SURV", "--json"))
    assert complex_["solution_type"] == "complex"
    assert complex_["set_type"] == "crisp"
    assert complex_["conditions"] == ["DEV", "URB", "LIT", "IND", "STB"]
    assert [s["expression"] for s in complex_["solutions"]] == [
        "DEV*~URB*LIT*STB + DEV*LIT*IND*STB"
    ]
    terms = complex_["solutions"][0]["terms"]
    covered = [value for t in terms for value in (t["raw_coverage"], t["unique_coverage"])]
    assert covered == pytest.approx([0.5, 0.25, 0.75, 0.5])
    rows = {row["row"]: row for row in complex_["truth_table"]}
    assert rows[32]["configuration"] == {"DEV": 1, "URB": 1, "LIT": 1, "IND": 1, "STB": 1}
    assert rows[32]["cases"] == ["BE", "CZ", "NL", "UK"]
    assert rows[32]["outcome"] == "1" and rows[1]["outcome"] == "0"

    parsimonious = json.loads(run(LIPSET, "--outcome", "SURV", "--remainders", "include", "--json"))
    assert parsimonious["solution_type"] == "parsimonious"
    assert [s["expression"] for s in parsimonious["solutions"]] == ["DEV*STB"]
    assert parsimonious["solutions"][0]["coverage"] == 1.0


def test_chosen_conditions_negated_outcome_and_necessity():
    result = json.loads(
        run(
            LIPSET,
            "--outcome",
            "SURV",
            "--conditions",
            "DEV,STB",
            "--negate-outcome",
            "--necessity",
            "--json",
        )
    )
    assert result["outcome"] == "~SURV"
    assert result["conditions"] == ["DEV", "STB"]
    assert [s["expression"] for s in result["solutions"]] == ["~DEV + ~STB"]
    necessity = {n["condition"]: n for n in result["necessity"]}
    # ~SURV: 10 cases, 8 of them not developed: consistency 0.8.
    assert necessity["~DEV"]["consistency"] == pytest.approx(0.8)


def test_text_output_reads_like_r_qca():
    text = run(LIPSET, "--outcome", "SURV", "--necessity")
    assert "M1: DEV*~URB*LIT*STB + DEV*LIT*IND*STB <=> SURV" in text
    assert "Complex solution (remainders excluded)" in text
    assert "BE,CZ,NL,UK" in text
    assert "Necessity for SURV" in text


def test_incl_and_n_cuts_change_the_truth_table(tmp_path):
    # Fuzzy, 4 cases; rows: A*B holds w and x (consistency 1.0), ~A*B holds y alone.
    path = tmp_path / "fuzzy.csv"
    path.write_text("site,A,B,Y\nw,0.9,0.8,0.9\nx,0.7,0.9,0.8\ny,0.2,0.7,0.6\nz,0.1,0.2,0.1\n")
    loose = json.loads(run(path, "--outcome", "Y", "--incl-cut", "0.8", "--json"))
    assert loose["set_type"] == "fuzzy"
    assert [s["expression"] for s in loose["solutions"]] == ["B"]
    strict = json.loads(run(path, "--outcome", "Y", "--incl-cut", "0.8", "--n-cut", "2", "--json"))
    assert [s["expression"] for s in strict["solutions"]] == ["A*B"]
    assert {r["row"]: r["outcome"] for r in strict["truth_table"]}[2] == "?"


def test_case_ids_default_to_row_numbers_without_a_text_column(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("A,Y\n1,1\n0,0\n")
    result = json.loads(run(path, "--outcome", "Y", "--json"))
    assert result["solutions"][0]["terms"][0]["cases"] == ["1"]


def test_no_sufficient_configuration_is_reported_not_failed(tmp_path):
    path = tmp_path / "none.csv"
    path.write_text("case,A,Y\na,1,0\nb,0,1\n")
    text = run(path, "--outcome", "A", "--conditions", "Y", "--incl-cut", "1")
    assert "M1" in text  # Y=0 row gives A: ~Y is sufficient for A
    text = run(path, "--outcome", "Y", "--conditions", "A", "--n-cut", "5")
    assert "there is nothing to minimise" in text


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("case,A,Y\na,0.2,1\nb,1.4,0\n", (), r"line 3, column 'A': 1.4 is not a set membership"),
        (
            "case,A,Y\na,0.2,1\nb,high,0\n",
            ("--conditions", "A"),
            r"line 3, column 'A': 'high' is not a number",
        ),
        ("case,A,Y\na,0.2,1\nb,,0\n", ("--conditions", "A"), r"line 3, column 'A': empty"),
        ("case,A,Y\na,0.2,1\nb,1\n", (), r"line 3 has 2 fields but the header has 3"),
        (
            "case,A,Y\na,0.2,1\na,1,0\n",
            (),
            r"line 3, column 'case': case 'a' already appears on line 2",
        ),
        ("case,A,Y\na,0.2,1\n", ("--conditions", "A,B"), r"no column 'B' for the conditions"),
        ("case,A,A\na,0.2,1\n", (), r"the column name 'A' appears more than once"),
        ("", (), r"the file is empty"),
        ("case,A,Y\n", (), r"a header but no cases"),
    ],
)
def test_bad_input_names_the_file_line_and_column(tmp_path, content, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message) as raised:
        run(path, "--outcome", "Y", *args)
    assert str(path) in str(raised.value)


def test_every_bad_cell_is_listed_at_once(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("case,A,B,Y\na,2,0.1,1\nb,0.3,-1,0\nc,0.5,0.5,7\n")
    with pytest.raises(CommandError) as raised:
        run(path, "--outcome", "Y")
    message = str(raised.value)
    assert "3 problem(s)" in message
    assert "line 2, column 'A'" in message
    assert "line 3, column 'B'" in message
    assert "line 4, column 'Y'" in message


def test_missing_file_and_bad_thresholds(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "absent.csv", "--outcome", "Y")
    with pytest.raises(CommandError, match=r"inclusion cut-off must lie in \[0, 1\]"):
        run(LIPSET, "--outcome", "SURV", "--incl-cut", "1.5")
    with pytest.raises(CommandError, match="frequency cut-off must be at least 1"):
        run(LIPSET, "--outcome", "SURV", "--n-cut", "0")
    with pytest.raises(CommandError, match="no column 'SURVIVAL' for the outcome"):
        run(LIPSET, "--outcome", "SURVIVAL")
