"""The document model: walking a Report for numbers, citations and text."""

import dataclasses

import pytest

from triangulum.reports.document import (
    Checklist,
    ChecklistItem,
    Cite,
    Heading,
    Num,
    Para,
    Provenance,
    Report,
    Section,
    Table,
    inline_text,
)
from triangulum.reports.tests.sample_report import sample_report


def test_numbers_are_every_num_in_reading_order():
    report = sample_report()
    values = [num.value for num in report.numbers()]
    # lead para, mean score para, bullet, table row (issued, complete, rate)
    assert values == [0.62, 0.41, 0.62, 400, 248, 0.62]


def test_citations_include_numbers_quotes_tables_and_figures():
    refs = [cite.ref for cite in sample_report().citations()]
    assert "segment:41" in refs  # the quote
    assert refs.count("fieldwork:wave/wave-1/rates") == 6  # 3 nums + table + 2 in table row
    assert "analysis:likert/wave-1#r1c2" in refs  # the figure and a number


def test_text_covers_everything_a_reader_sees():
    text = sample_report().text()
    for expected in (
        "Sample practitioner report",
        "We were asked after the decision was made",
        "GP board member, Site C (P07)",
        "Response rate",
        "62%",
        "AAPOR RR1.",
        "Diverging bars: more agree",
        "Credentials",
        "Case study C, interview 7",
        "Data snapshot",
        "Simulated figures only illustrate",
    ):
        assert expected in text, expected


def test_report_is_frozen_and_hashable():
    report = sample_report()
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.title = "changed"  # type: ignore[misc]
    assert hash(report) == hash(sample_report())
    assert report == sample_report()


def test_inline_text_prints_numbers_as_written():
    cite = Cite("x", "y")
    assert inline_text(("Rate ", Num("62%", 0.62, cite), ".")) == "Rate 62%."


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Heading(4, "Too deep"), "level"),
        (lambda: Para(("x",), style="shout"), "style"),
        (lambda: Table("T", ("a", "b"), (("1",),)), "row 1 has 1 cells"),
        (lambda: ChecklistItem("1", "x", "", "done"), "status"),
        (
            lambda: Report("memo", "t", "s", "st", False, (), Provenance(())),
            "kind",
        ),
    ],
)
def test_malformed_blocks_are_refused_with_the_problem_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_empty_sections_and_checklists_walk_cleanly():
    report = Report(
        kind="guidance",
        title="T",
        subtitle="",
        study_title="S",
        simulated=False,
        sections=(Section("Only", (Checklist("C", ()),), (Section("Sub", ()),)),),
        provenance=Provenance(()),
    )
    assert report.numbers() == []
    assert report.citations() == []
    assert report.text().splitlines() == ["T", "S", "Only", "C", "Sub"]
