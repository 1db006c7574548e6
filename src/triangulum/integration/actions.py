"""Every change to the integration of a study's strands.

Themes; findings and the evidence they cite; each researcher's convergence code for a
theme and a pair of strands, and the settled code; the global assessment per research
question; propositions (created and edited while drafts, locked, then tested on their
wave's data only); joint displays, their rows, cells, evidence and meta-inferences.

Each function takes keyword arguments, checks everything before it writes, runs in one
transaction and writes one audit event carrying the study's id. ``actor`` is a user, or a
string naming a system actor ("triangulum demo"). Problems raise ``IntegrationError``
naming the input at fault; nothing is stored then.

The protocol (Farmer et al. 2006) and the lock are explained in
docs/adr/0020-triangulation-protocol-and-proposition-locking.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from triangulum.analysis.data import wave_data
from triangulum.analysis.tidy import catalogue_from_form
from triangulum.audit.actions import record, snapshot
from triangulum.audit.models import AuditEvent
from triangulum.fieldwork.models import Answer, Interview
from triangulum.studies.models import Role, StudyMembership

from . import convergence
from .models import (
    CASE_STUDY_STRANDS,
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
from .propositions import (
    PropositionTestError,
    check_spec,
    run_test,
    wave_design,
    wave_inputs_hash,
)

# Who may code the convergence matrix: the researchers of the study.
CONVERGENCE_CODER_ROLES = frozenset({Role.LEAD, Role.RESEARCHER})
KEEP = object()  # "leave this field as it is" in the edit actions


class IntegrationError(ValueError):
    """A change that cannot be made; ``field`` names the input at fault, where there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _user(actor):
    if actor is None or isinstance(actor, str):
        return None
    return actor if getattr(actor, "is_authenticated", False) else None


def _text(value, field: str, *, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise IntegrationError(f"{what} cannot be empty.", field=field)
    return text


def _same_study(study, obj, what: str, field: str) -> None:
    if obj is not None and obj.study_id != study.id:
        raise IntegrationError(f"{what} belongs to another study.", field=field)


def _check_strand(strand: str, field: str = "strand") -> None:
    if strand not in Strand.values:
        raise IntegrationError(
            f'"{strand}" is not a strand; choose one of: {", ".join(Strand.values)}.', field=field
        )


# --- themes -----------------------------------------------------------------------------


def create_theme(
    *,
    study,
    research_question,
    name: str,
    actor,
    description: str = "",
    code=None,
    order: int | None = None,
    simulated: bool = False,
) -> Theme:
    """A row of the convergence matrix, under one research question."""
    name = _text(name, "name", what="A theme's name")
    _same_study(study, research_question, "The research question", "research_question")
    _same_study(study, code, f'The code "{code}"', "code")
    if Theme.objects.filter(study=study, name__iexact=name).exists():
        raise IntegrationError(f'The study already has a theme called "{name}".', field="name")
    if order is None:
        order = Theme.objects.filter(study=study, research_question=research_question).count()
    with transaction.atomic():
        theme = Theme.objects.create(
            study=study,
            research_question=research_question,
            name=name,
            description=description.strip(),
            code=code,
            order=order,
            is_simulated=simulated,
        )
        record(
            actor=actor, action="theme.create", obj=theme, study_id=study.id, after=snapshot(theme)
        )
    return theme


def update_theme(
    *,
    theme: Theme,
    actor,
    name=KEEP,
    description=KEEP,
    research_question=KEEP,
    code=KEEP,
    order=KEEP,
) -> Theme:
    before = snapshot(theme)
    study = theme.study
    if name is not KEEP:
        name = _text(name, "name", what="A theme's name")
        if Theme.objects.filter(study=study, name__iexact=name).exclude(pk=theme.pk).exists():
            raise IntegrationError(f'The study already has a theme called "{name}".', field="name")
        theme.name = name
    if description is not KEEP:
        theme.description = (description or "").strip()
    if research_question is not KEEP:
        _same_study(study, research_question, "The research question", "research_question")
        theme.research_question = research_question
    if code is not KEEP:
        _same_study(study, code, f'The code "{code}"', "code")
        theme.code = code
    if order is not KEEP:
        theme.order = int(order)
    with transaction.atomic():
        theme.save()
        record(
            actor=actor,
            action="theme.update",
            obj=theme,
            study_id=study.id,
            before=before,
            after=snapshot(theme),
        )
    return theme


# --- findings ---------------------------------------------------------------------------


def create_finding(
    *,
    study,
    strand: str,
    research_question,
    statement: str,
    actor,
    theme=None,
    simulated: bool = False,
) -> Finding:
    """A finding of one strand on one research question (and, usually, one theme)."""
    _check_strand(strand)
    statement = _text(statement, "statement", what="A finding's statement")
    _same_study(study, research_question, "The research question", "research_question")
    _same_study(study, theme, f'The theme "{theme}"', "theme")
    with transaction.atomic():
        finding = Finding.objects.create(
            study=study,
            strand=strand,
            research_question=research_question,
            theme=theme,
            statement=statement,
            created_by=_user(actor),
            is_simulated=simulated,
        )
        record(
            actor=actor,
            action="finding.create",
            obj=finding,
            study_id=study.id,
            after=snapshot(finding, ["strand", "research_question", "theme", "statement"]),
        )
    return finding


def update_finding(
    *, finding: Finding, actor, statement=KEEP, theme=KEEP, research_question=KEEP, strand=KEEP
) -> Finding:
    fields = ["strand", "research_question", "theme", "statement"]
    before = snapshot(finding, fields)
    study = finding.study
    if statement is not KEEP:
        finding.statement = _text(statement, "statement", what="A finding's statement")
    if theme is not KEEP:
        _same_study(study, theme, f'The theme "{theme}"', "theme")
        finding.theme = theme
    if research_question is not KEEP:
        _same_study(study, research_question, "The research question", "research_question")
        finding.research_question = research_question
    if strand is not KEEP:
        _check_strand(strand)
        finding.strand = strand
    with transaction.atomic():
        finding.save()
        record(
            actor=actor,
            action="finding.update",
            obj=finding,
            study_id=study.id,
            before=before,
            after=snapshot(finding, fields),
        )
    return finding


def delete_finding(*, finding: Finding, actor) -> None:
    if finding.propositions.exists():
        raise IntegrationError(
            "This finding is the source of a proposition, so it is kept; edit it instead.",
            field="finding",
        )
    before = snapshot(finding, ["strand", "research_question", "theme", "statement"])
    before["evidence"] = finding.evidence.count()
    with transaction.atomic():
        record(
            actor=actor,
            action="finding.delete",
            obj=finding,
            study_id=finding.study_id,
            before=before,
        )
        finding.delete()


# --- evidence ---------------------------------------------------------------------------

_TARGETS = (
    ("analysis_result", Evidence.Kind.ANALYSIS_RESULT),
    ("wave", Evidence.Kind.SURVEY_ITEM),
    ("coding", Evidence.Kind.SEGMENT),
    ("framework_cell", Evidence.Kind.MATRIX_CELL),
    ("source", Evidence.Kind.SOURCE),
    ("cited_proposition", Evidence.Kind.PROPOSITION),
)


def _owner_study_id(finding, proposition, cell) -> int:
    if finding is not None:
        return finding.study_id
    if proposition is not None:
        return proposition.study_id
    return cell.row.display.study_id


def _target_study_id(name: str, target) -> int:
    if name == "analysis_result":
        return target.run.study_id
    if name == "coding":
        return target.source.study_id
    if name == "framework_cell":
        return target.matrix.study_id
    return target.study_id


def _wave_items(wave) -> dict:
    return catalogue_from_form(wave.instrument_version.form_json or {})


def _check_locator(result, locator: Mapping) -> None:
    """A locator must name a row (and column) the analysis table really has."""
    if not isinstance(locator, Mapping):
        raise IntegrationError("A locator must be a mapping, e.g. {'row': {...}}.", field="locator")
    rows = result.data if isinstance(result.data, list) else []
    wanted = locator.get("row")
    if isinstance(wanted, Mapping) and wanted:
        if not any(
            isinstance(row, Mapping)
            and all(str(row.get(key)) == str(value) for key, value in wanted.items())
            for row in rows
        ):
            shown = ", ".join(f"{k}={v}" for k, v in wanted.items())
            raise IntegrationError(
                f'The analysis result "{result.name}" has no row with {shown}.', field="locator"
            )
    elif isinstance(wanted, int) and not isinstance(wanted, bool):
        if not 0 <= wanted < len(rows):
            raise IntegrationError(
                f'The analysis result "{result.name}" has {len(rows)} rows; row {wanted} '
                "(counting from 0) is not one of them.",
                field="locator",
            )
    column = locator.get("column")
    if column is not None and column not in result.columns:
        raise IntegrationError(
            f'The analysis result "{result.name}" has no column "{column}" (columns: '
            f"{', '.join(result.columns)}).",
            field="locator",
        )


def _segment_label(coding) -> str:
    """A coded segment named by its code and site, not by its source's title: titles name
    a participant's role at a site, which only the case-study roles may see (ADR 0005)."""
    site = coding.source.site
    return f"Segment coded {coding.code.name}" + (f" at {site.name}" if site else "")


def _default_label(kind: str, target, item: str, locator: Mapping) -> str:
    if kind == Evidence.Kind.ANALYSIS_RESULT:
        row = locator.get("row") if isinstance(locator, Mapping) else None
        where = ""
        if isinstance(row, Mapping):
            where = " (" + ", ".join(f"{k} {v}" for k, v in row.items()) + ")"
        return f"Survey result {target.name}{where}"
    if kind == Evidence.Kind.SURVEY_ITEM:
        return f"{target.name}: item {item}"
    if kind == Evidence.Kind.SEGMENT:
        return _segment_label(target)
    if kind == Evidence.Kind.MATRIX_CELL:
        return f"{target.matrix.name}: {target.case.name} × {target.code.name}"
    if kind == Evidence.Kind.SOURCE:
        site = target.site
        return f"{target.get_kind_display()}" + (f" at {site.name}" if site else "")
    return f"Proposition: {target.statement[:200]}"


def add_evidence(
    *,
    actor,
    finding=None,
    proposition=None,
    cell=None,
    analysis_result=None,
    wave=None,
    item: str = "",
    coding=None,
    framework_cell=None,
    source=None,
    cited_proposition=None,
    locator: Mapping | None = None,
    label: str = "",
) -> Evidence:
    """Cite one piece of evidence for a finding, a proposition or a joint-display cell.

    Exactly one owner and one target; the target must belong to the owner's study. For a
    survey item, ``wave`` and ``item`` together are the target.
    """
    owners = [o for o in (finding, proposition, cell) if o is not None]
    if len(owners) != 1:
        raise IntegrationError(
            "Evidence belongs to exactly one finding, proposition or joint-display cell "
            f"({len(owners)} given).",
            field="owner",
        )
    given = {
        "analysis_result": analysis_result,
        "wave": wave,
        "coding": coding,
        "framework_cell": framework_cell,
        "source": source,
        "cited_proposition": cited_proposition,
    }
    targets = [(name, kind) for name, kind in _TARGETS if given[name] is not None]
    if len(targets) != 1:
        raise IntegrationError(
            "Cite exactly one target: an analysis result, a wave's item, a coded segment, a "
            f"framework-matrix cell, a source or a proposition ({len(targets)} given).",
            field="target",
        )
    name, kind = targets[0]
    target = given[name]
    study_id = _owner_study_id(finding, proposition, cell)
    if _target_study_id(name, target) != study_id:
        raise IntegrationError(
            f"{Evidence.Kind(kind).label} {target.pk} belongs to another study than the "
            "statement citing it.",
            field=name,
        )
    item = (item or "").strip()
    locator = dict(locator or {})
    if kind == Evidence.Kind.SURVEY_ITEM:
        if not item:
            raise IntegrationError("Name the item of the wave that is cited.", field="item")
        if item not in _wave_items(target):
            raise IntegrationError(
                f'"{item}" is not an item of {target.name}\'s questionnaire.', field="item"
            )
    elif item:
        raise IntegrationError("An item is named only when citing a wave's item.", field="item")
    if kind == Evidence.Kind.ANALYSIS_RESULT and locator:
        _check_locator(target, locator)
    if (
        kind == Evidence.Kind.PROPOSITION
        and proposition is not None
        and target.pk == proposition.pk
    ):
        raise IntegrationError("A proposition cannot cite itself.", field="cited_proposition")
    label = (label or "").strip() or _default_label(kind, target, item, locator)
    with transaction.atomic():
        evidence = Evidence.objects.create(
            finding=finding,
            proposition=proposition,
            cell=cell,
            kind=kind,
            item=item,
            locator=locator,
            label=label[:300],
            **{name: target},
        )
        owner = owners[0]
        record(
            actor=actor,
            action="evidence.add",
            obj=evidence,
            study_id=study_id,
            after={
                "owner": f"{owner._meta.model_name} {owner.pk}",
                "kind": kind,
                "target": target.pk,
                "item": item,
                "locator": locator,
                "label": evidence.label,
            },
        )
    return evidence


def remove_evidence(*, evidence: Evidence, actor) -> None:
    owner = evidence.finding or evidence.proposition or evidence.cell
    study_id = _owner_study_id(evidence.finding, evidence.proposition, evidence.cell)
    before = snapshot(evidence)
    with transaction.atomic():
        record(
            actor=actor,
            action="evidence.remove",
            obj=evidence,
            study_id=study_id,
            object_label=f"evidence of {owner._meta.model_name} {owner.pk}",
            before=before,
        )
        evidence.delete()


# --- convergence ------------------------------------------------------------------------


def _pair(strand_a: str, strand_b: str) -> tuple[str, str]:
    try:
        return convergence.normalise_pair(strand_a, strand_b)
    except convergence.ConvergenceError as error:
        raise IntegrationError(str(error), field="strand_b") from None


def _check_code(code: str) -> None:
    if code not in ConvergenceCode.values:
        raise IntegrationError(
            f'"{code}" is not a convergence code; choose one of: '
            f"{', '.join(ConvergenceCode.values)}.",
            field="code",
        )


def code_pair(
    *,
    theme: Theme,
    strand_a: str,
    strand_b: str,
    coder,
    code: str,
    rationale: str,
    actor=None,
    simulated: bool = False,
) -> StrandPairCode:
    """One researcher's code for a theme and a pair of strands (given in either order).

    Coding the same unit again replaces the coder's earlier code; the audit event keeps
    both. ``actor`` defaults to the coder.
    """
    a, b = _pair(strand_a, strand_b)
    _check_code(code)
    rationale = _text(rationale, "rationale", what="The rationale for a convergence code")
    if coder is None or isinstance(coder, str):
        raise IntegrationError(
            "A convergence code needs the researcher who gave it.", field="coder"
        )
    if not StudyMembership.objects.filter(
        study_id=theme.study_id, user=coder, role__in=CONVERGENCE_CODER_ROLES
    ).exists():
        raise IntegrationError(
            f"{coder.get_username()} is not a lead or researcher of this study, so cannot "
            "code the convergence matrix.",
            field="coder",
        )
    actor = coder if actor is None else actor
    with transaction.atomic():
        existing = (
            StrandPairCode.objects.select_for_update()
            .filter(theme=theme, strand_a=a, strand_b=b, coder=coder)
            .first()
        )
        before = snapshot(existing, ["code", "rationale"]) if existing else None
        if existing is None:
            pair_code = StrandPairCode.objects.create(
                theme=theme,
                strand_a=a,
                strand_b=b,
                coder=coder,
                code=code,
                rationale=rationale,
                is_simulated=simulated,
            )
        else:
            existing.code, existing.rationale = code, rationale
            existing.save(update_fields=["code", "rationale", "coded_at"])
            pair_code = existing
        record(
            actor=actor,
            action="convergence.code",
            obj=pair_code,
            study_id=theme.study_id,
            before=before,
            after={
                "theme": theme.pk,
                "strand_a": a,
                "strand_b": b,
                "coder": coder.get_username(),
                "code": code,
                "rationale": rationale,
            },
        )
    return pair_code


def settle_pair(
    *,
    theme: Theme,
    strand_a: str,
    strand_b: str,
    code: str,
    rationale: str,
    actor,
    simulated: bool = False,
) -> SettledPairCode:
    """The code the team settles on for a unit; the coders' codes at that moment go in the
    audit event, so the trail shows what was compared."""
    a, b = _pair(strand_a, strand_b)
    _check_code(code)
    rationale = _text(rationale, "rationale", what="The rationale for a settled code")
    coders = {
        username: coded
        for username, coded in StrandPairCode.objects.filter(
            theme=theme, strand_a=a, strand_b=b
        ).values_list("coder__username", "code")
    }
    with transaction.atomic():
        existing = (
            SettledPairCode.objects.select_for_update()
            .filter(theme=theme, strand_a=a, strand_b=b)
            .first()
        )
        before = snapshot(existing, ["code", "rationale", "settled_by"]) if existing else None
        if existing is None:
            settled = SettledPairCode.objects.create(
                theme=theme,
                strand_a=a,
                strand_b=b,
                code=code,
                rationale=rationale,
                settled_by=_user(actor),
                is_simulated=simulated,
            )
        else:
            existing.code, existing.rationale = code, rationale
            existing.settled_by = _user(actor)
            existing.save(update_fields=["code", "rationale", "settled_by", "settled_at"])
            settled = existing
        record(
            actor=actor,
            action="convergence.settle",
            obj=settled,
            study_id=theme.study_id,
            before=before,
            after={
                "theme": theme.pk,
                "strand_a": a,
                "strand_b": b,
                "code": code,
                "rationale": rationale,
                "coders": coders,
            },
        )
    return settled


def write_global_assessment(
    *, study, research_question, assessment: str, actor, simulated: bool = False
) -> GlobalAssessment:
    """The team's overall assessment of convergence for one research question (replaces
    an earlier one; the audit trail keeps it)."""
    _same_study(study, research_question, "The research question", "research_question")
    assessment = _text(assessment, "assessment", what="A global assessment")
    with transaction.atomic():
        existing = (
            GlobalAssessment.objects.select_for_update()
            .filter(study=study, research_question=research_question)
            .first()
        )
        before = snapshot(existing, ["assessment", "written_by"]) if existing else None
        if existing is None:
            written = GlobalAssessment.objects.create(
                study=study,
                research_question=research_question,
                assessment=assessment,
                written_by=_user(actor),
                is_simulated=simulated,
            )
        else:
            existing.assessment = assessment
            existing.written_by = _user(actor)
            existing.save(update_fields=["assessment", "written_by", "written_at"])
            written = existing
        record(
            actor=actor,
            action="assessment.write",
            obj=written,
            study_id=study.id,
            before=before,
            after=snapshot(written, ["research_question", "assessment", "written_by"]),
        )
    return written


# --- propositions -----------------------------------------------------------------------

PROPOSITION_FIELDS = [
    "finding",
    "research_question",
    "wave",
    "statement",
    "items",
    "test",
    "direction",
    "parameters",
    "support_rule",
    "status",
]


def _check_proposition(
    *,
    study,
    finding,
    research_question,
    wave,
    statement,
    items,
    test,
    direction,
    parameters,
    support_rule,
) -> dict:
    """Every field checked; returns the cleaned values (items derived where not given)."""
    _same_study(study, research_question, "The research question", "research_question")
    if wave is None:
        raise IntegrationError("Name the survey wave that will test the proposition.", field="wave")
    _same_study(study, wave, f"{wave}", "wave")
    if finding is not None:
        _same_study(study, finding, "The finding", "finding")
        if finding.strand not in CASE_STUDY_STRANDS:
            raise IntegrationError(
                "A proposition restates a case-study finding; this finding is from "
                f"{finding.get_strand_display().lower()}.",
                field="finding",
            )
    statement = _text(statement, "statement", what="A proposition's statement")
    support_rule = _text(
        support_rule, "support_rule", what="What would count as support (stated in advance)"
    )
    catalogue = _wave_items(wave)
    try:
        spec = check_spec(
            test=test, direction=direction, parameters=parameters or {}, catalogue=catalogue
        )
    except PropositionTestError as error:
        raise IntegrationError(f"{wave.name}: {error.message}", field=error.field) from None
    if spec.group_item and spec.group_item not in catalogue and spec.group_item != "role_group":
        raise IntegrationError(
            f'"{spec.group_item}" is neither an item of {wave.name} nor role_group.',
            field="group_item",
        )
    items = list(items) if items else spec.items
    missing = [name for name in spec.items if name not in items]
    if missing:
        raise IntegrationError(
            f"The test uses {', '.join(missing)}, which the proposition's items do not list.",
            field="items",
        )
    unknown = [name for name in items if name not in catalogue and name != "role_group"]
    if unknown:
        raise IntegrationError(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in "
            f"{wave.name}'s questionnaire.",
            field="items",
        )
    return {
        "finding": finding,
        "research_question": research_question,
        "wave": wave,
        "statement": statement,
        "items": items,
        "test": test,
        "direction": direction,
        "parameters": dict(parameters or {}),
        "support_rule": support_rule,
    }


def create_proposition(
    *,
    study,
    research_question,
    wave,
    statement: str,
    test: str,
    direction: str,
    parameters: Mapping,
    support_rule: str,
    actor,
    finding=None,
    items: Sequence[str] | None = None,
    simulated: bool = False,
) -> Proposition:
    """A draft proposition: a case-study finding restated as a test on a survey wave."""
    values = _check_proposition(
        study=study,
        finding=finding,
        research_question=research_question,
        wave=wave,
        statement=statement,
        items=items,
        test=test,
        direction=direction,
        parameters=parameters,
        support_rule=support_rule,
    )
    with transaction.atomic():
        proposition = Proposition.objects.create(
            study=study, created_by=_user(actor), is_simulated=simulated, **values
        )
        record(
            actor=actor,
            action="proposition.create",
            obj=proposition,
            study_id=study.id,
            after=snapshot(proposition, PROPOSITION_FIELDS),
        )
    return proposition


def _refuse_if_locked(proposition: Proposition, doing: str) -> None:
    stored = Proposition.objects.filter(pk=proposition.pk).values("locked_at").first()
    locked_at = stored["locked_at"] if stored else proposition.locked_at
    if locked_at is not None:
        raise IntegrationError(
            f"This proposition was locked at {timezone.localtime(locked_at):%Y-%m-%d %H:%M:%S}; "
            f"a locked proposition cannot be {doing}. Write a new proposition instead.",
            field="status",
        )


def update_proposition(*, proposition: Proposition, actor, **changes) -> Proposition:
    """Edit a draft. Any of: finding, research_question, wave, statement, items, test,
    direction, parameters, support_rule. A locked proposition is refused."""
    _refuse_if_locked(proposition, "edited")
    allowed = set(Proposition.LOCKED_FIELDS) - {"study_id"}
    names = {name.removesuffix("_id") for name in allowed}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise IntegrationError(
            f"A proposition has no editable field {', '.join(unknown)}.", field=unknown[0]
        )
    current = {name: getattr(proposition, name) for name in names}
    current.update(changes)
    if "test" in changes and "items" not in changes:
        current["items"] = None  # derived again from the new test's parameters
    values = _check_proposition(study=proposition.study, **current)
    before = snapshot(proposition, PROPOSITION_FIELDS)
    for name, value in values.items():
        setattr(proposition, name, value)
    with transaction.atomic():
        proposition.save()
        record(
            actor=actor,
            action="proposition.update",
            obj=proposition,
            study_id=proposition.study_id,
            before=before,
            after=snapshot(proposition, PROPOSITION_FIELDS),
        )
    return proposition


def delete_proposition(*, proposition: Proposition, actor) -> None:
    _refuse_if_locked(proposition, "deleted")
    if proposition.cited_by.exists():
        raise IntegrationError("A joint display or another proposition cites this proposition.")
    with transaction.atomic():
        record(
            actor=actor,
            action="proposition.delete",
            obj=proposition,
            study_id=proposition.study_id,
            before=snapshot(proposition, PROPOSITION_FIELDS),
        )
        proposition.delete()


def wave_data_present(proposition: Proposition) -> dict:
    """How much of the testing wave's data exists now: complete interviews, and answers
    to the proposition's items (recorded with the lock, so the trail shows whether the
    lock came before the data)."""
    complete = Interview.objects.filter(
        wave=proposition.wave, status=Interview.Status.COMPLETE
    ).count()
    answers = 0
    for item in proposition.items:
        answers += Answer.objects.filter(
            interview__wave=proposition.wave, item_path__endswith=f"/{item}"
        ).count()
    return {"complete_interviews": complete, "answers_to_items": answers}


def lock_proposition(*, proposition: Proposition, actor) -> Proposition:
    """Fix the proposition's test before its wave's data is analysed for it.

    Sets ``locked_at``, ``locked_by`` and ``lock_hash`` (SHA-256 of the locked fields); the
    audit event carries the hash, the time and how much of the wave's data existed then.
    From now on the model refuses any change to the locked fields.
    """
    with transaction.atomic():
        # The stored values are what gets locked, not unsaved changes on this instance.
        stored = Proposition.objects.select_for_update().get(pk=proposition.pk)
        _refuse_if_locked(stored, "locked again")
        if stored.status != Proposition.Status.DRAFT:
            raise IntegrationError("Only a draft proposition can be locked.", field="status")
        proposition.refresh_from_db()
        proposition.locked_at = timezone.now()
        proposition.locked_by = _user(actor)
        proposition.lock_hash = proposition.content_hash()
        proposition.status = Proposition.Status.LOCKED
        proposition.save(update_fields=["locked_at", "locked_by", "lock_hash", "status"])
        record(
            actor=actor,
            action="proposition.lock",
            obj=proposition,
            study_id=proposition.study_id,
            before={"status": Proposition.Status.DRAFT},
            after={
                "status": proposition.status,
                "locked_at": proposition.locked_at,
                "lock_hash": proposition.lock_hash,
                "locked_content": proposition.locked_content(),
                "wave_data_at_lock": wave_data_present(proposition),
            },
        )
    return proposition


def lock_event(proposition: Proposition) -> AuditEvent | None:
    """The audit event that locked the proposition."""
    return (
        AuditEvent.objects.filter(
            action="proposition.lock",
            object_type=Proposition._meta.label_lower,
            object_id=str(proposition.pk),
        )
        .order_by("at", "id")
        .first()
    )


VERDICT_FIELDS = [
    "status",
    "verdict",
    "effect",
    "ci_low",
    "ci_high",
    "p_value",
    "n_cases",
    "test_details",
    "tested_at",
]


def _check_testable(proposition: Proposition) -> None:
    if proposition.locked_at is None:
        raise IntegrationError(
            "Lock the proposition before testing it: its test must be fixed before its "
            "wave's data is analysed for it.",
            field="status",
        )
    if proposition.content_hash() != proposition.lock_hash:
        raise IntegrationError(
            "The proposition no longer matches the hash recorded when it was locked; it "
            "cannot be tested.",
            field="lock_hash",
        )


def _testing_data(wave, given):
    """The testing wave's tidy tables: ``given`` where it is that wave, else read."""
    if given is None:
        if not Interview.objects.filter(wave=wave, status=Interview.Status.COMPLETE).exists():
            raise IntegrationError(
                f"{wave.name} has no complete interview yet: there is nothing to test on.",
                field="wave",
            )
        return wave_data(wave)
    if given.number != wave.number:
        raise IntegrationError(
            f"The data given is wave {given.number}, but the proposition is tested by wave "
            f"{wave.number}.",
            field="wave",
        )
    return given


def test_proposition(*, proposition: Proposition, actor, data=None) -> Proposition:
    """Test a locked proposition on its wave's data, and only that: the tidy tables of
    ``proposition.wave`` (``analysis.data.wave_data``). Testing again replaces the verdict;
    each test is its own audit event with the wave's inputs hash.

    ``data`` (a ``tidy.WaveData`` of that wave) saves reading it again.
    """
    given = None if data is None else {data.number: data}
    return test_propositions(propositions=[proposition], actor=actor, data=given)[0]


def test_propositions(
    *, propositions: Sequence[Proposition], actor, data: Mapping | None = None
) -> list[Proposition]:
    """Test several locked propositions, reading (and weighting) each testing wave once.

    Every proposition is checked before any is tested; each test is then stored in its
    own transaction with its own audit event. ``data`` maps wave numbers to
    ``tidy.WaveData`` already read.
    """
    for proposition in propositions:
        proposition.refresh_from_db()
        _check_testable(proposition)
    prepared: dict[int, tuple] = {}
    for proposition in propositions:
        wave = proposition.wave
        if wave.pk not in prepared:
            tables = _testing_data(wave, (data or {}).get(wave.number))
            try:
                design = wave_design(tables)
            except PropositionTestError as error:
                raise IntegrationError(error.message, field="wave") from None
            prepared[wave.pk] = (tables, design, wave_inputs_hash(tables))
    tested = []
    for proposition in propositions:
        tables, design, inputs_hash = prepared[proposition.wave.pk]
        try:
            outcome = run_test(
                test=proposition.test,
                direction=proposition.direction,
                parameters=proposition.parameters,
                wave=tables,
                design=design,
                inputs_hash=inputs_hash,
            )
        except PropositionTestError as error:
            raise IntegrationError(error.message, field=error.field) from None
        tested.append(_store_verdict(proposition, outcome, actor, simulated=tables.is_simulated))
    return tested


def _store_verdict(proposition: Proposition, outcome, actor, *, simulated: bool) -> Proposition:
    before = snapshot(proposition, VERDICT_FIELDS)
    event = lock_event(proposition)
    details = dict(outcome.details)
    details["lock"] = {
        "locked_at": proposition.locked_at.isoformat(),
        "lock_hash": proposition.lock_hash,
        "wave_data_at_lock": (event.after or {}).get("wave_data_at_lock") if event else None,
    }
    details["simulated"] = bool(simulated)
    with transaction.atomic():
        proposition.status = Proposition.Status.TESTED
        proposition.verdict = outcome.verdict
        proposition.effect = outcome.estimate
        proposition.ci_low = outcome.ci_low
        proposition.ci_high = outcome.ci_high
        proposition.p_value = outcome.p_value
        proposition.n_cases = outcome.n
        proposition.test_details = details
        proposition.tested_at = timezone.now()
        proposition.save(update_fields=VERDICT_FIELDS)
        record(
            actor=actor,
            action="proposition.test",
            obj=proposition,
            study_id=proposition.study_id,
            before=before,
            after={
                "verdict": outcome.verdict,
                "effect": outcome.estimate,
                "ci_low": outcome.ci_low,
                "ci_high": outcome.ci_high,
                "p_value": outcome.p_value,
                "n_cases": outcome.n,
                "wave": proposition.wave.number,
                "wave_inputs_hash": details["wave_inputs_hash"],
                "lock_hash": proposition.lock_hash,
            },
        )
    return proposition


# --- joint displays ---------------------------------------------------------------------


def _check_columns(columns) -> list[dict]:
    if not isinstance(columns, list | tuple) or not columns:
        raise IntegrationError("A joint display needs at least one column.", field="columns")
    cleaned, keys = [], set()
    for position, column in enumerate(columns, start=1):
        if not isinstance(column, Mapping) or not column.get("key"):
            raise IntegrationError(f"Column {position} needs a key and a label.", field="columns")
        key = str(column["key"]).strip()
        if key != slugify(key).replace("-", "_") or len(key) > 60:
            raise IntegrationError(
                f'Column key "{key}" must be short and plain (letters, digits, underscores).',
                field="columns",
            )
        if key in keys:
            raise IntegrationError(f'Column key "{key}" appears twice.', field="columns")
        keys.add(key)
        entry = {"key": key, "label": str(column.get("label") or key).strip()}
        if column.get("strand"):
            entry["strand"] = str(column["strand"])
        cleaned.append(entry)
    return cleaned


def create_joint_display(
    *,
    study,
    kind: str,
    title: str,
    columns: Sequence[Mapping],
    actor,
    slug: str = "",
    research_question=None,
    description: str = "",
    simulated: bool = False,
) -> JointDisplay:
    """A joint display with its columns (``[{"key": ..., "label": ...}, ...]``)."""
    if kind not in JointDisplay.Kind.values:
        raise IntegrationError(
            f'"{kind}" is not a kind of joint display; choose one of: '
            f"{', '.join(JointDisplay.Kind.values)}.",
            field="kind",
        )
    title = _text(title, "title", what="A joint display's title")
    _same_study(study, research_question, "The research question", "research_question")
    columns = _check_columns(columns)
    slug = slugify(slug or title)[:80] or "display"
    if JointDisplay.objects.filter(study=study, slug=slug).exists():
        raise IntegrationError(f'The study already has a joint display "{slug}".', field="slug")
    with transaction.atomic():
        display = JointDisplay.objects.create(
            study=study,
            kind=kind,
            title=title,
            slug=slug,
            research_question=research_question,
            columns=columns,
            description=description.strip(),
            created_by=_user(actor),
            is_simulated=simulated,
        )
        record(
            actor=actor,
            action="display.create",
            obj=display,
            study_id=study.id,
            after=snapshot(display, ["kind", "title", "slug", "research_question", "columns"]),
        )
    return display


def add_display_row(
    *, display: JointDisplay, label: str, actor, theme=None, research_question=None, order=None
) -> JointDisplayRow:
    label = _text(label, "label", what="A row's label")
    _same_study(display.study, theme, f'The theme "{theme}"', "theme")
    _same_study(display.study, research_question, "The research question", "research_question")
    if order is None:
        order = display.rows.count()
    with transaction.atomic():
        row = JointDisplayRow.objects.create(
            display=display,
            label=label[:300],
            theme=theme,
            research_question=research_question,
            order=order,
        )
        record(
            actor=actor,
            action="display.add_row",
            obj=row,
            study_id=display.study_id,
            after=snapshot(row, ["display", "label", "theme", "research_question", "order"]),
        )
    return row


def set_display_cell(*, row: JointDisplayRow, column: str, text: str, actor) -> JointDisplayCell:
    """The text of one cell (created on first use); its evidence is added with
    ``add_evidence(cell=...)``."""
    display = row.display
    keys = [c["key"] for c in display.columns]
    if column not in keys:
        raise IntegrationError(
            f'"{column}" is not a column of "{display.title}" (columns: {", ".join(keys)}).',
            field="column",
        )
    with transaction.atomic():
        try:
            cell, created = JointDisplayCell.objects.get_or_create(row=row, column=column)
        except IntegrityError:  # pragma: no cover - a concurrent insert of the same cell
            cell, created = JointDisplayCell.objects.get(row=row, column=column), False
        before = None if created else {"text": cell.text}
        cell.text = (text or "").strip()
        cell.save(update_fields=["text"])
        record(
            actor=actor,
            action="display.set_cell",
            obj=cell,
            study_id=display.study_id,
            before=before,
            after={"row": row.pk, "column": column, "text": cell.text},
        )
    return cell


def record_meta_inference(*, row: JointDisplayRow, text: str, actor) -> JointDisplayRow:
    """What the row's evidence, taken together, says: by whom and when."""
    text = _text(text, "meta_inference", what="A meta-inference")
    before = snapshot(row, ["meta_inference", "meta_inference_by", "meta_inference_at"])
    with transaction.atomic():
        row.meta_inference = text
        row.meta_inference_by = _user(actor)
        row.meta_inference_at = timezone.now()
        row.save(update_fields=["meta_inference", "meta_inference_by", "meta_inference_at"])
        record(
            actor=actor,
            action="display.meta_inference",
            obj=row,
            study_id=row.display.study_id,
            before=before,
            after=snapshot(row, ["meta_inference", "meta_inference_by", "meta_inference_at"]),
        )
    return row
