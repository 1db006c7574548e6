"""Reading forms: what is accepted, and refusals that name sheet, row and column."""

from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command

from triangulum.fieldwork.xlsform import InstrumentError, load_instrument
from triangulum.testing import shared_path


def xlsform(relative: str):
    return shared_path("fixtures", "xlsform", relative)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        # ODK Validate rejects this calculate; pyxform passes it, our parser must not.
        (
            "xlsform_pyxform/negative/bad_calc.xlsx",
            "sheet survey, row 2, column calculation: the string starting with ' is never closed",
        ),
        (
            "xlsform_pyxform/negative/duplicate_columns.xlsx",
            "sheet survey, row 1, column E (label): Duplicate column header: label",
        ),
        # pyxform accepts it but silently drops the group's instructions to respondents.
        (
            "correlaid_xlsform2lstsv/negative/testA.xlsx",
            "sheet survey, row 13, column hint: the group 'wirkung' has a hint",
        ),
    ],
)
def test_negative_forms_are_refused_naming_the_place(relative, expected):
    with pytest.raises(InstrumentError) as caught:
        load_instrument(xlsform(relative))
    assert expected in str(caught.value)


def test_every_negative_fixture_is_covered():
    names = {p.name for p in xlsform(".").rglob("negative/*") if p.is_file()}
    assert names == {"bad_calc.xlsx", "duplicate_columns.xlsx", "testA.xlsx"}


def test_the_range_question_in_testA_is_itself_supported(tmp_path):
    form = tmp_path / "range.md"
    form.write_text(
        "| survey |\n| | type | name | label | parameters |\n"
        "| | range | share | Share (%) | start=0 end=100 step=5 |\n",
        encoding="utf-8",
    )
    item = load_instrument(form).item("share")
    assert item.type == "range" and item.parameters["step"] == "5"


def test_same_form_in_markdown_spreadsheet_and_pyxform_json_reads_alike():
    shapes = []
    for name in ("yes_or_no_question.md", "yes_or_no_question.xlsx", "yes_or_no_question.json"):
        instrument = load_instrument(xlsform(f"xlsform_pyxform/{name}"))
        item = instrument.item("good_day")
        shapes.append((item.type, [c.name for c in item.choices], item.labels))
    assert shapes[0] == shapes[1] == shapes[2]
    assert shapes[0][0] == "select_one"


def test_compiled_xform_versions_differ_where_the_form_changed():
    old = load_instrument(xlsform("getodk_docs/example_form_v1.0.xml"))
    new = load_instrument(xlsform("getodk_docs/example_form_v1.1.xml"))
    assert (old.version, new.version) == ("2017120700", "2017120701")
    assert old.item("age").constraint == ".<=18" and new.item("age").constraint == ".<=20"
    assert [c.name for c in new.item("course").choices][-2:] == ["Computer", "none"]
    assert new.languages == ["English (en)", "Español (es)"]


def write(tmp_path, text):
    path = tmp_path / "form.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_calculation_cycle_names_the_fields(tmp_path):
    path = write(
        tmp_path,
        "| survey |\n| | type | name | label | calculation |\n"
        "| | calculate | a | | ${b} + 1 |\n| | calculate | b | | ${a} * 2 |\n",
    )
    with pytest.raises(InstrumentError, match=r"row 2, column calculation: .*cycle: a → b → a"):
        load_instrument(path)


def test_unknown_function_and_bad_range_are_each_reported(tmp_path):
    path = write(
        tmp_path,
        "| survey |\n| | type | name | label | relevant | parameters |\n"
        "| | integer | n | N | | |\n"
        "| | text | t | T | pulldata('f', 'c', 'k', ${n}) | |\n"
        "| | range | r | R | | start=0 end=10 step=3 |\n",
    )
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    problems = [p.describe() for p in caught.value.problems]
    assert problems == [
        "sheet survey, row 3, column relevant: the function pulldata() is not supported by "
        "Triangulum's form engine (at character 1) in \"pulldata('f', 'c', 'k', ${n})\"",
        "sheet survey, row 4, column parameters: the range from start to end is not a whole "
        "number of steps",
    ]


def test_json_sheet_records_report_entries(tmp_path):
    path = tmp_path / "form.json"
    path.write_text(
        '{"survey": [{"type": "integer", "name": "a", "label": "A"},'
        ' {"type": "text", "name": "b", "label": "B", "constraint": ". >"}]}',
        encoding="utf-8",
    )
    with pytest.raises(InstrumentError, match="sheet survey, entry 2, column constraint"):
        load_instrument(path)


def test_check_command_summarises(capsys):
    call_command("instrument", "check", str(xlsform("xlsform_pyxform/xlsform_spec_test.xlsx")))
    out = capsys.readouterr().out
    assert "accepted" in out
    assert "languages chinese, english" in out
    assert "repeats   1" in out
    assert re.search(r"select_one\s+9\n", out)
    assert re.search(r"repeat_count\s+1\n", out)


def test_check_command_fails_naming_the_place(capsys):
    with pytest.raises(CommandError, match="refused, 1 problem"):
        call_command("instrument", "check", str(xlsform("xlsform_pyxform/negative/bad_calc.xlsx")))
    err = capsys.readouterr().err
    assert "bad_calc.xlsx, sheet survey, row 2, column calculation:" in err
