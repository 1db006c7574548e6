"""A joint display as a download: XLSX (openpyxl), DOCX (python-docx) and self-contained HTML.

Each keeps every row, every cell's text and evidence, and the row's meta-inference. Links
to the evidence are written out as full addresses (text), so a printed copy or a file
sent to a colleague still says where each statement comes from; following one needs a
study account with the right role.
"""

from __future__ import annotations

import io

from django.template.loader import render_to_string
from django.utils import timezone

from .models import JointDisplay
from .queries import DisplayTable, EvidenceLink, display_table

SIMULATED_NOTE = (
    "Simulated data: this joint display belongs to a study whose records are simulated for "
    "demonstration; no statement describes a real person or organisation's answers."
)


def _table(display: JointDisplay) -> DisplayTable:
    # role=None: a download lists every piece of evidence with its address.
    return display_table(display, role=None)


def _address(base_url: str, link: EvidenceLink) -> str:
    return f"{base_url}{link.url}"


def evidence_line(base_url: str, link: EvidenceLink) -> str:
    return f"{link.strand_label} evidence: {link.label} ({link.kind_label}) — {_address(base_url, link)}"


def _meta_line(row) -> str:
    if not row.meta_inference_at:
        return ""
    who = row.meta_inference_by.get_username() if row.meta_inference_by else "unknown"
    return f"Written by {who}, {timezone.localtime(row.meta_inference_at):%d %b %Y %H:%M}"


def _heading_lines(table: DisplayTable, *, with_note: bool = True) -> list[str]:
    display = table.display
    lines = [f"{display.get_kind_display()} · {display.study.title}"]
    if display.research_question:
        rq = display.research_question
        lines.append(f"{rq.code}: {rq.text}")
    if display.description:
        lines.append(display.description)
    if with_note and table.is_simulated:
        lines.append(SIMULATED_NOTE)
    return lines


def display_xlsx(display: JointDisplay, *, base_url: str) -> bytes:
    """A workbook: the display (one sheet row per display row) and its evidence, one
    piece per sheet row with its full address."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    table = _table(display)
    book = Workbook()
    sheet = book.active
    sheet.title = "Joint display"
    sheet.append([display.title])
    sheet["A1"].font = Font(bold=True, size=14)
    for line in _heading_lines(table):
        sheet.append([line])
    sheet.append([])
    header = ["Row"] + [c["label"] for c in table.columns] + ["Meta-inference"]
    sheet.append(header)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in table.rows:
        values = [row.row.label]
        for cell in row.cells:
            parts = [cell.text] if cell.text else []
            parts += [evidence_line(base_url, link) for link in cell.evidence]
            values.append("\n".join(parts))
        meta = row.row.meta_inference
        values.append("\n".join(p for p in (meta, _meta_line(row.row)) if p))
        sheet.append(values)
    for sheet_row in sheet.iter_rows(min_row=header_row + 1):
        for cell in sheet_row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)
    sheet.column_dimensions["A"].width = 30
    for index in range(len(header) - 1):
        letter = sheet.cell(row=header_row, column=index + 2).column_letter
        sheet.column_dimensions[letter].width = 50

    evidence = book.create_sheet("Evidence")
    evidence.append(["Row", "Column", "Strand", "Kind", "Evidence", "Address"])
    for cell in evidence[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        for cell in row.cells:
            for link in cell.evidence:
                evidence.append(
                    [
                        row.row.label,
                        cell.label,
                        link.strand_label,
                        link.kind_label,
                        link.label,
                        _address(base_url, link),
                    ]
                )
    for letter, width in zip("ABCDEF", (30, 24, 12, 24, 50, 70), strict=True):
        evidence.column_dimensions[letter].width = width
    if table.is_simulated:
        evidence.append([])
        evidence.append([SIMULATED_NOTE])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _repeat_as_header(row) -> None:
    """Mark a Word table row to repeat at the top of each page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    properties.append(marker)


def display_docx(display: JointDisplay, *, base_url: str) -> bytes:
    """A Word document: the display as a table (header row repeated on every page), each
    cell's evidence listed under its text with full addresses."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    table = _table(display)
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(display.title, level=1)
    for line in _heading_lines(table):
        document.add_paragraph(line)
    document.add_paragraph(
        f"Table 1. {display.title}: {len(table.rows)} rows, each with its evidence and the "
        "meta-inference the researchers drew from it.",
        style="Caption",
    )
    grid = document.add_table(rows=1, cols=len(table.columns) + 2)
    grid.style = "Table Grid"
    header = grid.rows[0]
    _repeat_as_header(header)
    labels = ["Row"] + [c["label"] for c in table.columns] + ["Meta-inference"]
    for cell, label in zip(header.cells, labels, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(label).bold = True
    for row in table.rows:
        cells = grid.add_row().cells
        cells[0].text = ""
        cells[0].paragraphs[0].add_run(row.row.label).bold = True
        for target, cell in zip(cells[1:-1], row.cells, strict=True):
            target.text = cell.text
            for link in cell.evidence:
                run = target.add_paragraph().add_run(evidence_line(base_url, link))
                run.italic = True
                run.font.size = Pt(8)
        cells[-1].text = row.row.meta_inference
        if meta := _meta_line(row.row):
            run = cells[-1].add_paragraph().add_run(meta)
            run.italic = True
            run.font.size = Pt(8)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def display_html(display: JointDisplay, *, base_url: str) -> bytes:
    """One HTML file with its styles inside (no scripts, no external files): a table with
    every row, its evidence as full addresses, and the meta-inferences."""
    table = _table(display)
    rows = [
        {
            "row": row.row,
            "meta_line": _meta_line(row.row),
            "cells": [
                {
                    "text": cell.text,
                    "label": cell.label,
                    "evidence": [
                        {"link": link, "address": _address(base_url, link)}
                        for link in cell.evidence
                    ],
                }
                for cell in row.cells
            ],
        }
        for row in table.rows
    ]
    html = render_to_string(
        "integration/display_export.html",
        {
            "display": display,
            "table": table,
            "rows": rows,
            "heading_lines": _heading_lines(table, with_note=False),
            "simulated_note": SIMULATED_NOTE if table.is_simulated else "",
            "exported_at": timezone.localtime(),
            "base_url": base_url,
        },
    )
    return html.encode("utf-8")
