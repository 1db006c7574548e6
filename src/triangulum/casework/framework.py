"""Framework matrices (the Framework method, Gale et al. 2013): cases × codes, each cell a
researcher's summary resting on coded segments.

Actions (``create_matrix``, ``create_rq_matrices``, ``set_cell_summary``) follow the
project's rule: keyword arguments, one transaction, one audit event each. ``matrix_view``
and ``cell_candidates`` shape the matrix for pages; ``matrix_xlsx`` and ``matrix_docx``
export it.

Which segments belong to a case is decided once, in ``queries.CaseIndex`` (sources
attached to the case, a site's sources, a participant's turns, an initiative's sources
and codings), so a matrix cell offers the same segments a matrix coding query counts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.db import transaction

from triangulum.audit.actions import record

from . import queries
from .models import Case, Code, Coding, FrameworkCell, FrameworkMatrix


class FrameworkError(ValueError):
    """A matrix or cell change that cannot be made; ``field`` names the input at fault."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- which codings belong to a case and a code -----------------------------------------


def case_segments(case: Case, code: Code, *, visible_to=None) -> list:
    """The segments of ``code`` (and its sub-codes) that belong to ``case``, in text order
    (``queries.Segment`` records; case membership as ``queries.CaseIndex`` defines it)."""
    return queries.segments_for_code(
        case.study, code, case_filters={"case": case.pk}, visible_to=visible_to
    )


# --- actions -----------------------------------------------------------------------------


def _check_study_objects(study, objects, what: str, field_name: str) -> list:
    objects = list(objects)
    stray = [str(obj) for obj in objects if obj.study_id != study.pk]
    if stray:
        raise FrameworkError(f"{what} not in this study: {', '.join(stray)}", field=field_name)
    return objects


@transaction.atomic
def create_matrix(
    *, study, name: str, research_question=None, case_kind: str, codes, cases, actor
) -> FrameworkMatrix:
    name = (name or "").strip()
    if not name:
        raise FrameworkError("A matrix needs a name.", field="name")
    if len(name) > 200:
        raise FrameworkError("A matrix name may have at most 200 characters.", field="name")
    if case_kind not in Case.Kind.values:
        raise FrameworkError(
            f"Unknown kind of case '{case_kind}': use one of {', '.join(Case.Kind.values)}.",
            field="case_kind",
        )
    if FrameworkMatrix.objects.filter(study=study, name=name).exists():
        raise FrameworkError(f"This study already has a matrix named '{name}'.", field="name")
    if research_question is not None and research_question.study_id != study.pk:
        raise FrameworkError(
            f"{research_question} is not a research question of this study.",
            field="research_question",
        )
    codes = _check_study_objects(study, codes, "Codes", "codes")
    cases = _check_study_objects(study, cases, "Cases", "cases")
    if not codes:
        raise FrameworkError("A matrix needs at least one code as a column.", field="codes")
    wrong_kind = [case.name for case in cases if case.kind != case_kind]
    if wrong_kind:
        raise FrameworkError(
            f"These cases are not of kind '{case_kind}': {', '.join(wrong_kind)}.",
            field="cases",
        )
    matrix = FrameworkMatrix.objects.create(
        study=study, name=name, research_question=research_question, case_kind=case_kind
    )
    matrix.codes.set(codes)
    matrix.cases.set(cases)
    record(
        actor=actor,
        action="casework.create_matrix",
        obj=matrix,
        study_id=study.pk,
        after={
            "name": name,
            "research_question": research_question.pk if research_question else None,
            "case_kind": case_kind,
            "codes": [code.pk for code in codes],
            "cases": [case.pk for case in cases],
        },
    )
    return matrix


@transaction.atomic
def create_rq_matrices(*, study, case_kind: str, actor) -> list[FrameworkMatrix]:
    """One matrix per research question, its columns the active codes linked to that RQ.

    Rows are every case of ``case_kind`` in the study. A matrix of the same name that
    exists already is left as it is, so this may be run again after the codebook grows.
    """
    made = []
    cases = list(Case.objects.filter(study=study, kind=case_kind))
    kind_label = Case.Kind(case_kind).label.lower() if case_kind in Case.Kind.values else ""
    for question in study.research_questions.order_by("number"):
        codes = list(question.codes.filter(study=study, is_active=True).order_by("order", "name"))
        if not codes:
            continue
        name = f"{question.code}: {question.short_name} by {kind_label}"[:200]
        if FrameworkMatrix.objects.filter(study=study, name=name).exists():
            continue
        made.append(
            create_matrix(
                study=study,
                name=name,
                research_question=question,
                case_kind=case_kind,
                codes=codes,
                cases=cases,
                actor=actor,
            )
        )
    return made


@transaction.atomic
def set_cell_summary(
    *,
    summary: str,
    segment_ids=(),
    actor,
    cell: FrameworkCell | None = None,
    matrix: FrameworkMatrix | None = None,
    case: Case | None = None,
    code: Code | None = None,
) -> FrameworkCell:
    """Write a cell's summary and the segments it rests on (creating the cell if needed).

    Each segment must be a coding of the cell's code (or a sub-code) that belongs to the
    cell's case.
    """
    if cell is not None:
        matrix, case, code = cell.matrix, cell.case, cell.code
    elif matrix is None or case is None or code is None:
        raise FrameworkError("Name the cell, or its matrix, case and code.")
    if not matrix.cases.filter(pk=case.pk).exists():
        raise FrameworkError(f"'{case}' is not a row of the matrix '{matrix}'.", field="case")
    if not matrix.codes.filter(pk=code.pk).exists():
        raise FrameworkError(f"'{code}' is not a column of the matrix '{matrix}'.", field="code")
    try:
        wanted = sorted({int(value) for value in segment_ids})
    except (TypeError, ValueError):
        raise FrameworkError("Segment ids must be whole numbers.", field="segments") from None
    allowed = {segment.coding_id for segment in case_segments(case, code)}
    stray = [str(value) for value in wanted if value not in allowed]
    if stray:
        raise FrameworkError(
            f"Segments {', '.join(stray)} are not codings of '{code}' for '{case}'.",
            field="segments",
        )
    cell = FrameworkCell.objects.filter(matrix=matrix, case=case, code=code).first()
    before = None
    if cell is None:
        cell = FrameworkCell(matrix=matrix, case=case, code=code)
    else:
        before = {
            "summary": cell.summary,
            "segments": sorted(cell.segments.values_list("pk", flat=True)),
        }
    cell.summary = (summary or "").strip()
    cell.author = actor if getattr(actor, "is_authenticated", False) else None
    cell.save()
    cell.segments.set(wanted)
    record(
        actor=actor,
        action="casework.set_cell_summary",
        obj=cell,
        study_id=matrix.study_id,
        before=before,
        after={"summary": cell.summary, "segments": wanted},
    )
    return cell


# --- queries -----------------------------------------------------------------------------


@dataclass
class CellView:
    case: Case
    code: Code
    cell: FrameworkCell | None
    summary: str
    segment_count: int
    candidate_count: int


@dataclass
class RowView:
    case: Case
    cells: list[CellView] = field(default_factory=list)


@dataclass
class MatrixView:
    matrix: FrameworkMatrix
    codes: list[Code]
    rows: list[RowView]

    @property
    def charted(self) -> int:
        return sum(1 for row in self.rows for cell in row.cells if cell.summary)

    @property
    def size(self) -> int:
        return len(self.rows) * len(self.codes)


def matrix_codes(matrix: FrameworkMatrix) -> list[Code]:
    return list(matrix.codes.order_by("order", "name", "id"))


def matrix_cases(matrix: FrameworkMatrix) -> list[Case]:
    return list(matrix.cases.order_by("name", "id"))


def matrix_view(matrix: FrameworkMatrix, *, visible_to=None) -> MatrixView:
    """The matrix as rows of cells: summary, linked segments, and segments available."""
    codes = matrix_codes(matrix)
    cases = matrix_cases(matrix)
    cells = {
        (cell.case_id, cell.code_id): cell
        for cell in FrameworkCell.objects.filter(matrix=matrix).prefetch_related("segments")
    }
    available = (
        queries.matrix_coding(matrix.study, codes, "cases", cases=cases, visible_to=visible_to)
        if codes and cases
        else None
    )
    rows = []
    for case in cases:
        row = RowView(case=case)
        for code in codes:
            cell = cells.get((case.pk, code.pk))
            row.cells.append(
                CellView(
                    case=case,
                    code=code,
                    cell=cell,
                    summary=cell.summary if cell else "",
                    segment_count=len(cell.segments.all()) if cell else 0,
                    candidate_count=available.cell(case.pk, code).count if available else 0,
                )
            )
        rows.append(row)
    return MatrixView(matrix=matrix, codes=codes, rows=rows)


def cell_candidates(
    matrix: FrameworkMatrix, case: Case, code: Code, *, visible_to=None
) -> tuple[FrameworkCell | None, list]:
    """The cell (or None) and the segments a summary of it may rest on (``is_linked`` set).

    Segments linked earlier but no longer offered (a coding moved away from the case) are
    listed too, so a researcher sees what the summary rested on.
    """
    cell = FrameworkCell.objects.filter(matrix=matrix, case=case, code=code).first()
    linked = set(cell.segments.values_list("pk", flat=True)) if cell else set()
    segments = case_segments(case, code, visible_to=visible_to)
    offered = {segment.coding_id for segment in segments}
    missing = linked - offered
    if missing:
        segments += queries.segments_by_ids(matrix.study, missing, visible_to=visible_to)
    return cell, [
        {"segment": segment, "is_linked": segment.coding_id in linked} for segment in segments
    ]


# --- exports -----------------------------------------------------------------------------


def _segment_text(coding: Coding) -> str:
    return coding.source.text[coding.start : coding.end]


def _caption(matrix: FrameworkMatrix) -> str:
    caption = f"Framework matrix: {matrix.name}"
    if matrix.research_question_id:
        question = matrix.research_question
        caption += f" ({question.code}: {question.text})"
    return caption


def _simulated_note(matrix: FrameworkMatrix) -> str | None:
    if matrix.study.is_simulated:
        return "Simulated data: the study's cases and texts are simulated for demonstration."
    return None


def matrix_xlsx(matrix: FrameworkMatrix) -> bytes:
    """A workbook: the matrix (summaries with their segment counts) and the linked segments."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    view = matrix_view(matrix)
    book = Workbook()
    sheet = book.active
    sheet.title = "Matrix"
    sheet.append([_caption(matrix)])
    sheet["A1"].font = Font(bold=True)
    note = _simulated_note(matrix)
    sheet.append([note or ""])
    header_row = 3
    sheet.append([Case.Kind(matrix.case_kind).label] + [code.name for code in view.codes])
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in view.rows:
        values = [row.case.name]
        for item in row.cells:
            if item.summary or item.segment_count:
                values.append(f"{item.summary}\n[{item.segment_count} linked segment(s)]".strip())
            else:
                values.append("")
        sheet.append(values)
    for row in sheet.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)
    sheet.column_dimensions["A"].width = 28
    for index in range(len(view.codes)):
        sheet.column_dimensions[
            sheet.cell(row=header_row, column=index + 2).column_letter
        ].width = 40

    segments = book.create_sheet("Segments")
    segments.append(["Case", "Code", "Source", "Start", "End", "Coder", "Text"])
    for cell in segments[1]:
        cell.font = Font(bold=True)
    linked = FrameworkCell.objects.filter(matrix=matrix).select_related("case", "code")
    for framework_cell in linked.order_by("case__name", "code__name"):
        for coding in framework_cell.segments.select_related("source", "coder").order_by(
            "source__title", "start"
        ):
            segments.append(
                [
                    framework_cell.case.name,
                    framework_cell.code.name,
                    coding.source.title,
                    coding.start,
                    coding.end,
                    coding.coder.get_username(),
                    _segment_text(coding),
                ]
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _mark_header_row(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def matrix_docx(matrix: FrameworkMatrix) -> bytes:
    """A Word document: a captioned table (header row repeated on each page) and the
    linked segments as quotations under each case."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    view = matrix_view(matrix)
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(matrix.name, level=1)
    note = _simulated_note(matrix)
    if note:
        document.add_paragraph(note)
    document.add_paragraph(f"Table 1. {_caption(matrix)}", style="Caption")
    table = document.add_table(rows=1, cols=len(view.codes) + 1)
    table.style = "Table Grid"
    header = table.rows[0]
    _mark_header_row(header)
    labels = [Case.Kind(matrix.case_kind).label] + [code.name for code in view.codes]
    for cell, label in zip(header.cells, labels, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(label)
        run.bold = True
    for row in view.rows:
        cells = table.add_row().cells
        cells[0].text = row.case.name
        for target, item in zip(cells[1:], row.cells, strict=True):
            target.text = item.summary
            if item.segment_count:
                run = target.add_paragraph().add_run(f"[{item.segment_count} linked segment(s)]")
                run.italic = True
                run.font.size = Pt(8)
    document.add_heading("Segments the summaries rest on", level=2)
    linked = FrameworkCell.objects.filter(matrix=matrix).select_related("case", "code")
    for framework_cell in linked.order_by("case__name", "code__name"):
        codings = list(
            framework_cell.segments.select_related("source").order_by("source__title", "start")
        )
        if not codings:
            continue
        document.add_heading(f"{framework_cell.case.name} × {framework_cell.code.name}", level=3)
        for coding in codings:
            document.add_paragraph(
                f"“{_segment_text(coding)}” ({coding.source.title}, {coding.start}–{coding.end})",
                style="Quote",
            )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
