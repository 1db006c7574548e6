"""The Word renderer: real headings, TOC, captions, tables, header label, identical bytes."""

import io
import zipfile

import docx

from triangulum.reports.document import SIMULATED_LABEL
from triangulum.reports.render_docx import render_docx
from triangulum.reports.tests.checks import docx_headers, docx_outline
from triangulum.reports.tests.sample_report import sample_report


def test_headings_use_real_heading_styles_in_order():
    outline = [(style, text) for style, text in docx_outline(render_docx(sample_report()))]
    headings = [(style, text) for style, text in outline if style.startswith("Heading")]
    assert ("Title", "Sample practitioner report") in outline
    assert headings[:3] == [
        ("Heading 1", "Key findings"),
        ("Heading 2", "Engagement"),
        ("Heading 3", "What practitioners said"),
    ]
    assert ("Heading 1", "Reporting checklist") in headings
    assert ("Heading 1", "Provenance") in headings
    levels = [int(style.split()[1]) for style, _ in headings]
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))


def test_tables_are_tables_with_a_repeating_header_row():
    document = docx.Document(io.BytesIO(render_docx(sample_report())))
    # Response by wave, Empty results, COREQ checklist, provenance.
    assert len(document.tables) == 4
    rates = document.tables[0]
    assert [cell.text for cell in rates.rows[0].cells] == [
        "Wave",
        "Issued",
        "Complete",
        "Response rate",
    ]
    assert [cell.text for cell in rates.rows[1].cells] == ["Wave 1", "400", "248", "62%"]
    header_xml = rates.rows[0]._tr.xml
    assert "w:tblHeader" in header_xml
    checklist = document.tables[2]
    assert [cell.text for cell in checklist.rows[2].cells] == ["2", "Credentials", "—", "missing"]


def test_captions_numbered_with_seq_fields():
    data = render_docx(sample_report())
    captions = [text for style, text in docx_outline(data) if style == "Caption"]
    assert captions == [
        "Table 1. Response by wave",
        "Figure 1. Views on clinical engagement",
        "Figure 2. Response rate by wave",
        "Table 2. Empty results",
        "Table 3. COREQ",
    ]
    body = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    assert "SEQ Table" in body and "SEQ Figure" in body
    assert 'TOC \\o "1-3"' in body


def test_quotes_use_the_quote_style_and_figures_carry_alt_text():
    data = render_docx(sample_report())
    document = docx.Document(io.BytesIO(data))
    quotes = [p.text for p in document.paragraphs if p.style.name == "Quote"]
    assert quotes == ["We were asked after the decision was made, not before."]
    assert len(document.inline_shapes) == 2
    body = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    assert 'descr="Diverging bars: more agree than disagree on both items."' in body
    images = [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.endswith(".png")]
    assert len(images) == 2


def test_simulated_label_in_the_page_header():
    assert docx_headers(render_docx(sample_report(simulated=True))) == [SIMULATED_LABEL]
    assert SIMULATED_LABEL not in "".join(docx_headers(render_docx(sample_report(simulated=False))))


def test_identical_bytes_with_fixed_dates():
    first = render_docx(sample_report())
    assert first == render_docx(sample_report())
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    properties = docx.Document(io.BytesIO(first)).core_properties
    assert properties.created.year == 2000 and properties.modified.year == 2000
    assert properties.title == "Sample practitioner report — Demo study"


def test_each_ordered_list_counts_from_one():
    report = sample_report()
    from triangulum.reports.document import Bullets, Section

    extra = Section("More steps", (Bullets((("Again",), ("And again",)), ordered=True),))
    longer = type(report)(**{**report.__dict__, "sections": (*report.sections, extra)})
    body = zipfile.ZipFile(io.BytesIO(render_docx(longer))).read("word/document.xml").decode()
    numbering = zipfile.ZipFile(io.BytesIO(render_docx(longer))).read("word/numbering.xml")
    # Two ordered lists -> two numbering instances, each restarting at 1.
    assert numbering.decode().count('<w:startOverride w:val="1"/>') == 2
    assert body.count("<w:numId ") >= 4
