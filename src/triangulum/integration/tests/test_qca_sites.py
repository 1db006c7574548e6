"""Calibrating the sites' sets on plain data: direct calibration on fsQCA's ±3 log-odds,
crisp calibrations, checks of the stated calibration, the analysis of a hand-checkable
crisp table, and the membership CSV read back by ``triangulum qca``."""

import json
import math
from io import StringIO

import pytest
from django.core.management import call_command

from triangulum.integration import qca
from triangulum.integration.qca_sites import (
    CalibrationError,
    analyse,
    calibrate,
    calibrate_all,
    memberships_csv,
    parse_calibration,
    parse_set,
)


def test_direct_calibration_on_fsqca_log_odds_by_hand():
    # Anchors 0.2 (full non-membership), 0.5 (crossover), 0.8 (full membership): each side
    # spans 0.3, scaled to 3 log-odds.
    out, cross, full, halfway = qca.calibrate_direct(
        [0.2, 0.5, 0.8, 0.65],
        exclusion=0.2,
        crossover=0.5,
        inclusion=0.8,
        anchor_log_odds=qca.FSQCA_ANCHOR_LOG_ODDS,
    )
    assert cross == pytest.approx(0.5, abs=1e-12)
    assert full == pytest.approx(1 / (1 + math.exp(-3)))  # 0.9526
    assert round(full, 3) == 0.953
    assert out == pytest.approx(1 / (1 + math.exp(3)))  # 0.0474
    assert round(out, 3) == 0.047
    # Halfway from the crossover to full membership: log-odds 1.5.
    assert halfway == pytest.approx(1 / (1 + math.exp(-1.5)))  # 0.8176


def test_direct_calibration_scales_each_side_on_its_own_span():
    # Crossover 0.01: below it the span is 0.01, above it 0.02 (anchors 0, 0.01, 0.03).
    spec = parse_set(
        "ALLIANCE",
        {"source": "code_share", "code": 4, "method": "direct", "anchors": [0.0, 0.01, 0.03]},
    )
    memberships = calibrate(spec, {"none": 0.0, "some": 0.005, "more": 0.02, "most": 0.06})
    assert memberships["none"] == pytest.approx(1 / (1 + math.exp(3)))
    assert memberships["some"] == pytest.approx(1 / (1 + math.exp(1.5)))  # −1.5 log-odds
    assert memberships["more"] == pytest.approx(1 / (1 + math.exp(-1.5)))  # +1.5 log-odds
    assert memberships["most"] == pytest.approx(1 / (1 + math.exp(-7.5)))  # beyond the anchor


def test_crisp_calibrations_and_missing_values():
    typology = parse_set("TYPE1", {"source": "typology", "method": "members", "members": [1]})
    assert calibrate(typology, {"a": 1, "b": 2, "c": None}) == {"a": 1.0, "b": 0.0, "c": None}
    share = parse_set(
        "MAJORITY",
        {
            "source": "survey_share",
            "wave": 2,
            "item": "benefits_achieved",
            "categories": ["moderately", "a_lot"],
            "method": "threshold",
            "threshold": 0.5,
        },
    )
    assert calibrate(share, {"a": 0.5, "b": 0.49, "c": float("nan")}) == {
        "a": 1.0,
        "b": 0.0,
        "c": None,
    }


@pytest.mark.parametrize(
    "name,spec,message",
    [
        ("2BAD", {"source": "typology", "method": "members", "members": [1]}, "set name '2BAD'"),
        ("A", {"source": "horoscope", "method": "members"}, "set A, source: 'horoscope'"),
        ("A", {"source": "typology", "method": "direct", "anchors": [0, 1, 2]}, "by 'members'"),
        (
            "A",
            {"source": "code_share", "code": 3, "method": "members", "members": ["x"]},
            "gives numbers",
        ),
        (
            "A",
            {"source": "code_share", "code": 3, "method": "direct", "anchors": [0, 0.3, 0.2]},
            "set A, anchors: the crossover",
        ),
        (
            "A",
            {"source": "code_share", "code": 3, "method": "direct", "anchors": [0, 1]},
            "give three numbers",
        ),
        (
            "A",
            {"source": "code_count", "code": "x", "method": "threshold", "threshold": 1},
            "set A, code",
        ),
        (
            "A",
            {
                "source": "survey_share",
                "wave": 1,
                "item": "q",
                "method": "threshold",
                "threshold": 0.5,
            },
            "set A, categories",
        ),
        (
            "A",
            {"source": "survey_answer", "item": "q", "method": "members", "members": ["x"]},
            "set A, wave",
        ),
        (
            "A",
            {"source": "typology", "method": "members", "members": [1], "colour": "red"},
            "unknown field",
        ),
        (
            "A",
            {"source": "code_count", "code": 3, "method": "threshold", "threshold": "one"},
            "threshold: 'one' is not a number",
        ),
    ],
)
def test_a_bad_set_calibration_names_the_set_and_the_field(name, spec, message):
    with pytest.raises(CalibrationError, match=message):
        parse_set(name, spec)


TYPOLOGY = {"source": "typology", "method": "members", "members": [1]}
SHARE = {"source": "code_share", "code": 3, "method": "direct", "anchors": [0, 0.01, 0.03]}


def test_the_calibration_must_cover_the_outcome_and_each_condition_and_nothing_else():
    with pytest.raises(CalibrationError, match="no calibration for Y"):
        parse_calibration({"A": TYPOLOGY}, outcome="Y", conditions=["A"], set_type="crisp")
    with pytest.raises(CalibrationError, match="Z is neither the outcome nor a condition"):
        parse_calibration(
            {"A": TYPOLOGY, "Y": TYPOLOGY, "Z": TYPOLOGY},
            outcome="Y",
            conditions=["A"],
            set_type="crisp",
        )
    with pytest.raises(CalibrationError, match="set A, method: direct calibration gives fuzzy"):
        parse_calibration(
            {"A": SHARE, "Y": TYPOLOGY}, outcome="Y", conditions=["A"], set_type="crisp"
        )
    with pytest.raises(CalibrationError, match="cannot also be a condition"):
        parse_calibration({"A": TYPOLOGY}, outcome="A", conditions=["A"], set_type="crisp")
    specs = parse_calibration(
        {"A": SHARE, "Y": TYPOLOGY}, outcome="Y", conditions=["A"], set_type="fuzzy"
    )
    assert list(specs) == ["A", "Y"] and specs["A"].is_fuzzy


def _crisp_table():
    """Six cases, two conditions. Hand check (incl. cut 0.8): A*B holds c1, c2 (both Y):
    consistency 1; A*~B holds c3 (Y) and c6 (not Y): 0.5, negative; ~A*B (c4) and ~A*~B
    (c5) have no Y. c7 has no value for B and is left out."""
    specs = parse_calibration(
        {
            "A": {"source": "code_count", "code": 1, "method": "threshold", "threshold": 1},
            "B": {"source": "code_count", "code": 2, "method": "threshold", "threshold": 1},
            "Y": {"source": "typology", "method": "members", "members": [1]},
        },
        outcome="Y",
        conditions=["A", "B"],
        set_type="crisp",
    )
    raw = {
        "A": {"c1": 2, "c2": 1, "c3": 4, "c4": 0, "c5": 0, "c6": 3, "c7": 1},
        "B": {"c1": 1, "c2": 5, "c3": 0, "c4": 2, "c5": 0, "c6": 0, "c7": None},
        "Y": {"c1": 1, "c2": 1, "c3": 1, "c4": 2, "c5": 2, "c6": 2, "c7": 1},
    }
    return calibrate_all(
        specs,
        raw,
        ["c1", "c2", "c3", "c4", "c5", "c6", "c7"],
        missing_reasons={("B", "c7"): "no case-study text"},
    )


def test_a_case_missing_a_value_is_left_out_and_listed():
    calibrated = _crisp_table()
    assert calibrated.cases == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert calibrated.excluded == [{"case": "c7", "set": "B", "reason": "no case-study text"}]
    assert calibrated.raw["B"]["c7"] is None


def test_too_few_cases_left_is_an_error_naming_them():
    specs = parse_calibration(
        {"A": TYPOLOGY, "Y": TYPOLOGY}, outcome="Y", conditions=["A"], set_type="crisp"
    )
    with pytest.raises(CalibrationError, match="only 1 case"):
        calibrate_all(specs, {"A": {"x": 1, "y": None}, "Y": {"x": 1, "y": 1}}, ["x", "y"])


def test_the_crisp_table_analysed_by_hand():
    results = analyse(
        _crisp_table(),
        outcome="Y",
        conditions=["A", "B"],
        incl_cut=0.8,
        n_cut=1,
        remainders="both",
    )
    rows = {row["row"]: row for row in results["truth_table"]}
    assert rows[4]["configuration"] == {"A": 1, "B": 1}
    assert (rows[4]["outcome"], rows[4]["n"], rows[4]["incl"]) == ("1", 2, 1.0)
    assert (rows[3]["outcome"], rows[3]["incl"]) == ("0", 0.5)
    assert results["remainder_rows"] == 0 and results["positive_rows"] == 1
    for kind in ("complex", "parsimonious"):
        (model,) = results["solutions"][kind]
        assert model["expression"] == "A*B"
        assert model["consistency"] == 1.0
        assert model["coverage"] == pytest.approx(2 / 3)  # c1, c2 of the three Y cases
    necessity = {row["condition"]: row for row in results["necessity"]}
    assert necessity["A"]["consistency"] == 1.0  # every Y case has A
    assert necessity["A"]["coverage"] == pytest.approx(3 / 4)  # A: c1, c2, c3, c6


def test_remainders_choose_the_solutions_and_a_bad_choice_is_refused():
    only = analyse(
        _crisp_table(),
        outcome="Y",
        conditions=["A", "B"],
        incl_cut=0.8,
        n_cut=1,
        remainders="exclude",
    )
    assert list(only["solutions"]) == ["complex"]
    with pytest.raises(CalibrationError, match="remainders: 'some'"):
        analyse(
            _crisp_table(),
            outcome="Y",
            conditions=["A", "B"],
            incl_cut=0.8,
            n_cut=1,
            remainders="some",
        )


def test_the_memberships_csv_reads_back_into_the_qca_command(tmp_path):
    """Round trip: the download gives the same truth table and solutions from the CLI."""
    calibrated = _crisp_table()
    results = analyse(
        calibrated, outcome="Y", conditions=["A", "B"], incl_cut=0.8, n_cut=1, remainders="both"
    )
    path = tmp_path / "simulated-memberships.csv"
    path.write_text(
        memberships_csv(calibrated.rows(["A", "B", "Y"]), columns=["A", "B", "Y"], simulated=True),
        encoding="utf-8",
    )
    assert path.read_text().splitlines()[0] == "case,A,B,Y,data"
    for remainders, kind in (("exclude", "complex"), ("include", "parsimonious")):
        out = StringIO()
        call_command(
            "qca",
            str(path),
            "--outcome",
            "Y",
            "--incl-cut",
            "0.8",
            "--remainders",
            remainders,
            "--necessity",
            "--json",
            stdout=out,
        )
        from_cli = json.loads(out.getvalue())
        assert from_cli["conditions"] == ["A", "B"]  # the text column "data" is no condition
        assert from_cli["truth_table"] == results["truth_table"]
        assert from_cli["solutions"] == results["solutions"][kind]
        assert from_cli["necessity"] == results["necessity"]


def test_fuzzy_memberships_keep_full_precision_in_the_csv(tmp_path):
    rows = [{"case": "x, the first", "A": 1 / 3, "Y": 0.9526}, {"case": "y", "A": 0.8, "Y": 0.1}]
    text = memberships_csv(rows, columns=["A", "Y"], simulated=False)
    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8")
    from triangulum.integration.qca_table import read_set_table

    table = read_set_table(path, outcome="Y")
    assert table.data.case_ids == ("x, the first", "y")
    assert table.data.memberships["A"][0] == 1 / 3
