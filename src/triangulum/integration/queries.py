"""Read-side shaping for the integration pages and downloads.

Every integrated statement (a finding, a proposition, a joint-display cell) cites evidence;
here each piece of evidence becomes a link a reader can follow back to the data: survey
evidence to the analysis result (anchored to the row it cites), case-study evidence to the
coded segment in the source reader, the framework-matrix cell or the source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.urls import reverse

from triangulum.studies.models import Role

from . import convergence
from .models import (
    ConvergenceCode,
    Evidence,
    Finding,
    GlobalAssessment,
    JointDisplay,
    JointDisplayCell,
    JointDisplayRow,
    Proposition,
    SettledPairCode,
    Strand,
    StrandPairCode,
    Theme,
)

# Who may open each kind of evidence target: the roles of the page it links to
# (analysis results; the casework source reader; framework cells; the wave's exports).
ANALYSIS_READERS = frozenset({Role.LEAD, Role.RESEARCHER, Role.VIEWER})
SEGMENT_READERS = frozenset({Role.LEAD, Role.RESEARCHER, Role.CODER})
MATRIX_READERS = frozenset({Role.LEAD, Role.RESEARCHER, Role.CODER, Role.VIEWER})
SURVEY_ITEM_READERS = frozenset({Role.LEAD, Role.RESEARCHER})
INTEGRATION_READERS = frozenset({Role.LEAD, Role.RESEARCHER, Role.VIEWER})

READERS_BY_KIND = {
    Evidence.Kind.ANALYSIS_RESULT: ANALYSIS_READERS,
    Evidence.Kind.SURVEY_ITEM: SURVEY_ITEM_READERS,
    Evidence.Kind.PROPOSITION: INTEGRATION_READERS,
    Evidence.Kind.SEGMENT: SEGMENT_READERS,
    Evidence.Kind.MATRIX_CELL: MATRIX_READERS,
    Evidence.Kind.SOURCE: SEGMENT_READERS,
}

# Fields of the related rows an evidence link needs; the rest (a source's whole text, a
# result's table and SVG) is left in the database.
EVIDENCE_FIELDS = (
    "id",
    "finding_id",
    "proposition_id",
    "cell_id",
    "kind",
    "analysis_result_id",
    "analysis_result__id",
    "analysis_result__name",
    "wave_id",
    "wave__id",
    "wave__number",
    "wave__name",
    "item",
    "coding_id",
    "coding__id",
    "coding__start",
    "coding__end",
    "coding__source_id",
    "coding__code_id",
    "coding__code__id",
    "coding__code__name",
    "framework_cell_id",
    "framework_cell__id",
    "framework_cell__matrix_id",
    "framework_cell__case_id",
    "framework_cell__code_id",
    "framework_cell__matrix__id",
    "framework_cell__matrix__name",
    "framework_cell__case__id",
    "framework_cell__case__name",
    "framework_cell__code__id",
    "framework_cell__code__name",
    "source_id",
    "cited_proposition_id",
    "cited_proposition__id",
    "cited_proposition__statement",
    "locator",
    "label",
)
EVIDENCE_RELATED = (
    "analysis_result",
    "wave",
    "coding__code",
    "framework_cell__matrix",
    "framework_cell__case",
    "framework_cell__code",
    "cited_proposition",
)


def evidence_queryset():
    return Evidence.objects.select_related(*EVIDENCE_RELATED).only(*EVIDENCE_FIELDS)


# --- evidence links -----------------------------------------------------------------------


@dataclass
class EvidenceLink:
    evidence: Evidence
    label: str
    kind_label: str
    url: str
    is_survey: bool
    # Whether the viewer's role may open the page the link points at.
    may_follow: bool = True

    @property
    def strand_label(self) -> str:
        return "Survey" if self.is_survey else "Case study"


def _matches(row: dict, wanted: dict) -> bool:
    return all(str(row.get(key)) == str(value) for key, value in wanted.items())


def result_row_number(data: list | None, locator: dict | None) -> int | None:
    """The 1-based row of an analysis table that a locator names, or None.

    A locator names the row by position (``{"row": 3}``, counting from 0) or by the values
    of its columns (``{"row": {"item": "q3", "category": "agree"}}``).
    """
    if not locator or not data:
        return None
    wanted = locator.get("row")
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        return wanted + 1 if 0 <= wanted < len(data) else None
    if isinstance(wanted, dict) and wanted:
        for index, row in enumerate(data):
            if isinstance(row, dict) and _matches(row, wanted):
                return index + 1
    return None


def _locator_text(locator: dict | None) -> str:
    if not locator:
        return ""
    wanted = locator.get("row")
    parts = []
    if isinstance(wanted, dict):
        parts.append(", ".join(f"{key} = {value}" for key, value in wanted.items()))
    if locator.get("column"):
        parts.append(f"column {locator['column']}")
    return "; ".join(parts)


def _default_label(evidence: Evidence) -> str:
    kind = evidence.kind
    if kind == Evidence.Kind.ANALYSIS_RESULT:
        result = evidence.analysis_result
        where = _locator_text(evidence.locator)
        return f"{result.name}" + (f" ({where})" if where else "")
    if kind == Evidence.Kind.SURVEY_ITEM:
        return (
            f"{evidence.wave.name}: item {evidence.item}" if evidence.item else evidence.wave.name
        )
    if kind == Evidence.Kind.PROPOSITION:
        return evidence.cited_proposition.statement[:120]
    # Case-study evidence is not named by its source's title: titles name a participant's
    # role at a site, which only the case-study roles may see (ADR 0005).
    if kind == Evidence.Kind.SEGMENT:
        return f"Segment coded {evidence.coding.code.name}"
    if kind == Evidence.Kind.MATRIX_CELL:
        cell = evidence.framework_cell
        return f"{cell.matrix.name}: {cell.case.name} × {cell.code.name}"
    if kind == Evidence.Kind.SOURCE:
        return f"Case-study source {evidence.source_id}"
    return str(evidence)


def _result_rows(evidence: Iterable[Evidence]) -> dict[int, list]:
    """The table rows of the analysis results the evidence cites with a row locator."""
    from triangulum.analysis.models import AnalysisResult

    wanted = {
        e.analysis_result_id
        for e in evidence
        if e.kind == Evidence.Kind.ANALYSIS_RESULT and e.locator
    }
    if not wanted:
        return {}
    return dict(AnalysisResult.objects.filter(pk__in=wanted).values_list("pk", "data"))


def _url(evidence: Evidence, slug: str, rows: dict[int, list]) -> str:
    kind = evidence.kind
    if kind == Evidence.Kind.ANALYSIS_RESULT:
        url = reverse("analysis:result", args=[slug, evidence.analysis_result_id])
        number = result_row_number(rows.get(evidence.analysis_result_id), evidence.locator)
        return f"{url}#row-{number}" if number else url
    if kind == Evidence.Kind.SURVEY_ITEM:
        return reverse("fieldwork:exports", args=[slug, evidence.wave.number])
    if kind == Evidence.Kind.PROPOSITION:
        return reverse("integration:proposition", args=[slug, evidence.cited_proposition_id])
    if kind == Evidence.Kind.SEGMENT:
        coding = evidence.coding
        reader = reverse("casework:reader", args=[slug, coding.source_id])
        # ?at= marks the passage the segment starts in (#at), with the coding in its
        # margin. The passage, not the coding's own element, is the anchor: a coder in a
        # blind reliability assignment sees only their own codings, but every reader of
        # the source sees the passage. ?coding= names the segment (the reader ignores it),
        # so the address can be pasted to cite the same segment elsewhere.
        return f"{reader}?at={coding.start}&coding={coding.pk}#at"
    if kind == Evidence.Kind.MATRIX_CELL:
        cell = evidence.framework_cell
        return reverse(
            "casework:framework_cell", args=[slug, cell.matrix_id, cell.case_id, cell.code_id]
        )
    if kind == Evidence.Kind.SOURCE:
        return reverse("casework:reader", args=[slug, evidence.source_id])
    raise ValueError(f"evidence {evidence.pk} has an unknown kind {kind!r}")


def _study_slug(evidence: Evidence) -> str:
    from triangulum.studies.models import Study

    if evidence.finding_id:
        study_id = Finding.objects.filter(pk=evidence.finding_id).values("study_id")
    elif evidence.proposition_id:
        study_id = Proposition.objects.filter(pk=evidence.proposition_id).values("study_id")
    else:
        study_id = JointDisplayCell.objects.filter(pk=evidence.cell_id).values(
            "row__display__study_id"
        )
    return Study.objects.filter(pk__in=study_id).values_list("slug", flat=True).get()


def evidence_url(evidence: Evidence, slug: str | None = None) -> str:
    """The path of the page that shows ``evidence``'s target (the row of a table, the
    segment in its source), for the study that owns the evidence."""
    slug = slug or _study_slug(evidence)
    return _url(evidence, slug, _result_rows([evidence]))


def evidence_links(evidence: Iterable[Evidence], slug: str, role: str | None) -> list[EvidenceLink]:
    """Links for evidence rows fetched with ``evidence_queryset()``; ``role`` decides which
    links the reader may follow (None: all, as in a download)."""
    evidence = list(evidence)
    rows = _result_rows(evidence)
    return [
        EvidenceLink(
            evidence=item,
            label=item.label or _default_label(item),
            kind_label=item.get_kind_display(),
            url=_url(item, slug, rows),
            is_survey=item.is_survey,
            may_follow=role is None or role in READERS_BY_KIND[item.kind],
        )
        for item in evidence
    ]


# --- findings register --------------------------------------------------------------------


@dataclass
class FindingEntry:
    finding: Finding
    evidence: list[EvidenceLink]


@dataclass
class StrandFindings:
    strand: str
    label: str
    findings: list[FindingEntry] = field(default_factory=list)


@dataclass
class RegisterSection:
    research_question: object
    strands: list[StrandFindings]

    @property
    def count(self) -> int:
        return sum(len(s.findings) for s in self.strands)


def findings_register(study, role: str | None) -> list[RegisterSection]:
    """Findings per research question and strand (in the order the strands run), each
    with its evidence links."""
    findings = list(
        Finding.objects.filter(study=study)
        .select_related("theme", "created_by", "research_question")
        .prefetch_related(Prefetch("evidence", queryset=evidence_queryset()))
    )
    all_evidence = [e for f in findings for e in f.evidence.all()]
    links = {link.evidence.pk: link for link in evidence_links(all_evidence, study.slug, role)}
    sections = []
    for rq in study.research_questions.order_by("number"):
        strands = [StrandFindings(strand=value, label=label) for value, label in Strand.choices]
        by_strand = {s.strand: s for s in strands}
        for finding in findings:
            if finding.research_question_id == rq.pk:
                by_strand[finding.strand].findings.append(
                    FindingEntry(finding, [links[e.pk] for e in finding.evidence.all()])
                )
        sections.append(RegisterSection(research_question=rq, strands=strands))
    return sections


def finding_entry(finding: Finding, role: str | None) -> FindingEntry:
    evidence = evidence_queryset().filter(finding=finding)
    return FindingEntry(finding, evidence_links(evidence, finding.study.slug, role))


# --- convergence coding matrix ------------------------------------------------------------

STRAND_LABELS = dict(Strand.choices)
STRAND_ORDER = {value: index for index, value in enumerate(Strand.values)}
CODE_LABELS = dict(ConvergenceCode.choices)


def pair_label(strand_a: str, strand_b: str) -> str:
    """A pair named in the design's order (the database keeps it in string order)."""
    first, second = sorted((strand_a, strand_b), key=STRAND_ORDER.__getitem__)
    return f"{STRAND_LABELS[first]} × {STRAND_LABELS[second]}"


def design_pairs() -> list[tuple[str, str]]:
    """The six pairs of strands, stored form, in the order the design runs."""
    return sorted(
        convergence.strand_pairs(),
        key=lambda pair: sorted(STRAND_ORDER[s] for s in pair),
    )


@dataclass
class CoderCode:
    coder: str
    code: str
    label: str
    rationale: str


@dataclass
class ConvergenceCell:
    strand_a: str
    strand_b: str
    settled: str | None
    settled_label: str
    settled_rationale: str
    coders: list[CoderCode]
    disagreement: bool


@dataclass
class ConvergenceThemeRow:
    theme: Theme
    cells: list[ConvergenceCell]
    settled_count: int


@dataclass
class ConvergenceSection:
    research_question: object
    rows: list[ConvergenceThemeRow]
    assessment: GlobalAssessment | None


@dataclass
class ConvergencePage:
    pairs: list[dict]
    sections: list[ConvergenceSection]
    coders: list[str]
    agreement: convergence.CoderAgreement | None
    agreement_error: str
    agreement_rows: list[dict]
    agreement_totals: list[int]
    table_labels: list[str]
    matrix: convergence.SettledMatrix
    completeness: list[dict]
    themes_without_findings: list[Theme]
    themes_all_strands: list[Theme]


def _coder_name(user) -> str:
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def convergence_data(study, themes=None):
    """The stored codes as ``convergence`` takes them: coder -> {unit: code}, settled codes,
    and the rationales beside them (keyed the same way)."""
    themes = themes if themes is not None else list(Theme.objects.filter(study=study))
    ids = [t.pk for t in themes]
    codes_by_coder: dict[str, dict] = {}
    rationales: dict[tuple, str] = {}
    for code in (
        StrandPairCode.objects.filter(theme_id__in=ids)
        .select_related("coder")
        .order_by("coder__username", "theme_id", "strand_a", "strand_b")
    ):
        coder = _coder_name(code.coder)
        unit = (code.theme_id, code.strand_a, code.strand_b)
        codes_by_coder.setdefault(coder, {})[unit] = code.code
        rationales[(coder, unit)] = code.rationale
    settled = {}
    settled_rationales = {}
    for code in SettledPairCode.objects.filter(theme_id__in=ids):
        unit = (code.theme_id, code.strand_a, code.strand_b)
        settled[unit] = code.code
        settled_rationales[unit] = code.rationale
    return codes_by_coder, rationales, settled, settled_rationales


def convergence_page(study) -> ConvergencePage:
    themes = list(
        Theme.objects.filter(study=study)
        .select_related("research_question")
        .order_by("research_question__number", "order", "id")
    )
    by_id = {t.pk: t for t in themes}
    codes_by_coder, rationales, settled, settled_rationales = convergence_data(study, themes)
    pairs = design_pairs()
    matrix = convergence.settled_matrix(
        [t.pk for t in themes], codes_by_coder, settled, Strand.values
    )
    cells_by_theme = {}
    for row in matrix.rows:
        by_pair = {(c.strand_a, c.strand_b): c for c in row.cells}
        cells = []
        for a, b in pairs:
            cell = by_pair[(a, b)]
            unit = (row.theme, a, b)
            cells.append(
                ConvergenceCell(
                    strand_a=a,
                    strand_b=b,
                    settled=cell.settled,
                    settled_label=CODE_LABELS.get(cell.settled, ""),
                    settled_rationale=settled_rationales.get(unit, ""),
                    coders=[
                        CoderCode(
                            coder=coder,
                            code=code,
                            label=CODE_LABELS[code],
                            rationale=rationales.get((coder, unit), ""),
                        )
                        for coder, code in sorted(cell.codes.items())
                    ],
                    disagreement=cell.disagreement,
                )
            )
        cells_by_theme[row.theme] = ConvergenceThemeRow(by_id[row.theme], cells, row.settled_count)
    assessments = {
        a.research_question_id: a
        for a in GlobalAssessment.objects.filter(study=study).select_related("written_by")
    }
    sections = []
    for rq in study.research_questions.order_by("number"):
        rows = [cells_by_theme[t.pk] for t in themes if t.research_question_id == rq.pk]
        sections.append(ConvergenceSection(rq, rows, assessments.get(rq.pk)))

    coders = sorted(codes_by_coder)
    result, error = None, ""
    if len(coders) >= 2:
        try:
            result = convergence.agreement(codes_by_coder)
        except convergence.ConvergenceError as failure:
            error = str(failure)
    elif themes:
        error = "Agreement needs at least two researchers' codes; fewer have coded so far."
    agreement_rows = []
    if result is not None and result.table:
        for code, counts in zip(convergence.CODES, result.table, strict=True):
            agreement_rows.append(
                {"label": CODE_LABELS[code], "counts": list(counts), "total": sum(counts)}
            )
    totals = [sum(column) for column in zip(*result.table, strict=True)] if agreement_rows else []
    findings = Finding.objects.filter(study=study, theme__isnull=False).values_list(
        "theme_id", "strand"
    )
    summary = convergence.completeness(
        [t.pk for t in themes], list(findings), settled, Strand.values
    )
    contributions = [
        {
            "strand": item.strand,
            "label": STRAND_LABELS[item.strand],
            "themes_covered": item.themes_covered,
            "findings": item.findings,
            "unique_themes": [by_id[t] for t in item.unique_themes],
            "silences_it_fills": item.silences_it_fills,
        }
        for item in summary.strands
    ]
    return ConvergencePage(
        pairs=[{"a": a, "b": b, "label": pair_label(a, b)} for a, b in pairs],
        sections=sections,
        coders=coders,
        agreement=result,
        agreement_error=error,
        agreement_rows=agreement_rows,
        agreement_totals=totals,
        table_labels=[CODE_LABELS[c] for c in convergence.CODES],
        matrix=matrix,
        completeness=contributions,
        themes_without_findings=[by_id[t] for t in summary.themes_without_findings],
        themes_all_strands=[by_id[t] for t in summary.themes_all_strands],
    )


def theme_units(theme: Theme, user) -> list[dict]:
    """One theme's six strand pairs: every coder's code and rationale, the settled code,
    and ``user``'s own code (for the form)."""
    codes = list(
        StrandPairCode.objects.filter(theme=theme)
        .select_related("coder")
        .order_by("coder__username")
    )
    settled = {(s.strand_a, s.strand_b): s for s in SettledPairCode.objects.filter(theme=theme)}
    units = []
    for a, b in design_pairs():
        here = [c for c in codes if (c.strand_a, c.strand_b) == (a, b)]
        mine = next((c for c in here if c.coder_id == user.pk), None)
        units.append(
            {
                "key": f"{a}-{b}",
                "strand_a": a,
                "strand_b": b,
                "label": pair_label(a, b),
                "codes": [
                    CoderCode(_coder_name(c.coder), c.code, CODE_LABELS[c.code], c.rationale)
                    for c in here
                ],
                "mine": mine,
                "settled": settled.get((a, b)),
                "disagreement": len({c.code for c in here}) > 1,
            }
        )
    return units


# --- propositions -------------------------------------------------------------------------


def propositions_for(study):
    return (
        Proposition.objects.filter(study=study)
        .select_related("research_question", "wave", "finding", "locked_by")
        .order_by("research_question__number", "id")
    )


def proposition_evidence(proposition: Proposition, role: str | None) -> list[EvidenceLink]:
    evidence = evidence_queryset().filter(proposition=proposition)
    return evidence_links(evidence, proposition.study.slug, role)


# --- joint displays -----------------------------------------------------------------------


@dataclass
class DisplayCell:
    column: str
    label: str
    text: str
    evidence: list[EvidenceLink]


@dataclass
class DisplayRow:
    row: JointDisplayRow
    cells: list[DisplayCell]

    @property
    def survey_evidence(self) -> list[EvidenceLink]:
        return [link for cell in self.cells for link in cell.evidence if link.is_survey]

    @property
    def case_study_evidence(self) -> list[EvidenceLink]:
        return [link for cell in self.cells for link in cell.evidence if not link.is_survey]


@dataclass
class DisplayTable:
    display: JointDisplay
    columns: list[dict]
    rows: list[DisplayRow]

    @property
    def is_simulated(self) -> bool:
        return self.display.is_simulated or self.display.study.is_simulated


def displays_for(study):
    """The study's joint displays with their row counts, for the list page."""
    from django.db.models import Count, Q

    return (
        JointDisplay.objects.filter(study=study)
        .select_related("research_question")
        .annotate(
            row_count=Count("rows", distinct=True),
            inferred_count=Count("rows", filter=~Q(rows__meta_inference=""), distinct=True),
        )
        .order_by("kind", "title")
    )


def display_columns(display: JointDisplay) -> list[dict]:
    columns = []
    for column in display.columns or []:
        if isinstance(column, dict) and column.get("key"):
            columns.append({"key": column["key"], "label": column.get("label") or column["key"]})
        elif isinstance(column, str):
            columns.append({"key": column, "label": column})
    return columns


def display_table(display: JointDisplay, role: str | None) -> DisplayTable:
    """The display as rows × its columns, each cell with its text and evidence links.

    Four queries whatever the size: rows, cells, evidence (with every target it names) and
    the analysis tables whose rows the evidence anchors to.
    """
    rows = list(
        JointDisplayRow.objects.filter(display=display)
        .select_related("meta_inference_by", "theme", "research_question")
        .prefetch_related(
            Prefetch(
                "cells",
                queryset=JointDisplayCell.objects.prefetch_related(
                    Prefetch("evidence", queryset=evidence_queryset())
                ),
            )
        )
        .order_by("order", "id")
    )
    columns = display_columns(display)
    known = {c["key"] for c in columns}
    # A cell whose column the display does not list is still shown (after the listed ones),
    # so no evidence is hidden by a mismatch.
    for row in rows:
        for cell in row.cells.all():
            if cell.column not in known:
                columns.append({"key": cell.column, "label": cell.column})
                known.add(cell.column)
    all_evidence = [e for row in rows for cell in row.cells.all() for e in cell.evidence.all()]
    links = {
        link.evidence.pk: link for link in evidence_links(all_evidence, display.study.slug, role)
    }
    shaped = []
    for row in rows:
        by_column = {cell.column: cell for cell in row.cells.all()}
        cells = []
        for column in columns:
            cell = by_column.get(column["key"])
            cells.append(
                DisplayCell(
                    column=column["key"],
                    label=column["label"],
                    text=cell.text if cell else "",
                    evidence=[links[e.pk] for e in cell.evidence.all()] if cell else [],
                )
            )
        shaped.append(DisplayRow(row=row, cells=cells))
    return DisplayTable(display=display, columns=columns, rows=shaped)


PARAMETER_LABELS = {
    "item": "Item",
    "categories": "Answers counted",
    "threshold": "Threshold",
    "margin": "Smallest effect worth the name (margin)",
    "group_item": "Groups defined by",
    "group_a": "Group A",
    "group_b": "Group B",
    "score": "Scoring",
}


def _plain(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)


def proposition_parameters(proposition: Proposition) -> list[tuple[str, str]]:
    """The test's parameters as (label, value) pairs, in a stable order."""
    parameters = proposition.parameters or {}
    known = [k for k in PARAMETER_LABELS if k in parameters]
    rest = sorted(k for k in parameters if k not in PARAMETER_LABELS)
    return [
        (PARAMETER_LABELS.get(k, k.replace("_", " ")), _plain(parameters[k])) for k in known + rest
    ]


def proposition_details(proposition: Proposition) -> list[tuple[str, str]]:
    """The recorded computation of a tested proposition, flattened for a definition list."""
    details = proposition.test_details or {}
    return [(key.replace("_", " "), _plain(value)) for key, value in sorted(details.items())]
