"""Integration pages: the findings register, the convergence coding matrix, propositions
tested by the second wave, and joint displays with their downloads.

Lead and researchers write (through ``actions``); viewers read. Every link to evidence
is resolved by ``queries``; a link whose page the reader's role may not open is shown as
text.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from triangulum.studies.models import ResearchQuestion, Role
from triangulum.studies.permissions import study_view

from . import actions, exports, queries
from .models import (
    ConvergenceCode,
    Evidence,
    Finding,
    JointDisplay,
    JointDisplayRow,
    Proposition,
    Strand,
    Theme,
)

READ_ROLES = (Role.LEAD, Role.RESEARCHER, Role.VIEWER)
WRITE_ROLES = frozenset({Role.LEAD, Role.RESEARCHER})
# The errors actions raise for bad input: shown to the user, nothing stored.
ACTION_ERRORS = (ValueError, ValidationError)


def _may_write(request) -> bool:
    return request.membership.role in WRITE_ROLES


def _require_write(request) -> None:
    if not _may_write(request):
        raise PermissionDenied("Only the study's lead and researchers may change integration work.")


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return getattr(error, "message", None) or str(error)


def _render(request, template: str, context: dict, status: int = 200):
    context = {"may_write": _may_write(request), **context}
    return render(request, template, context, status=status)


# --- overview -----------------------------------------------------------------------------


@study_view(*READ_ROLES)
def overview(request, slug):
    study = request.study
    propositions = list(queries.propositions_for(study))
    return _render(
        request,
        "integration/overview.html",
        {
            "finding_count": Finding.objects.filter(study=study).count(),
            "theme_count": Theme.objects.filter(study=study).count(),
            "propositions": propositions,
            "status_counts": {
                label: sum(1 for p in propositions if p.status == value)
                for value, label in Proposition.Status.choices
            },
            "displays": list(queries.displays_for(study)),
        },
    )


# --- findings register --------------------------------------------------------------------


class FindingForm(forms.Form):
    strand = forms.ChoiceField(choices=Strand.choices)
    research_question = forms.ModelChoiceField(queryset=ResearchQuestion.objects.none())
    theme = forms.ModelChoiceField(queryset=Theme.objects.none(), required=False)
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["research_question"].queryset = study.research_questions.order_by("number")
        self.fields["research_question"].label_from_instance = lambda rq: str(rq)
        self.fields["theme"].queryset = Theme.objects.filter(study=study)
        self.fields["theme"].empty_label = "No theme"


@study_view(*READ_ROLES)
def findings(request, slug):
    study = request.study
    form = FindingForm(study=study)
    if request.method == "POST":
        _require_write(request)
        form = FindingForm(request.POST, study=study)
        if form.is_valid():
            try:
                finding = actions.create_finding(
                    study=study,
                    strand=form.cleaned_data["strand"],
                    research_question=form.cleaned_data["research_question"],
                    theme=form.cleaned_data["theme"],
                    statement=form.cleaned_data["statement"],
                    actor=request.user,
                )
            except ACTION_ERRORS as error:
                form.add_error(None, _error_text(error))
            else:
                messages.success(request, "Added the finding: now cite its evidence.")
                return redirect("integration:finding", slug=study.slug, finding_id=finding.pk)
    sections = queries.findings_register(study, request.membership.role)
    return _render(
        request,
        "integration/findings.html",
        {
            "sections": sections,
            "form": form,
            "total": sum(s.count for s in sections),
        },
        status=400 if form.errors else 200,
    )


class EvidenceForm(forms.Form):
    address = forms.CharField(
        label="Address of the evidence",
        help_text=(
            "Open the evidence in another tab and paste its address: an analysis result "
            "(with #row-N for one row), a coded segment in the source reader, a source, a "
            "framework-matrix cell or a proposition."
        ),
        max_length=1000,
    )
    label = forms.CharField(label="Label (optional)", required=False, max_length=300)


def evidence_target(study, address: str) -> dict:
    """The evidence target (keyword arguments of ``actions.add_evidence``) named by the
    address of one of this study's pages.

    Raises ValueError with a message naming what is wrong with the address.
    """
    from triangulum.analysis.models import AnalysisResult
    from triangulum.casework.models import Coding, FrameworkCell, Source

    parts = urlsplit(address.strip())
    try:
        match = resolve(parts.path)
    except Resolver404:
        raise ValueError(f"“{address}” is not the address of a page of Triangulum.") from None
    if "slug" not in match.kwargs:
        raise ValueError(f"“{address}” is not the address of a page of this study.")
    if match.kwargs["slug"] != study.slug:
        raise ValueError("That address belongs to another study.")
    fragment = parts.fragment
    name = match.view_name
    if name == "analysis:result":
        result = AnalysisResult.objects.filter(
            pk=match.kwargs["result_id"], run__study=study
        ).first()
        if result is None:
            raise ValueError("No such analysis result in this study.")
        target = {"analysis_result": result}
        if fragment.startswith("row-") and fragment[4:].isdigit():
            # The page numbers rows from 1; a locator counts them from 0.
            target["locator"] = {"row": int(fragment[4:]) - 1}
        return target
    if name == "casework:reader":
        source = Source.objects.filter(pk=match.kwargs["source_id"], study=study).first()
        if source is None:
            raise ValueError("No such source in this study.")
        query = parse_qs(parts.query)
        named = query.get("coding", [""])[0]
        if not named and fragment.startswith("coding-"):
            named = fragment[7:]
        if named:
            coding = Coding.objects.filter(pk=int(named) if named.isdigit() else None).first()
            if coding is None or coding.source_id != source.pk:
                raise ValueError(f"The source “{source.title}” has no coding {named}.")
            return {"coding": coding}
        at = query.get("at", [""])[0]
        if at.isdigit():
            # A passage address (from the retrieval or search pages): the segment that
            # starts there, when exactly one does.
            starting = list(Coding.objects.filter(source=source, start=int(at))[:2])
            if len(starting) == 1:
                return {"coding": starting[0]}
        return {"source": source}
    if name == "casework:framework_cell":
        cell = FrameworkCell.objects.filter(
            matrix_id=match.kwargs["matrix_id"],
            matrix__study=study,
            case_id=match.kwargs["case_id"],
            code_id=match.kwargs["code_id"],
        ).first()
        if cell is None:
            raise ValueError("That framework-matrix cell has not been charted yet.")
        return {"framework_cell": cell}
    if name == "integration:proposition":
        proposition = Proposition.objects.filter(
            pk=match.kwargs["proposition_id"], study=study
        ).first()
        if proposition is None:
            raise ValueError("No such proposition in this study.")
        return {"cited_proposition": proposition}
    raise ValueError(
        "Evidence is an analysis result, a coded segment or source in the reader, a "
        "framework-matrix cell or a proposition; that address is none of these."
    )


@study_view(*READ_ROLES)
def finding_detail(request, slug, finding_id):
    study = request.study
    finding = get_object_or_404(
        Finding.objects.select_related("research_question", "theme", "created_by", "study"),
        pk=finding_id,
        study=study,
    )
    form = FindingForm(
        initial={
            "strand": finding.strand,
            "research_question": finding.research_question,
            "theme": finding.theme,
            "statement": finding.statement,
        },
        study=study,
    )
    evidence_form = EvidenceForm()
    if request.method == "POST":
        _require_write(request)
        intent = request.POST.get("intent")
        try:
            if intent == "edit":
                form = FindingForm(request.POST, study=study)
                if form.is_valid():
                    actions.update_finding(
                        finding=finding,
                        strand=form.cleaned_data["strand"],
                        research_question=form.cleaned_data["research_question"],
                        theme=form.cleaned_data["theme"],
                        statement=form.cleaned_data["statement"],
                        actor=request.user,
                    )
                    messages.success(request, "Saved the finding.")
                    return redirect(request.path)
            elif intent == "add_evidence":
                evidence_form = EvidenceForm(request.POST)
                if evidence_form.is_valid():
                    try:
                        target = evidence_target(study, evidence_form.cleaned_data["address"])
                    except ValueError as error:
                        evidence_form.add_error("address", str(error))
                    else:
                        actions.add_evidence(
                            finding=finding,
                            label=evidence_form.cleaned_data["label"],
                            actor=request.user,
                            **target,
                        )
                        messages.success(request, "Added the evidence.")
                        return redirect(request.path)
            elif intent == "remove_evidence":
                evidence = get_object_or_404(
                    Evidence, pk=request.POST.get("evidence"), finding=finding
                )
                actions.remove_evidence(evidence=evidence, actor=request.user)
                messages.success(request, "Removed the evidence.")
                return redirect(request.path)
            else:
                return HttpResponse("Unknown request.", status=400)
        except ACTION_ERRORS as error:
            messages.error(request, _error_text(error))
            return redirect(request.path)
    entry = queries.finding_entry(finding, request.membership.role)
    return _render(
        request,
        "integration/finding.html",
        {
            "finding": finding,
            "entry": entry,
            "form": form,
            "evidence_form": evidence_form,
        },
        status=400 if (form.errors or evidence_form.errors) else 200,
    )


# --- convergence coding matrix ------------------------------------------------------------


class AssessmentForm(forms.Form):
    research_question = forms.IntegerField(widget=forms.HiddenInput)
    assessment = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))


@study_view(*READ_ROLES)
def convergence(request, slug):
    study = request.study
    if request.method == "POST":
        _require_write(request)
        form = AssessmentForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Write the global assessment before saving it.")
            return redirect(request.path)
        rq = get_object_or_404(
            ResearchQuestion, pk=form.cleaned_data["research_question"], study=study
        )
        try:
            actions.write_global_assessment(
                study=study,
                research_question=rq,
                assessment=form.cleaned_data["assessment"],
                actor=request.user,
            )
        except ACTION_ERRORS as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, f"Saved the global assessment for {rq.code}.")
        return redirect(f"{request.path}#assessment-{rq.number}")
    page = queries.convergence_page(study)
    return _render(request, "integration/convergence.html", {"page": page})


CODE_CHOICES = [("", "Not coded")] + list(ConvergenceCode.choices)


def _code_pairs(request, theme, pairs) -> int:
    coded = 0
    for a, b in pairs:
        code = request.POST.get(f"code-{a}-{b}", "")
        if not code:
            continue
        actions.code_pair(
            theme=theme,
            strand_a=a,
            strand_b=b,
            code=code,
            rationale=request.POST.get(f"rationale-{a}-{b}", "").strip(),
            coder=request.user,
            actor=request.user,
        )
        coded += 1
    return coded


@study_view(*READ_ROLES)
def convergence_theme(request, slug, theme_id):
    study = request.study
    theme = get_object_or_404(
        Theme.objects.select_related("research_question"), pk=theme_id, study=study
    )
    if request.method == "POST":
        _require_write(request)
        intent = request.POST.get("intent")
        pairs = queries.design_pairs()
        try:
            if intent == "code":
                # All the pairs or none: a bad rationale on one leaves the others unsaved.
                with transaction.atomic():
                    coded = _code_pairs(request, theme, pairs)
                messages.success(request, f"Saved your codes for {coded} pair(s) of strands.")
            elif intent == "settle":
                a, b = request.POST.get("strand_a", ""), request.POST.get("strand_b", "")
                if (a, b) not in pairs:
                    return HttpResponse("Unknown pair of strands.", status=400)
                actions.settle_pair(
                    theme=theme,
                    strand_a=a,
                    strand_b=b,
                    code=request.POST.get("code", ""),
                    rationale=request.POST.get("rationale", "").strip(),
                    actor=request.user,
                )
                messages.success(request, f"Settled {queries.pair_label(a, b)}.")
            else:
                return HttpResponse("Unknown request.", status=400)
        except ACTION_ERRORS as error:
            messages.error(request, _error_text(error))
        return redirect(request.path)
    return _render(
        request,
        "integration/convergence_theme.html",
        {
            "theme": theme,
            "units": queries.theme_units(theme, request.user),
            "code_choices": CODE_CHOICES,
            "findings": Finding.objects.filter(theme=theme).order_by("strand", "id"),
        },
    )


# --- propositions -------------------------------------------------------------------------


@study_view(*READ_ROLES)
def propositions(request, slug):
    from .propositions import verdict_rule_text

    return _render(
        request,
        "integration/propositions.html",
        {
            "propositions": list(queries.propositions_for(request.study)),
            "verdict_rule": verdict_rule_text(),
        },
    )


@study_view(*READ_ROLES)
def proposition_detail(request, slug, proposition_id):
    from .propositions import verdict_rule_text

    proposition = get_object_or_404(
        queries.propositions_for(request.study).select_related("study"), pk=proposition_id
    )
    return _render(
        request,
        "integration/proposition.html",
        {
            "proposition": proposition,
            "evidence": queries.proposition_evidence(proposition, request.membership.role),
            "parameters": queries.proposition_parameters(proposition),
            "details": queries.proposition_details(proposition),
            "verdict_rule": verdict_rule_text(),
        },
    )


@study_view(*READ_ROLES)
@require_POST
def lock_proposition(request, slug, proposition_id):
    _require_write(request)
    proposition = get_object_or_404(Proposition, pk=proposition_id, study=request.study)
    try:
        proposition = actions.lock_proposition(proposition=proposition, actor=request.user)
    except ACTION_ERRORS as error:
        messages.error(request, _error_text(error))
    else:
        when = timezone.localtime(proposition.locked_at)
        messages.success(
            request, f"Locked the proposition at {when:%H:%M:%S on %-d %B %Y}; its test is final."
        )
    return redirect("integration:proposition", slug=slug, proposition_id=proposition_id)


@study_view(*READ_ROLES)
@require_POST
def test_proposition(request, slug, proposition_id):
    _require_write(request)
    proposition = get_object_or_404(Proposition, pk=proposition_id, study=request.study)
    try:
        proposition = actions.test_proposition(proposition=proposition, actor=request.user)
    except ACTION_ERRORS as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            f"Tested the proposition on {proposition.wave}: {proposition.get_verdict_display()}.",
        )
    return redirect("integration:proposition", slug=slug, proposition_id=proposition_id)


# --- joint displays -----------------------------------------------------------------------


@study_view(*READ_ROLES)
def display_list(request, slug):
    return _render(
        request,
        "integration/displays.html",
        {"displays": list(queries.displays_for(request.study))},
    )


def _get_display(request, display_slug) -> JointDisplay:
    return get_object_or_404(
        JointDisplay.objects.select_related("study", "research_question"),
        slug=display_slug,
        study=request.study,
    )


EXPORTS = {
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        exports.display_xlsx,
    ),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        exports.display_docx,
    ),
    "html": ("text/html; charset=utf-8", exports.display_html),
}


@study_view(*READ_ROLES)
def display_detail(request, slug, display_slug):
    display = _get_display(request, display_slug)
    export = request.GET.get("format")
    if export:
        if export not in EXPORTS:
            raise Http404("Joint displays download as xlsx, docx or html.")
        media, build = EXPORTS[export]
        content = build(display, base_url=request.build_absolute_uri("/").rstrip("/"))
        response = HttpResponse(content, content_type=media)
        response["Content-Disposition"] = (
            f'attachment; filename="{request.study.slug}-{display.slug}.{export}"'
        )
        return response
    table = queries.display_table(display, request.membership.role)
    return _render(
        request,
        "integration/display.html",
        {"display": display, "table": table, "column_count": len(table.columns) + 2},
    )


@study_view(*READ_ROLES)
@require_POST
def meta_inference(request, slug, display_slug, row_id):
    _require_write(request)
    display = _get_display(request, display_slug)
    row = get_object_or_404(
        JointDisplayRow.objects.select_related("meta_inference_by"), pk=row_id, display=display
    )
    error = ""
    try:
        row = actions.record_meta_inference(
            row=row, text=request.POST.get("meta_inference", ""), actor=request.user
        )
    except ACTION_ERRORS as failure:
        error = _error_text(failure)
    if request.htmx:
        return render(
            request,
            "integration/_meta_inference.html",
            {"row": row, "display": display, "may_write": True, "saved": not error, "error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Saved the meta-inference for “{row.label}”.")
    return redirect(
        reverse("integration:display", args=[slug, display.slug]) + f"#display-row-{row.pk}"
    )
