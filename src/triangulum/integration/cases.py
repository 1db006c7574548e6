"""Linked cases: each case-study site (or initiative) is an organisation of the frame, so
its survey evidence can sit beside its case-study evidence. Read-side queries for the
linked-case pages, the mixed-methods matrix, the quantitized case × code matrix and its
cross-tabulation against survey variables, and the raw values the QCA of the sites
calibrates.

Survey evidence about an organisation comes from its governing-body members' complete
interviews, wave by wave: how many were asked and how many answered, by role (counts,
never names), and for each ordered item the organisation's combined answer — the lower
median of its members' substantive answers, the rule the analysis uses
(``analysis.tidy.lower_median``) — with the spread of members' answers. Where a site's
CCG had merged by a later wave's frame vintage, that wave's answers come from the
successor and say so.

Case-study evidence follows ``casework.queries.CaseIndex``: a site case holds the sources
of its site and any sources attached to it; an initiative case the sources (and codings)
linked to the initiative. Short texts shown beside survey data (framework summaries,
source titles) pass through the pseudonymisation key.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count
from django.db.models.functions import Length

from triangulum.analysis.actions import typology_attribute
from triangulum.analysis.data import item_name, successions_between
from triangulum.analysis.likert import default_agreeing
from triangulum.analysis.models import AnalysisResult, AnalysisRun
from triangulum.analysis.steps import NOMINAL_LISTS
from triangulum.analysis.tidy import NON_SUBSTANTIVE, ItemInfo, catalogue_from_form, lower_median
from triangulum.casework import queries as casework_queries
from triangulum.casework.actions_privacy import label_anonymiser
from triangulum.casework.models import (
    Case,
    Code,
    Coding,
    FrameworkCell,
    FrameworkMatrix,
    Initiative,
    Source,
)
from triangulum.fieldwork.models import Answer, Interview, Wave
from triangulum.organisations.models import Organisation
from triangulum.studies.models import RoleCategory

from .qca_sites import CODE_SOURCES, SURVEY_SOURCES, SetSpec
from .quantitize import CellCoding, QuantitizedMatrix, cross_tabulate, quantitize

CASE_KINDS = {"site": "Case-study sites", "initiative": "Redesign initiatives"}
ROLE_ITEM = "role"


# --- which cases are linked ----------------------------------------------------------------


@dataclass(frozen=True)
class LinkedCase:
    """A case and the organisation of the frame its survey evidence comes from."""

    case: Case
    organisation: Organisation
    site_type: str = ""  # "pilot" or "in-depth" for the demo's sites

    @property
    def id(self) -> int:
        return self.case.pk

    @property
    def name(self) -> str:
        return self.case.name

    @property
    def kind(self) -> str:
        return self.case.kind


def _check_kind(kind: str) -> None:
    if kind not in CASE_KINDS:
        raise ValueError(f"case kind must be one of {', '.join(CASE_KINDS)}, not {kind!r}")


def linked_cases(study, kind: str = "site") -> list[LinkedCase]:
    """The study's cases of ``kind`` that stand for an organisation: sites with their
    organisation, initiatives with their lead organisation; by name."""
    _check_kind(kind)
    cases = Case.objects.filter(study=study, kind=kind).select_related(
        "organisation", "initiative__lead_organisation"
    )
    out = []
    for case in cases.order_by("name", "id"):
        if kind == "site":
            organisation = case.organisation
        else:
            organisation = case.initiative.lead_organisation if case.initiative else None
        if organisation is None:
            continue
        out.append(
            LinkedCase(
                case=case,
                organisation=organisation,
                site_type=str((case.attributes or {}).get("site type", "")),
            )
        )
    return out


def linked_case(study, case_id: int) -> LinkedCase | None:
    case = (
        Case.objects.filter(study=study, pk=case_id, kind__in=list(CASE_KINDS))
        .select_related("organisation", "initiative__lead_organisation")
        .first()
    )
    if case is None:
        return None
    found = [lc for lc in linked_cases(study, case.kind) if lc.case.pk == case.pk]
    return found[0] if found else None


# --- survey evidence ------------------------------------------------------------------------


@dataclass
class ItemSummary:
    """One ordered item for one organisation in one wave."""

    info: ItemInfo
    counts: dict[str, int]  # substantive answers by category
    not_substantive: int  # don't know / not applicable
    combined: str | None  # lower median

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def valid(self) -> int:
        return sum(self.counts.values())

    @property
    def agreeing_categories(self) -> tuple[str, ...]:
        return default_agreeing(self.info.scale)

    @property
    def agreeing(self) -> int:
        return sum(self.counts.get(c, 0) for c in self.agreeing_categories)

    @property
    def share_agreeing(self) -> float | None:
        return self.agreeing / self.valid if self.valid else None

    def share_of(self, categories: Iterable[str]) -> float | None:
        chosen = set(categories)
        return (
            sum(n for c, n in self.counts.items() if c in chosen) / self.valid
            if self.valid
            else None
        )

    @property
    def combined_label(self) -> str:
        if self.combined is None:
            return ""
        return dict(self.info.choices).get(self.combined, self.combined)

    @property
    def distribution(self) -> list[tuple[str, int]]:
        labels = dict(self.info.choices)
        return [(labels.get(c, c), self.counts.get(c, 0)) for c in self.info.scale]


@dataclass
class RoleCount:
    role: str
    label: str
    asked: int = 0
    responded: int = 0


@dataclass
class WaveSummary:
    """An organisation's survey evidence in one wave (counts only, never names)."""

    wave: Wave
    organisations: list[Organisation]
    asked: int = 0
    responded: int = 0
    roles: list[RoleCount] = field(default_factory=list)
    items: dict[str, ItemSummary] = field(default_factory=dict)
    successor_note: str = ""

    @property
    def number(self) -> int:
        return self.wave.number


@dataclass
class SurveyContext:
    """What every organisation's survey summary needs, loaded once."""

    waves: list[Wave]
    catalogues: dict[int, dict[str, ItemInfo]]
    ordered_items: dict[int, list[str]]
    successors: dict[int, dict[str, str]]  # wave number → predecessor code → successor code


def survey_context(study) -> SurveyContext:
    waves = list(
        Wave.objects.filter(study=study).select_related("instrument_version").order_by("number")
    )
    catalogues, ordered, successors = {}, {}, {}
    for wave in waves:
        catalogue = catalogue_from_form(wave.instrument_version.form_json)
        catalogues[wave.number] = catalogue
        ordered[wave.number] = [
            name
            for name, info in catalogue.items()
            if info.is_single_choice
            and len(info.scale) >= 3
            and info.list_name not in NOMINAL_LISTS
        ]
        successors[wave.number] = (
            successions_between(waves[0], wave) if wave is not waves[0] else {}
        )
    return SurveyContext(waves, catalogues, ordered, successors)


def _role_label(role: str, catalogue: dict[str, ItemInfo]) -> str:
    info = catalogue.get(ROLE_ITEM)
    if info is not None:
        label = dict(info.choices).get(role)
        if label:
            return label
    return dict(RoleCategory.choices).get(role, role.replace("_", " ").capitalize())


def survey_summaries(
    study, organisations: Sequence[Organisation], context: SurveyContext | None = None
) -> dict[int, list[WaveSummary]]:
    """Organisation id → its summary in each wave, for all the organisations at once."""
    context = context or survey_context(study)
    wanted = {org.pk: org for org in organisations}
    out: dict[int, list[WaveSummary]] = {pk: [] for pk in wanted}
    for wave in context.waves:
        successors = context.successors.get(wave.number, {})
        by_code = {}
        if successors:
            codes = {successors[o.ods_code] for o in wanted.values() if o.ods_code in successors}
            by_code = {
                o.ods_code: o
                for o in Organisation.objects.filter(org_type="ccg", ods_code__in=codes)
            }
        # Which organisations' members speak for each wanted organisation in this wave.
        sources: dict[int, list[Organisation]] = {}
        for pk, org in wanted.items():
            successor = by_code.get(successors.get(org.ods_code, ""))
            sources[pk] = [org] + ([successor] if successor is not None else [])
        org_ids = {o.pk for orgs in sources.values() for o in orgs}
        interviews = list(
            Interview.objects.filter(wave=wave, participant__organisation_id__in=org_ids)
            .order_by("id")
            .values_list(
                "id", "status", "participant__organisation_id", "participant__role_category"
            )
        )
        complete = [i for i in interviews if i[1] == Interview.Status.COMPLETE]
        answers: dict[int, dict[str, str]] = defaultdict(dict)
        catalogue = context.catalogues[wave.number]
        wanted_items = set(context.ordered_items[wave.number]) | {ROLE_ITEM}
        for interview_id, path, value in Answer.objects.filter(
            interview_id__in=[i[0] for i in complete]
        ).values_list("interview_id", "item_path", "value"):
            name = item_name(path)
            if name in wanted_items and value not in (None, ""):
                answers[interview_id][name] = str(value)
        by_org: dict[int, list[tuple]] = defaultdict(list)
        for row in interviews:
            by_org[row[2]].append(row)
        for pk, orgs in sources.items():
            rows = [row for o in orgs for row in by_org.get(o.pk, [])]
            summary = WaveSummary(wave=wave, organisations=orgs)
            if len(orgs) > 1:
                summary.successor_note = (
                    f"{orgs[0].name} had merged into {orgs[1].name} by this wave's frame "
                    f"({wave.frame_vintage:%d %B %Y}); the successor's members are included."
                )
            roles: dict[str, RoleCount] = {}
            for interview_id, status, _, registered_role in rows:
                responded = status == Interview.Status.COMPLETE
                # As in the analysis: a respondent's own answer to the role item wins.
                role = answers.get(interview_id, {}).get(ROLE_ITEM) if responded else None
                role = role or registered_role
                count = roles.setdefault(role, RoleCount(role, _role_label(role, catalogue)))
                count.asked += 1
                summary.asked += 1
                if responded:
                    count.responded += 1
                    summary.responded += 1
            summary.roles = sorted(roles.values(), key=lambda r: (-r.asked, r.label))
            member_answers = [
                answers.get(row[0], {}) for row in rows if row[1] == Interview.Status.COMPLETE
            ]
            for name in context.ordered_items[wave.number]:
                info = catalogue[name]
                values = [a[name] for a in member_answers if name in a]
                counts = Counter(v for v in values if v in info.scale)
                summary.items[name] = ItemSummary(
                    info=info,
                    counts={c: counts.get(c, 0) for c in info.scale},
                    not_substantive=sum(1 for v in values if v in NON_SUBSTANTIVE),
                    combined=lower_median(values, info.scale),
                )
            out[pk].append(summary)
    return out


@dataclass(frozen=True)
class AnalysisLink:
    result_id: int
    name: str
    caption: str


def analysis_links(study) -> dict[str, AnalysisLink]:
    """The latest successful analysis results an integrated page cites, by result name."""
    rows = (
        AnalysisResult.objects.filter(
            run__study=study,
            run__status=AnalysisRun.Status.SUCCEEDED,
            run__step__in=["organisations", "typology", "likert", "waves"],
        )
        .order_by("-run__started_at", "-run__id")
        .values_list("id", "name", "caption")
    )
    links: dict[str, AnalysisLink] = {}
    for pk, name, caption in rows:
        links.setdefault(name, AnalysisLink(pk, name, caption))
    return links


@dataclass(frozen=True)
class TypologyClass:
    number: int | None
    description: str = ""  # the analysis's words for the classes
    result_id: int | None = None  # the membership table


def typology_descriptions(study) -> tuple[str, int | None]:
    """The latest typology's description in words, and its membership table's id."""
    links = analysis_links(study)
    text = ""
    if "typology_description" in links:
        text = (
            AnalysisResult.objects.filter(pk=links["typology_description"].result_id)
            .values_list("text", flat=True)
            .first()
            or ""
        )
    membership = links.get("typology_membership")
    return text, membership.result_id if membership else None


def typology_class(study, organisation: Organisation) -> int | None:
    value = (organisation.attributes or {}).get(typology_attribute(study))
    return int(value) if value is not None else None


# --- case-study evidence --------------------------------------------------------------------


@dataclass
class SourceRow:
    source_id: int
    title: str
    kind: str
    phase: str
    characters: int
    codings: int


@dataclass
class CodeRow:
    code: Code
    path: str
    count: int
    characters: int
    coding_ids: list[int]


@dataclass
class FrameworkRow:
    matrix_id: int
    matrix_name: str
    code_id: int
    code_name: str
    summary: str
    segments: int


@dataclass
class CaseStudyEvidence:
    sources: list[SourceRow]
    kinds: list[tuple[str, int]]  # source kind label, number
    characters: int
    codes: list[CodeRow]
    framework: list[FrameworkRow]

    @property
    def codings(self) -> int:
        return sum(row.count for row in self.codes)


def case_source_ids(study, cases: Sequence[Case]) -> dict[int, set[int]]:
    """Case id → the sources its codings come from (``CaseIndex`` membership, plus the
    sources of codings linked to an initiative one by one)."""
    index = casework_queries.CaseIndex(
        study, Source.objects.filter(study=study).values_list("id", flat=True)
    )
    wanted = {case.pk for case in cases}
    out: dict[int, set[int]] = {pk: set() for pk in wanted}
    for source_id, case_ids in index.by_source.items():
        for case_id in case_ids & wanted:
            out[case_id].add(source_id)
    by_initiative = {case.initiative_id: case.pk for case in cases if case.initiative_id}
    if by_initiative:
        for initiative_id, source_id in Initiative.codings.through.objects.filter(
            initiative_id__in=list(by_initiative)
        ).values_list("initiative_id", "coding__source_id"):
            out[by_initiative[initiative_id]].add(source_id)
    return out


def source_lengths(study) -> dict[int, int]:
    return dict(
        Source.objects.filter(study=study).annotate(n=Length("text")).values_list("id", "n")
    )


def case_study_evidence(
    linked: LinkedCase, *, visible_to=None, anonymise=None
) -> CaseStudyEvidence:
    """A case's sources, its codings per code and its framework-matrix summaries."""
    case = linked.case
    study = case.study
    anonymise = anonymise or label_anonymiser(study)
    source_ids = case_source_ids(study, [case])[case.pk]
    visible = casework_queries.visibility_filter(study, visible_to)
    codings_by_source = dict(
        Coding.objects.filter(visible, source_id__in=source_ids)
        .order_by()
        .values("source_id")
        .annotate(n=Count("id"))
        .values_list("source_id", "n")
    )
    sources = []
    kinds: Counter = Counter()
    labels = dict(Source.Kind.choices)
    for pk, title, kind, phase, length in (
        Source.objects.filter(pk__in=source_ids)
        .annotate(n=Length("text"))
        .order_by("title", "id")
        .values_list("id", "title", "kind", "phase__name", "n")
    ):
        sources.append(
            SourceRow(
                pk,
                anonymise(title),
                labels.get(kind, kind),
                phase or "",
                length,
                codings_by_source.get(pk, 0),
            )
        )
        kinds[labels.get(kind, kind)] += 1
    codes = list(Code.objects.filter(study=study, is_active=True).order_by("order", "name", "id"))
    paths = casework_queries.code_paths(study)
    rows = []
    if codes and source_ids:
        matrix = casework_queries.matrix_coding(
            study,
            codes,
            "cases",
            cases=[case],
            count="characters",
            include_subcodes=False,
            visible_to=visible_to,
        )
        for code in codes:
            cell = matrix.cell(case.pk, code)
            if cell.coding_ids:
                rows.append(
                    CodeRow(
                        code,
                        paths.get(code.pk, code.name),
                        len(cell.coding_ids),
                        cell.count,
                        list(cell.coding_ids),
                    )
                )
    rows.sort(key=lambda r: r.path)
    framework = [
        FrameworkRow(
            matrix_id=cell.matrix_id,
            matrix_name=cell.matrix.name,
            code_id=cell.code_id,
            code_name=cell.code.name,
            summary=anonymise(cell.summary),
            segments=cell.n_segments,
        )
        for cell in FrameworkCell.objects.filter(case=case)
        .exclude(summary="")
        .select_related("matrix", "code")
        .annotate(n_segments=Count("segments"))
        .order_by("matrix__name", "code__order", "code__name")
    ]
    return CaseStudyEvidence(
        sources=sources,
        kinds=sorted(kinds.items()),
        characters=sum(s.characters for s in sources),
        codes=rows,
        framework=framework,
    )


# --- the list of linked cases --------------------------------------------------------------


@dataclass
class CaseListRow:
    linked: LinkedCase
    typology: int | None
    waves: list[WaveSummary]
    sources: int
    codings: int
    charted: int


def case_list(study, kind: str = "site", *, visible_to=None) -> list[CaseListRow]:
    cases = linked_cases(study, kind)
    summaries = survey_summaries(study, [lc.organisation for lc in cases])
    source_ids = case_source_ids(study, [lc.case for lc in cases])
    visible = casework_queries.visibility_filter(study, visible_to)
    per_source = dict(
        Coding.objects.filter(visible, source__study=study)
        .order_by()
        .values("source_id")
        .annotate(n=Count("id"))
        .values_list("source_id", "n")
    )
    charted = dict(
        FrameworkCell.objects.filter(case__in=[lc.case for lc in cases])
        .exclude(summary="")
        .order_by()
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    return [
        CaseListRow(
            linked=lc,
            typology=typology_class(study, lc.organisation),
            waves=summaries[lc.organisation.pk],
            sources=len(source_ids[lc.id]),
            # Codings through the case's sources (initiatives' single linked codings aside).
            codings=sum(per_source.get(s, 0) for s in source_ids[lc.id]),
            charted=charted.get(lc.id, 0),
        )
        for lc in cases
    ]


# --- survey variables and framework columns ------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """A column of the mixed-methods matrix: a survey variable or a framework column."""

    key: str
    label: str
    group: str  # "survey", "typology" or "framework"
    wave: int | None = None
    item: str = ""
    measure: str = ""  # survey: "answer", "share" or "respondents"
    matrix_id: int | None = None
    code_id: int | None = None


def survey_variables(study, context: SurveyContext | None = None) -> list[Variable]:
    """Typology class, respondents per wave, and each ordered item per wave as the
    organisation's combined answer and as the share of members in the top two points."""
    context = context or survey_context(study)
    out = [Variable("typology", "Typology class", "typology")]
    for wave in context.waves:
        out.append(
            Variable(
                f"w{wave.number}:respondents",
                f"W{wave.number} respondents",
                "survey",
                wave.number,
                measure="respondents",
            )
        )
    for wave in context.waves:
        catalogue = context.catalogues[wave.number]
        for name in context.ordered_items[wave.number]:
            label = catalogue[name].label or name
            out.append(
                Variable(
                    f"w{wave.number}:{name}",
                    f"W{wave.number} {name}: {label}",
                    "survey",
                    wave.number,
                    name,
                    "answer",
                )
            )
            out.append(
                Variable(
                    f"w{wave.number}:{name}:share",
                    f"W{wave.number} {name}: share in the top two points",
                    "survey",
                    wave.number,
                    name,
                    "share",
                )
            )
    return out


def framework_variables(study) -> list[Variable]:
    """One column per code of each framework matrix (of site or initiative cases)."""
    out = []
    for matrix_id, matrix_name, code_id, code_name in (
        FrameworkMatrix.objects.filter(study=study)
        .order_by("name", "codes__order", "codes__name")
        .values_list("id", "name", "codes__id", "codes__name")
    ):
        if code_id is None:
            continue
        out.append(
            Variable(
                f"fw:{matrix_id}:{code_id}",
                f"{matrix_name} — {code_name}",
                "framework",
                matrix_id=matrix_id,
                code_id=code_id,
            )
        )
    return out


def survey_value(variable: Variable, waves: list[WaveSummary], typology: int | None):
    """The value of a survey variable for one organisation (None when it has none)."""
    if variable.group == "typology":
        return typology
    summary = next((w for w in waves if w.number == variable.wave), None)
    if summary is None:
        return None
    if variable.measure == "respondents":
        return summary.responded
    item = summary.items.get(variable.item)
    if item is None:
        return None
    return item.combined if variable.measure == "answer" else item.share_agreeing


def survey_display(variable: Variable, waves: list[WaveSummary], typology: int | None) -> str:
    if variable.group == "typology":
        return f"Class {typology}" if typology is not None else "—"
    summary = next((w for w in waves if w.number == variable.wave), None)
    if summary is None:
        return "—"
    if variable.measure == "respondents":
        return f"{summary.responded} of {summary.asked}"
    item = summary.items.get(variable.item)
    if item is None or not item.valid:
        return "—"
    if variable.measure == "answer":
        return f"{item.combined_label} (n={item.valid})"
    return f"{item.share_agreeing:.0%} ({item.agreeing} of {item.valid})"


@dataclass
class MixedCell:
    text: str
    value: object = None
    matrix_id: int | None = None
    code_id: int | None = None
    segments: int = 0


@dataclass
class MixedRow:
    linked: LinkedCase
    cells: list[MixedCell]


@dataclass
class MixedMatrix:
    kind: str
    columns: list[Variable]
    rows: list[MixedRow]

    def table(self) -> tuple[list[str], list[list[object]]]:
        """Header and rows for a download: raw values for survey columns, texts for
        framework summaries."""
        header = ["case", "organisation_code", *(c.key for c in self.columns)]
        body = []
        for row in self.rows:
            values = []
            for column, cell in zip(self.columns, row.cells, strict=True):
                values.append(cell.text if column.group == "framework" else cell.value)
            body.append([row.linked.name, row.linked.organisation.ods_code, *values])
        return header, body


def mixed_matrix(study, *, kind: str = "site", keys: Sequence[str]) -> MixedMatrix:
    """Cases × the chosen survey variables and framework columns (by key, in order)."""
    context = survey_context(study)
    known = {v.key: v for v in [*survey_variables(study, context), *framework_variables(study)]}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"unknown column(s): {', '.join(unknown)}")
    columns = [known[k] for k in keys]
    cases = linked_cases(study, kind)
    summaries = survey_summaries(study, [lc.organisation for lc in cases], context)
    anonymise = label_anonymiser(study)
    framework_cells = {
        (cell.matrix_id, cell.case_id, cell.code_id): cell
        for cell in FrameworkCell.objects.filter(
            matrix_id__in={c.matrix_id for c in columns if c.matrix_id},
            case__in=[lc.case for lc in cases],
        ).annotate(n_segments=Count("segments"))
    }
    rows = []
    for lc in cases:
        typology = typology_class(study, lc.organisation)
        waves = summaries[lc.organisation.pk]
        cells = []
        for column in columns:
            if column.group == "framework":
                cell = framework_cells.get((column.matrix_id, lc.id, column.code_id))
                cells.append(
                    MixedCell(
                        text=anonymise(cell.summary) if cell else "",
                        matrix_id=column.matrix_id,
                        code_id=column.code_id,
                        segments=cell.n_segments if cell else 0,
                    )
                )
            else:
                cells.append(
                    MixedCell(
                        text=survey_display(column, waves, typology),
                        value=survey_value(column, waves, typology),
                    )
                )
        rows.append(MixedRow(lc, cells))
    return MixedMatrix(kind=kind, columns=columns, rows=rows)


# --- quantitizing --------------------------------------------------------------------------


@dataclass
class QuantitizedView:
    matrix: QuantitizedMatrix
    cases: list[LinkedCase]
    codes: list[Code]
    cells: dict[tuple[int, int], CellCoding]
    text_lengths: dict[int, int]
    paths: dict[int, str]

    def cell(self, case_id: int, code_id: int) -> CellCoding:
        return self.cells.get((case_id, code_id), CellCoding())


def coded_codes(study) -> list[Code]:
    """Active codes with at least one coding, in codebook order."""
    return list(
        Code.objects.filter(study=study, is_active=True, codings__isnull=False)
        .distinct()
        .order_by("order", "name", "id")
    )


def quantitized_matrix(
    study,
    *,
    kind: str = "site",
    codes: Sequence[Code] | None = None,
    measure: str = "presence",
    min_count: int = 1,
    coder=None,
    include_subcodes: bool = True,
    visible_to=None,
) -> QuantitizedView:
    """The case × code matrix (presence, count or share of text) with, for each cell, the
    codings behind it."""
    cases = linked_cases(study, kind)
    codes = list(codes) if codes is not None else coded_codes(study)
    cells: dict[tuple[int, int], CellCoding] = {}
    if codes and cases:
        found = casework_queries.matrix_coding(
            study,
            codes,
            "cases",
            cases=[lc.case for lc in cases],
            count="characters",
            include_subcodes=include_subcodes,
            coder=coder,
            visible_to=visible_to,
        )
        for lc in cases:
            for code in codes:
                cell = found.cell(lc.id, code)
                if cell.coding_ids:
                    cells[(lc.id, code.pk)] = CellCoding(
                        count=len(cell.coding_ids),
                        characters=cell.count,
                        coding_ids=tuple(cell.coding_ids),
                    )
    lengths = source_lengths(study)
    case_sources = case_source_ids(study, [lc.case for lc in cases])
    text_lengths = {lc.id: sum(lengths.get(s, 0) for s in case_sources[lc.id]) for lc in cases}
    matrix = quantitize(
        cells,
        rows=[lc.id for lc in cases],
        columns=[c.pk for c in codes],
        text_lengths=text_lengths,
        measure=measure,
        min_count=min_count,
    )
    return QuantitizedView(
        matrix=matrix,
        cases=cases,
        codes=codes,
        cells=cells,
        text_lengths=text_lengths,
        paths=casework_queries.code_paths(study),
    )


def survey_table(
    study, cases: Sequence[LinkedCase], keys: Sequence[str]
) -> dict[int, dict[str, object]]:
    """Case id → {variable key: value} for the chosen survey variables."""
    context = survey_context(study)
    known = {v.key: v for v in survey_variables(study, context)}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"unknown survey variable(s): {', '.join(unknown)}")
    summaries = survey_summaries(study, [lc.organisation for lc in cases], context)
    return {
        lc.id: {
            key: survey_value(
                known[key], summaries[lc.organisation.pk], typology_class(study, lc.organisation)
            )
            for key in keys
        }
        for lc in cases
    }


@dataclass
class CrossTabView:
    code: Code
    variable: Variable
    categories: list[tuple[object, str]]  # (value, label) in scale order
    table: object  # quantitize.CrossTab
    cases: dict[int, LinkedCase]
    codings: dict[int, tuple[int, ...]]  # case id → its coding ids for the code
    min_count: int


def crosstab(
    study,
    *,
    code: Code,
    variable_key: str,
    kind: str = "site",
    min_count: int = 1,
    coder=None,
    include_subcodes: bool = True,
    visible_to=None,
) -> CrossTabView:
    """Cases counted by a survey variable (rows) and the presence of a code (columns)."""
    context = survey_context(study)
    variables = {v.key: v for v in survey_variables(study, context)}
    variable = variables.get(variable_key)
    if variable is None or variable.measure not in ("", "answer"):
        raise ValueError(
            f"{variable_key!r} is not a categorical survey variable (a combined answer or the "
            "typology class)"
        )
    view = quantitized_matrix(
        study,
        kind=kind,
        codes=[code],
        measure="presence",
        min_count=min_count,
        coder=coder,
        include_subcodes=include_subcodes,
        visible_to=visible_to,
    )
    summaries = survey_summaries(study, [lc.organisation for lc in view.cases], context)
    survey_values = {
        lc.id: survey_value(
            variable, summaries[lc.organisation.pk], typology_class(study, lc.organisation)
        )
        for lc in view.cases
    }
    if variable.group == "typology":
        classes = sorted({v for v in survey_values.values() if v is not None})
        categories = [(c, f"Class {c}") for c in classes]
    else:
        info = context.catalogues[variable.wave][variable.item]
        labels = dict(info.choices)
        categories = [(c, labels.get(c, c)) for c in info.scale]
    table = cross_tabulate(
        [lc.id for lc in view.cases],
        survey_values=survey_values,
        code_values=view.matrix.column_values(code.pk),
        survey_order=[value for value, _ in categories],
    )
    return CrossTabView(
        code=code,
        variable=variable,
        categories=categories,
        table=table,
        cases={lc.id: lc for lc in view.cases},
        codings={lc.id: view.cell(lc.id, code.pk).coding_ids for lc in view.cases},
        min_count=min_count,
    )


# --- raw values for the QCA of the sites ---------------------------------------------------


def set_raw_values(
    study, specs: dict[str, SetSpec], *, unit: str, visible_to=None
) -> tuple[list[LinkedCase], dict[str, dict[str, object]], dict[tuple[str, str], str]]:
    """The cases of ``unit``, each set's raw value per case (keyed by case name), and why a
    value is missing where it is."""
    cases = linked_cases(study, unit)
    if not cases:
        raise ValueError(f"the study has no {CASE_KINDS[unit].lower()} linked to organisations")
    raw: dict[str, dict[str, object]] = {}
    missing: dict[tuple[str, str], str] = {}
    needs_survey = any(s.source in SURVEY_SOURCES for s in specs.values())
    context = survey_context(study) if needs_survey else None
    summaries = (
        survey_summaries(study, [lc.organisation for lc in cases], context) if needs_survey else {}
    )
    code_ids = {s.code for s in specs.values() if s.source in CODE_SOURCES}
    codes = {c.pk: c for c in Code.objects.filter(study=study, pk__in=code_ids)}
    for name, spec in specs.items():
        if spec.source in CODE_SOURCES and spec.code not in codes:
            raise ValueError(f"set {name}, code: {spec.code} is not a code of this study")
        if spec.source in SURVEY_SOURCES:
            waves = {w.number for w in context.waves}
            if spec.wave not in waves:
                raise ValueError(f"set {name}, wave: the study has no wave {spec.wave}")
            catalogue = context.catalogues[spec.wave]
            if spec.item not in context.ordered_items[spec.wave]:
                raise ValueError(
                    f"set {name}, item: {spec.item!r} is not an ordered item of wave {spec.wave}"
                )
            scale = catalogue[spec.item].scale
            stray = [c for c in (*spec.categories, *spec.members) if c not in scale]
            if stray:
                raise ValueError(
                    f"set {name}: {', '.join(stray)} not an answer to {spec.item} "
                    f"(answers: {', '.join(scale)})"
                )
        values: dict[str, object] = {}
        if spec.source in CODE_SOURCES:
            view = quantitized_matrix(
                study,
                kind=unit,
                codes=[codes[spec.code]],
                measure="share" if spec.source == "code_share" else "count",
                include_subcodes=spec.include_subcodes,
                visible_to=visible_to,
            )
            for lc in cases:
                value = view.matrix.value(lc.id, spec.code)
                values[lc.name] = value
                if value is None:
                    missing[(name, lc.name)] = "no case-study text"
        for lc in cases:
            if spec.source == "typology":
                values[lc.name] = typology_class(study, lc.organisation)
                if values[lc.name] is None:
                    missing[(name, lc.name)] = "no typology class"
            elif spec.source in SURVEY_SOURCES:
                summary = next(
                    (w for w in summaries[lc.organisation.pk] if w.number == spec.wave), None
                )
                item = summary.items.get(spec.item) if summary else None
                if item is None or not item.valid:
                    values[lc.name] = None
                    missing[(name, lc.name)] = f"no substantive answer in wave {spec.wave}"
                elif spec.source == "survey_answer":
                    values[lc.name] = item.combined
                else:
                    values[lc.name] = item.share_of(spec.categories)
        raw[name] = values
    return cases, raw, missing
