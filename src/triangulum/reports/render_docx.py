"""A Report as a Word document (.docx) with python-docx. No Django.

Real structure, so the file works as a Word document and not a picture of one:
the built-in Title and Heading 1-9 styles (Word's navigation pane and the table
of contents read them), a TOC field, captions with SEQ fields ("Table 3."),
tables with a repeating header row, the Quote style for quotations, figures as
PNG with alt text, and the simulated-data label in the page header, which Word
prints on every page.

Deterministic: the core properties carry a fixed date and the zip is rewritten
with fixed timestamps, so the same Report gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from .document import (
    SIMULATED_LABEL,
    Bullets,
    Checklist,
    Figure,
    Heading,
    Inline,
    Num,
    Para,
    Quote,
    Report,
    Section,
    Table,
)
from .layout import (
    CHECKLIST_COLUMNS,
    CONTENTS_TITLE,
    KIND_NAMES,
    PROVENANCE_INTRO,
    PROVENANCE_TITLE,
    Placed,
    contents,
    document_title,
    is_numeric,
    walk,
)
from .raster import svg_to_png

FIXED_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
AUTHOR = "Triangulum"
FIGURE_WIDTH = Cm(16)
_PARA_STYLES = {"lead": "Lead", "note": "Note", "callout": "Callout"}
_WARNING = RGBColor(0x7A, 0x2E, 0x00)


def render_docx(report: Report) -> bytes:
    document = Document()
    _set_properties(document, report)
    _add_styles(document)
    _page_setup(document, report)
    _front_matter(document, report)
    writer = _BodyWriter(document)
    for placed in walk(report):
        writer.add(placed)
    _provenance(document, report)
    if report.simulated:
        document.add_paragraph(f"{SIMULATED_LABEL}.", style="Note")
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _set_properties(document, report: Report) -> None:
    properties = document.core_properties
    properties.title = document_title(report)
    properties.subject = report.subtitle
    properties.author = AUTHOR
    properties.last_modified_by = AUTHOR
    properties.created = FIXED_DATE
    properties.modified = FIXED_DATE
    properties.last_printed = FIXED_DATE
    properties.revision = 1
    properties.keywords = KIND_NAMES.get(report.kind, report.kind)
    properties.category = "Simulated data" if report.simulated else ""
    properties.comments = SIMULATED_LABEL if report.simulated else ""
    properties.language = "en-GB"


def _add_styles(document) -> None:
    styles = document.styles
    normal = styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    lead = styles.add_style("Lead", WD_STYLE_TYPE.PARAGRAPH)
    lead.base_style = normal
    lead.font.size = Pt(13)
    note = styles.add_style("Note", WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = normal
    note.font.size = Pt(9)
    note.font.color.rgb = RGBColor(0x3B, 0x3B, 0x3B)
    callout = styles.add_style("Callout", WD_STYLE_TYPE.PARAGRAPH)
    callout.base_style = normal
    callout.paragraph_format.left_indent = Cm(0.75)
    callout.font.bold = True
    callout.font.color.rgb = RGBColor(0x01, 0x66, 0x5E)
    attribution = styles.add_style("Quote Attribution", WD_STYLE_TYPE.PARAGRAPH)
    attribution.base_style = styles["Quote"]
    attribution.font.italic = False
    attribution.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    banner = styles.add_style("Simulated Banner", WD_STYLE_TYPE.PARAGRAPH)
    banner.base_style = styles["Header"]
    banner.font.bold = True
    banner.font.color.rgb = _WARNING
    banner.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _page_setup(document, report: Report) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2.2)
    if report.simulated:
        header = section.header.paragraphs[0]
        header.text = SIMULATED_LABEL
        header.style = document.styles["Simulated Banner"]
    footer = section.footer.paragraphs[0]
    footer.style = document.styles["Footer"]
    footer.add_run(f"{document_title(report)} — page ")
    _add_field(footer, "PAGE", "1")
    footer.add_run(" of ")
    _add_field(footer, "NUMPAGES", "1")


def _front_matter(document, report: Report) -> None:
    if report.simulated:
        document.add_paragraph(SIMULATED_LABEL, style="Simulated Banner")
    document.add_paragraph(KIND_NAMES.get(report.kind, report.kind), style="Note")
    document.add_paragraph(report.title, style="Title")
    if report.subtitle:
        document.add_paragraph(report.subtitle, style="Subtitle")
    if report.study_title:
        document.add_paragraph(report.study_title)
    document.add_paragraph(CONTENTS_TITLE, style="TOC Heading")
    _table_of_contents(document, report)
    document.add_page_break()


def _table_of_contents(document, report: Report) -> None:
    """A TOC field whose shown result already lists the sections.

    Word fills in page numbers when the field is updated (settings ask it to on
    opening); until then, and in readers that never update fields, the list of
    sections is still there.
    """
    paragraph = document.add_paragraph()
    _field_begin(paragraph, 'TOC \\o "1-3" \\h \\z \\u')
    entries = contents(report, max_level=3)
    for index, (level, title, _anchor) in enumerate(entries):
        if index:
            paragraph = document.add_paragraph()
        paragraph.paragraph_format.left_indent = Cm(0.6 * (level - 1))
        paragraph.add_run(title)
    _field_end(paragraph)
    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def _field_begin(paragraph, instruction: str) -> None:
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run._r.append(begin)
    run = paragraph.add_run()
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    run._r.append(text)
    run = paragraph.add_run()
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run._r.append(separate)


def _field_end(paragraph) -> None:
    run = paragraph.add_run()
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def _add_field(paragraph, instruction: str, shown: str) -> None:
    _field_begin(paragraph, instruction)
    paragraph.add_run(shown)
    _field_end(paragraph)


def _caption(document, label: str, number: int, text: str) -> None:
    """A Word caption: "Table 3. text" with the number as a SEQ field."""
    paragraph = document.add_paragraph(style="Caption")
    paragraph.add_run(f"{label} ")
    _add_field(paragraph, f"SEQ {label} \\* ARABIC", str(number))
    paragraph.add_run(f". {text}")
    paragraph.paragraph_format.keep_with_next = True


class _BodyWriter:
    def __init__(self, document) -> None:
        self.document = document

    def add(self, placed: Placed) -> None:
        block = placed.block
        document = self.document
        if isinstance(block, Section):
            document.add_heading(block.title, level=min(placed.level, 9))
        elif isinstance(block, Heading):
            document.add_heading(block.text, level=min(placed.level, 9))
        elif isinstance(block, Para):
            paragraph = document.add_paragraph(style=_PARA_STYLES.get(block.style, "Normal"))
            _add_inlines(paragraph, block.content)
        elif isinstance(block, Bullets):
            self._bullets(block)
        elif isinstance(block, Quote):
            document.add_paragraph(block.text, style="Quote")
            source = f" [{block.cite.label}]" if block.cite.label else ""
            document.add_paragraph(f"— {block.attribution}{source}", style="Quote Attribution")
        elif isinstance(block, Table):
            self._table(block, placed.number)
        elif isinstance(block, Checklist):
            self._checklist(block, placed.number)
        elif isinstance(block, Figure):
            self._figure(block, placed.number)
        else:
            raise TypeError(f"Not a report block: {block!r}")

    def _bullets(self, block: Bullets) -> None:
        style = "List Number" if block.ordered else "List Bullet"
        num_id = self._restarted_numbering(style) if block.ordered else None
        for item in block.items:
            paragraph = self.document.add_paragraph(style=style)
            _add_inlines(paragraph, item)
            if num_id is not None:
                numbering = paragraph._p.get_or_add_pPr().get_or_add_numPr()
                numbering.get_or_add_ilvl().val = 0
                numbering.get_or_add_numId().val = num_id

    def _restarted_numbering(self, style_name: str) -> int:
        """A new numbering instance starting at 1, so each ordered list counts from 1."""
        style = self.document.styles[style_name]
        style_num_id = style.element.pPr.numPr.numId.val
        numbering = self.document.part.numbering_part.element
        abstract_id = numbering.num_having_numId(style_num_id).abstractNumId.val
        num = numbering.add_num(abstract_id)
        num.add_lvlOverride(ilvl=0).add_startOverride(1)
        return num.numId

    def _grid(self, columns: tuple[str, ...], rows: int):
        table = self.document.add_table(rows=1 + rows, cols=max(1, len(columns)))
        table.style = self.document.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        header = table.rows[0]
        # Repeat the header row on each page and mark it as the header for screen readers.
        header_properties = header._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header_properties.append(repeat)
        for cell, name in zip(header.cells, columns, strict=False):
            cell.text = ""
            cell.paragraphs[0].add_run(name).bold = True
        return table

    def _table(self, block: Table, number: int) -> None:
        _caption(self.document, "Table", number, block.caption)
        table = self._grid(block.columns, max(1, len(block.rows)))
        if not block.rows:
            table.rows[1].cells[0].text = "No rows."
        for row, values in zip(table.rows[1:], block.rows, strict=False):
            for index, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
                _add_inlines(cell.paragraphs[0], (value,))
                if index and is_numeric(value):
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for note in block.notes:
            self.document.add_paragraph(note, style="Note")
        if block.cite is not None and block.cite.label:
            self.document.add_paragraph(f"Source: {block.cite.label}", style="Note")

    def _checklist(self, block: Checklist, number: int) -> None:
        _caption(self.document, "Table", number, block.caption)
        table = self._grid(CHECKLIST_COLUMNS, max(1, len(block.items)))
        if not block.items:
            table.rows[1].cells[0].text = "No items."
        for row, item in zip(table.rows[1:], block.items, strict=False):
            values = (item.number, item.item, item.where or "—", item.status)
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
            if item.status == "missing":
                row.cells[3].paragraphs[0].runs[0].bold = True

    def _figure(self, block: Figure, number: int) -> None:
        self.document.add_picture(io.BytesIO(svg_to_png(block.svg)), width=FIGURE_WIDTH)
        picture_paragraph = self.document.paragraphs[-1]
        picture_paragraph.paragraph_format.keep_with_next = True
        for properties in picture_paragraph._p.iter(
            "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
        ):
            properties.set("descr", block.alt)
            properties.set("title", block.caption)
        _caption(self.document, "Figure", number, block.caption)
        if block.cite is not None and block.cite.label:
            self.document.add_paragraph(f"Source: {block.cite.label}", style="Note")


def _add_inlines(paragraph, content: tuple[Inline, ...]) -> None:
    for item in content:
        paragraph.add_run(item.text if isinstance(item, Num) else item)


def _provenance(document, report: Report) -> None:
    document.add_page_break()
    document.add_heading(PROVENANCE_TITLE, level=1)
    document.add_paragraph(PROVENANCE_INTRO)
    items = report.provenance.items or (("Provenance", "none recorded"),)
    table = document.add_table(rows=len(items) + 1, cols=2)
    table.style = document.styles["Table Grid"]
    header = table.rows[0]
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(repeat)
    for cell, name in zip(header.cells, ("Input", "Value"), strict=True):
        cell.paragraphs[0].add_run(name).bold = True
    for row, (label, value) in zip(table.rows[1:], items, strict=True):
        row.cells[0].text = label
        row.cells[1].text = value


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry dated ZIP_DATE (python-docx stamps the clock time)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            fixed.create_system = 0
            target.writestr(fixed, source.read(entry.filename))
    return output.getvalue()
