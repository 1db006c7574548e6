"""Redesign initiatives: the list, each initiative with its linked segments, and editing.

Who may do what: lead and researcher record and edit initiatives and link sources; lead,
researcher and coder read them with their segments and write memos; viewers read the
initiative records (no segment text, as elsewhere in casework); interviewers none.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from triangulum.organisations.models import Organisation, OrganisationType
from triangulum.studies.models import Role
from triangulum.studies.permissions import study_view

from . import actions_initiatives as initiatives_actions
from .actions import CaseworkError
from .actions_privacy import study_organisations
from .models import Initiative, Source

EDIT_ROLES = (Role.LEAD, Role.RESEARCHER)
SEGMENT_ROLES = (Role.LEAD, Role.RESEARCHER, Role.CODER)
READ_ROLES = (Role.LEAD, Role.RESEARCHER, Role.CODER, Role.VIEWER)


class InitiativeForm(forms.Form):
    name = forms.CharField(max_length=300)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    lead_organisation = forms.ModelChoiceField(queryset=Organisation.objects.none())
    partner_organisations = forms.ModelMultipleChoiceField(
        queryset=Organisation.objects.none(), required=False
    )
    sectors = forms.CharField(
        required=False, help_text="Separate with commas, e.g. primary care, social care."
    )
    benefits_targeted = forms.CharField(required=False, help_text="Separate with commas.")
    leaders = forms.ModelMultipleChoiceField(queryset=None, required=False)
    status = forms.ChoiceField(choices=Initiative.Status.choices)
    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        ids = [o.id for o in study_organisations(study) if o.org_type != OrganisationType.PRACTICE]
        organisations = Organisation.objects.filter(id__in=ids).order_by("name")
        self.fields["lead_organisation"].queryset = organisations
        self.fields["partner_organisations"].queryset = organisations
        self.fields["leaders"].queryset = study.participants.order_by("pseudonym")
        self.fields["leaders"].label_from_instance = lambda p: (
            f"{p.pseudonym} ({p.get_role_category_display()})"
        )


def _initial(initiative: Initiative) -> dict:
    return {
        "name": initiative.name,
        "description": initiative.description,
        "lead_organisation": initiative.lead_organisation_id,
        "partner_organisations": list(
            initiative.partner_organisations.values_list("id", flat=True)
        ),
        "sectors": ", ".join(initiative.sectors),
        "benefits_targeted": ", ".join(initiative.benefits_targeted),
        "leaders": list(initiative.leaders.values_list("id", flat=True)),
        "status": initiative.status,
        "start_date": initiative.start_date,
        "end_date": initiative.end_date,
    }


def _get(request, initiative_id) -> Initiative:
    return get_object_or_404(
        Initiative.objects.select_related("lead_organisation"),
        pk=initiative_id,
        study=request.study,
    )


@study_view(*READ_ROLES)
def initiative_list(request, slug):
    rows = (
        Initiative.objects.filter(study=request.study)
        .select_related("lead_organisation")
        .prefetch_related("partner_organisations", "sources")
        .order_by("lead_organisation__name", "name")
    )
    return render(
        request,
        "casework/initiatives/list.html",
        {
            "study": request.study,
            "membership": request.membership,
            "initiatives": rows,
            "may_edit": request.membership.role in EDIT_ROLES,
        },
    )


def _save(request, form, initiative=None):
    data = form.cleaned_data
    values = {
        "name": data["name"],
        "description": data["description"],
        "lead_organisation": data["lead_organisation"],
        "partner_organisations": list(data["partner_organisations"]),
        "sectors": data["sectors"],
        "benefits_targeted": data["benefits_targeted"],
        "leaders": list(data["leaders"]),
        "status": data["status"],
        "start_date": data["start_date"],
        "end_date": data["end_date"],
    }
    if initiative is None:
        return initiatives_actions.create_initiative(
            study=request.study, actor=request.user, **values
        )
    return initiatives_actions.update_initiative(
        initiative=initiative, actor=request.user, **values
    )


def _form_page(request, form, initiative=None):
    return render(
        request,
        "casework/initiatives/form.html",
        {
            "study": request.study,
            "membership": request.membership,
            "form": form,
            "initiative": initiative,
        },
        status=400 if form.is_bound else 200,
    )


@study_view(*EDIT_ROLES)
def initiative_create(request, slug):
    form = InitiativeForm(request.POST or None, study=request.study)
    if request.method == "POST" and form.is_valid():
        try:
            initiative = _save(request, form)
        except CaseworkError as error:
            form.add_error(
                getattr(error, "field", None)
                if getattr(error, "field", None) in form.fields
                else None,
                str(error),
            )
        else:
            messages.success(request, f"Initiative “{initiative.name}” recorded.")
            return redirect("casework_initiatives:detail", slug, initiative.pk)
    return _form_page(request, form)


@study_view(*EDIT_ROLES)
def initiative_edit(request, slug, initiative_id):
    initiative = _get(request, initiative_id)
    form = InitiativeForm(request.POST or None, study=request.study, initial=_initial(initiative))
    if request.method == "POST" and form.is_valid():
        try:
            _save(request, form, initiative)
        except CaseworkError as error:
            form.add_error(
                getattr(error, "field", None)
                if getattr(error, "field", None) in form.fields
                else None,
                str(error),
            )
        else:
            messages.success(request, "Initiative saved.")
            return redirect("casework_initiatives:detail", slug, initiative.pk)
    return _form_page(request, form, initiative)


@study_view(*READ_ROLES)
def initiative_detail(request, slug, initiative_id):
    initiative = _get(request, initiative_id)
    role = request.membership.role
    may_read_segments = role in SEGMENT_ROLES
    segments = (
        initiatives_actions.initiative_segments(initiative, visible_to=request.user)
        if may_read_segments
        else []
    )
    from .queries import code_paths

    paths = code_paths(request.study) if segments else {}
    linked = list(initiative.sources.order_by("title")) if may_read_segments else []
    return render(
        request,
        "casework/initiatives/detail.html",
        {
            "study": request.study,
            "membership": request.membership,
            "initiative": initiative,
            "case": initiative.cases.filter(kind="initiative").first(),
            "partners": initiative.partner_organisations.order_by("name"),
            "leaders": initiative.leaders.order_by("pseudonym"),
            "sources": linked,
            "segment_count": len(segments),
            "segments": [
                {
                    "coding": c,
                    "path": paths.get(c.code_id, c.code.name),
                    "text": c.source.text[c.start : c.end],
                }
                for c in segments[:200]
            ],
            "memos": initiative.memos.select_related("author").order_by("-updated_at"),
            "may_edit": role in EDIT_ROLES,
            "may_read_segments": may_read_segments,
            "other_sources": (
                Source.objects.filter(study=request.study)
                .exclude(initiatives=initiative)
                .order_by("title")
                if role in EDIT_ROLES
                else []
            ),
        },
    )


@study_view(*EDIT_ROLES)
@require_POST
def initiative_link_source(request, slug, initiative_id):
    initiative = _get(request, initiative_id)
    source = Source.objects.filter(study=request.study, pk=request.POST.get("source") or 0).first()
    if source is None:
        messages.error(request, "Choose a source of this study to link.")
    else:
        initiatives_actions.link_sources(
            initiative=initiative, sources=[source], actor=request.user
        )
        messages.success(request, f"Linked “{source.title}”.")
    return redirect("casework_initiatives:detail", slug, initiative.pk)


@study_view(*SEGMENT_ROLES)
@require_POST
def initiative_memo(request, slug, initiative_id):
    initiative = _get(request, initiative_id)
    try:
        initiatives_actions.add_initiative_memo(
            initiative=initiative,
            text=request.POST.get("text", ""),
            title=request.POST.get("title", ""),
            author=request.user,
        )
    except CaseworkError as error:
        messages.error(request, f"Memo not saved: {error}")
    else:
        messages.success(request, "Memo saved.")
    return redirect("casework_initiatives:detail", slug, initiative.pk)
