"""The PDF renderer: A4, fonts embedded, labelled on every page, identical bytes."""

import io

import pypdf

from triangulum.reports.document import SIMULATED_LABEL
from triangulum.reports.render_pdf import render_pdf
from triangulum.reports.tests.checks import blank_pages, pdf_page_texts, unlabelled_pdf_pages
from triangulum.reports.tests.sample_report import sample_report

A4_POINTS = (595.28, 841.89)


def test_pdf_pages_are_a4_not_blank_and_labelled():
    data = render_pdf(sample_report(simulated=True))
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - A4_POINTS[0]) < 1 and abs(height - A4_POINTS[1]) < 1
    assert blank_pages(data) == []
    assert unlabelled_pdf_pages(data) == []
    texts = pdf_page_texts(data)
    assert all(f"Page {n} of {len(texts)}" in text for n, text in enumerate(texts, start=1))


def test_pdf_of_real_data_carries_no_simulated_label():
    texts = pdf_page_texts(render_pdf(sample_report(simulated=False)))
    assert not any(SIMULATED_LABEL in text for text in texts)


def test_pdf_fonts_are_embedded():
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(sample_report())))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    assert fonts and all(fonts.values()), fonts


def test_pdf_has_fixed_metadata_and_identical_bytes():
    first = render_pdf(sample_report())
    second = render_pdf(sample_report())
    assert first == second
    metadata = pypdf.PdfReader(io.BytesIO(first)).metadata
    assert metadata["/Title"] == "Sample practitioner report — Demo study"
    assert metadata["/CreationDate"] == "D:20000101000000Z"


def test_pdf_holds_the_reports_numbers_and_captions():
    text = "\n".join(pdf_page_texts(render_pdf(sample_report())))
    for expected in (
        "62%",
        "Table 1. Response by wave",
        "Figure 2. Response rate by wave",
        "COREQ",
    ):
        assert expected in text
