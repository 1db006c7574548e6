"""Quantitizing codings on plain data: presence, counts and shares of text, merging with
survey variables, cross-tabulation and the table downloads."""

import csv
import io

import pytest

from triangulum.integration.quantitize import (
    CellCoding,
    QuantitizeError,
    cross_tabulate,
    merge,
    quantitize,
    table_csv,
    table_xlsx,
)

# Two cases, two codes. Case "a" has 400 characters of text: code 1 coded three times
# over 60 characters, code 2 once over 10. Case "b" has 200 characters: code 2 twice over
# 50. Case "c" has no text at all.
CELLS = {
    ("a", 1): CellCoding(count=3, characters=60, coding_ids=(11, 12, 13)),
    ("a", 2): CellCoding(count=1, characters=10, coding_ids=(14,)),
    ("b", 2): CellCoding(count=2, characters=50, coding_ids=(21, 22)),
}
LENGTHS = {"a": 400, "b": 200, "c": 0}


def _matrix(measure, **options):
    return quantitize(
        CELLS,
        rows=["a", "b", "c"],
        columns=[1, 2],
        text_lengths=LENGTHS,
        measure=measure,
        **options,
    )


def test_presence_count_and_share_by_hand():
    presence = _matrix("presence")
    assert [[presence.value(r, c) for c in (1, 2)] for r in "abc"] == [[1, 1], [0, 1], [0, 0]]
    count = _matrix("count")
    assert [[count.value(r, c) for c in (1, 2)] for r in "abc"] == [[3, 1], [0, 2], [0, 0]]
    share = _matrix("share")
    assert share.value("a", 1) == pytest.approx(60 / 400)  # 0.15
    assert share.value("a", 2) == pytest.approx(10 / 400)
    assert share.value("b", 1) == 0
    assert share.value("b", 2) == pytest.approx(0.25)
    # A case without text has no share (not a share of zero).
    assert share.value("c", 1) is None


def test_presence_can_ask_for_more_than_one_coding():
    presence = _matrix("presence", min_count=2)
    assert presence.column_values(1) == {"a": 1, "b": 0, "c": 0}
    assert presence.column_values(2) == {"a": 0, "b": 1, "c": 0}


@pytest.mark.parametrize(
    "cells,lengths,measure,message",
    [
        (CELLS, LENGTHS, "ratio", "unknown measure 'ratio'"),
        ({("a", 1): CellCoding(count=1, characters=500)}, LENGTHS, "share", "case 'a', code 1"),
        ({("a", 1): CellCoding(count=-1)}, LENGTHS, "count", "cannot be negative"),
        (CELLS, {"a": -4}, "share", "text length cannot be negative"),
    ],
)
def test_bad_inputs_are_refused_naming_the_case_and_code(cells, lengths, measure, message):
    with pytest.raises(QuantitizeError, match=message):
        quantitize(cells, rows=["a"], columns=[1], text_lengths=lengths, measure=measure)


def test_a_presence_threshold_below_one_is_refused():
    with pytest.raises(QuantitizeError, match="at least 1 coding"):
        _matrix("presence", min_count=0)


def test_merge_puts_survey_variables_beside_the_codes():
    header, body = merge(
        _matrix("count"),
        {"a": {"typology": 1, "w1:vision": "equally"}, "b": {"typology": 2}},
        column_names={1: "Alliance", 2: "Barriers"},
        survey_columns=["typology", "w1:vision"],
        row_names={"a": "Site A", "b": "Site B", "c": "Site C"},
    )
    assert header == ["case", "typology", "w1:vision", "Alliance", "Barriers"]
    assert body == [
        ["Site A", 1, "equally", 3, 1],
        ["Site B", 2, None, 0, 2],
        ["Site C", None, None, 0, 0],
    ]


def test_cross_tabulation_counts_cases_and_keeps_the_scale_order():
    table = cross_tabulate(
        ["a", "b", "c", "d", "e"],
        survey_values={"a": "agree", "b": "agree", "c": "disagree", "d": None, "e": "odd"},
        code_values={"a": 1, "b": 0, "c": 1, "d": 1, "e": 0},
        survey_order=["disagree", "neither", "agree"],
    )
    # Empty categories still show, in scale order; a value off the scale comes last.
    assert table.row_values == ["disagree", "neither", "agree", "odd"]
    assert table.column_values == [0, 1]
    assert table.cases[("agree", 1)] == ["a"]
    assert table.count("agree", 0) == 1
    assert table.count("neither", 1) == 0
    assert table.row_total("agree") == 2
    assert table.column_total(1) == 2
    assert table.total == 4
    assert table.missing == ["d"]


def test_csv_and_xlsx_hold_the_table_and_what_it_is():
    header, body = ["case", "value"], [["Site A", 0.25], ["Site B", None]]
    rows = list(csv.reader(io.StringIO(table_csv(header, body))))
    assert rows == [["case", "value"], ["Site A", "0.25"], ["Site B", ""]]

    from openpyxl import load_workbook

    book = load_workbook(
        io.BytesIO(table_xlsx(header, body, sheet="quantitized", about=[("simulated", "yes")]))
    )
    assert book.sheetnames == ["quantitized", "about"]
    values = [list(r) for r in book["quantitized"].iter_rows(values_only=True)]
    assert values == [["case", "value"], ["Site A", 0.25], ["Site B", None]]
    assert list(book["about"].iter_rows(values_only=True)) == [("simulated", "yes")]
