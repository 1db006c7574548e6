from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from triangulum.audit.models import AuditEvent
from triangulum.audit.queries import events_for_study

from . import actions, queries
from .forms import (
    AddMemberForm,
    AuditFilterForm,
    ChangeRoleForm,
    ContactForm,
    RegisterParticipantForm,
)
from .models import Participant, ParticipantContact, Role, StudyMembership
from .permissions import ALL_ROLES, CONTACT_ROLES, study_view

AUDIT_PAGE_SIZE = 25


@study_view(*ALL_ROLES)
def study_home(request, slug):
    study = request.study
    return render(
        request,
        "studies/home.html",
        {
            "phases": queries.phases_with_contents(study),
            "research_questions": study.research_questions.all(),
        },
    )


# --- members --------------------------------------------------------------------------


def _members_context(request, *, add_form=None, role_errors=None):
    memberships = request.study.memberships.select_related("user").order_by("user__username")
    return {
        "memberships": [(m, (role_errors or {}).get(m.pk)) for m in memberships],
        "add_form": add_form or AddMemberForm(),
        "roles": Role.choices,
    }


def _render_members(request, *, status=200, **kwargs):
    if request.htmx:
        # htmx swaps only successful responses, so a partial carrying errors is sent as 200.
        return render(request, "studies/_members_section.html", _members_context(request, **kwargs))
    return render(
        request, "studies/members.html", _members_context(request, **kwargs), status=status
    )


@study_view(Role.LEAD)
@require_http_methods(["GET", "POST"])
def members(request, slug):
    if request.method == "POST":
        form = AddMemberForm(request.POST)
        if form.is_valid():
            try:
                membership = actions.add_member(
                    actor=request.user,
                    study=request.study,
                    username=form.cleaned_data["username"],
                    role=form.cleaned_data["role"],
                )
            except actions.StudyActionError as error:
                form.add_action_error(error)
            else:
                messages.success(
                    request,
                    f"Added {membership.user.get_username()} as {membership.get_role_display()}.",
                )
                if request.htmx:
                    return _render_members(request)
                return redirect("studies:members", slug)
        return _render_members(request, add_form=form, status=400)
    return _render_members(request)


@study_view(Role.LEAD)
@require_POST
def change_role(request, slug, membership_id):
    membership = get_object_or_404(StudyMembership, pk=membership_id, study=request.study)
    form = ChangeRoleForm(request.POST)
    error = None
    if form.is_valid():
        try:
            actions.change_member_role(
                actor=request.user, membership=membership, role=form.cleaned_data["role"]
            )
        except actions.StudyActionError as failure:
            error = failure.message
        else:
            messages.success(
                request,
                f"{membership.user.get_username()} is now {Role(form.cleaned_data['role']).label}.",
            )
    else:
        error = " ".join(form.errors.get("role", ["Choose a role."]))
    if error:
        if request.htmx:
            return _render_members(request, role_errors={membership.pk: error}, status=400)
        messages.error(request, error)
    if request.htmx:
        return _render_members(request)
    # A lead who demoted themselves can no longer open the members page.
    return redirect("studies:home" if _lost_lead(request) else "studies:members", slug)


def _lost_lead(request) -> bool:
    return not request.study.memberships.filter(user=request.user, role=Role.LEAD).exists()


@study_view(Role.LEAD)
@require_http_methods(["GET", "POST"])
def remove_member(request, slug, membership_id):
    membership = get_object_or_404(
        StudyMembership.objects.select_related("user"), pk=membership_id, study=request.study
    )
    if request.method == "POST":
        try:
            actions.remove_member(actor=request.user, membership=membership)
        except actions.StudyActionError as error:
            messages.error(request, error.message)
            return redirect("studies:members", slug)
        messages.success(request, f"Removed {membership.user.get_username()} from the study.")
        if membership.user_id == request.user.pk:
            return redirect("core:home")
        return redirect("studies:members", slug)
    return render(request, "studies/remove_member.html", {"target": membership})


# --- participants ---------------------------------------------------------------------


PARTICIPANT_PAGE_SIZE = 50


def _participants_context(request, *, form=None):
    show_contacts = request.membership.role in CONTACT_ROLES
    participants = queries.participants_for(request.study, with_contacts=show_contacts)
    search = request.GET.get("q", "").strip()[:100]
    if search:
        # Search by pseudonym or organisation only: names are not searchable from here,
        # so the register cannot be used to look a person up by name.
        participants = participants.filter(
            Q(pseudonym__icontains=search)
            | Q(organisation__name__icontains=search)
            | Q(organisation__ods_code__iexact=search)
        )
    page = Paginator(participants, PARTICIPANT_PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "participants": page.object_list,
        "page": page,
        "search": search,
        "show_contacts": show_contacts,
        "can_edit": request.membership.role == Role.LEAD,
        "form": form or RegisterParticipantForm(),
        "contact_form": ContactForm(prefix="contact"),
    }


@study_view(Role.LEAD, Role.RESEARCHER, Role.INTERVIEWER)
@require_http_methods(["GET"])
def participants(request, slug):
    return render(request, "studies/participants.html", _participants_context(request))


@study_view(Role.LEAD)
@require_POST
def register_participant(request, slug):
    form = RegisterParticipantForm(request.POST)
    contact_form = ContactForm(request.POST, prefix="contact")
    # Contact details are optional when registering; a name makes them count as given.
    wants_contact = bool(request.POST.get("contact-full_name", "").strip())
    if form.is_valid() and (not wants_contact or contact_form.is_valid()):
        try:
            with transaction.atomic():
                participant = actions.register_participant(
                    actor=request.user,
                    study=request.study,
                    role_category=form.cleaned_data["role_category"],
                    organisation=form.organisation,
                    pseudonym=form.cleaned_data["pseudonym"] or None,
                )
                if wants_contact:
                    actions.set_participant_contact(
                        actor=request.user, participant=participant, **contact_form.cleaned_data
                    )
        except actions.StudyActionError as error:
            (contact_form if error.field in contact_form.fields else form).add_action_error(error)
        else:
            messages.success(request, f"Registered participant {participant.pseudonym}.")
            return redirect("studies:participants", slug)
    context = _participants_context(request, form=form)
    context["contact_form"] = contact_form
    return render(request, "studies/participants.html", context, status=400)


@study_view(Role.LEAD)
@require_http_methods(["GET", "POST"])
def participant_contact(request, slug, participant_id):
    participant = get_object_or_404(Participant, pk=participant_id, study=request.study)
    existing = ParticipantContact.objects.filter(participant=participant).first()
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                actions.set_participant_contact(
                    actor=request.user, participant=participant, **form.cleaned_data
                )
            except actions.StudyActionError as error:
                form.add_action_error(error)
            else:
                messages.success(request, f"Saved contact details for {participant.pseudonym}.")
                return redirect("studies:participants", slug)
        status = 400
    else:
        initial = (
            {name: getattr(existing, name) for name in actions.CONTACT_FIELDS} if existing else {}
        )
        form = ContactForm(initial=initial)
        status = 200
    return render(
        request,
        "studies/participant_contact.html",
        {"participant": participant, "form": form, "existing": existing},
        status=status,
    )


# --- audit trail ----------------------------------------------------------------------


def _distinct(events, field: str) -> list[str]:
    return list(events.order_by(field).values_list(field, flat=True).distinct())


@study_view(Role.LEAD)
@require_http_methods(["GET"])
def audit(request, slug):
    everything = AuditEvent.objects.filter(study_id=request.study.id)
    form = AuditFilterForm(
        request.GET or None,
        actors=_distinct(everything, "actor_label"),
        actions=_distinct(everything, "action"),
        object_types=_distinct(everything, "object_type"),
    )
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = events_for_study(
        request.study.id,
        actor=filters.get("actor") or None,
        action=filters.get("action") or None,
        object_type=filters.get("object_type") or None,
        since=filters.get("since"),
        until=filters.get("until"),
    )
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "studies/audit.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": any(filters.values())},
        status=400 if form.is_bound and form.errors else 200,
    )
