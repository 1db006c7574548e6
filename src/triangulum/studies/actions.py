"""Every change to studies, their team and their participants.

Each function takes keyword arguments, checks everything before writing, runs in one
transaction and writes one audit event (with the study's id, and the record before and
after). ``actor`` is a user, or a string naming a system actor ("triangulum demo").
"""

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import transaction

from triangulum.audit.actions import record, snapshot

from .models import (
    Participant,
    ParticipantContact,
    Phase,
    ResearchQuestion,
    Role,
    RoleCategory,
    Study,
    StudyMembership,
)
from .protocol import Protocol, builtin_path, load_protocol


class StudyActionError(ValueError):
    """A change that cannot be made; ``field`` names the input at fault, where there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def _full_clean(instance, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        field = next(iter(getattr(error, "message_dict", {}) or {}), None)
        raise StudyActionError(_validation_message(error), field=field) from None


# --- accounts -------------------------------------------------------------------------


def create_user(*, actor, username: str, password: str, email: str = ""):
    """Create a sign-in account; the password must pass the configured validators."""
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise StudyActionError("A username is required.", field="username")
    if User.objects.filter(username=username).exists():
        raise StudyActionError(f"A user named '{username}' already exists.", field="username")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise StudyActionError(
                f"'{email}' is not a valid e-mail address.", field="email"
            ) from None
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        raise StudyActionError(
            "Password not accepted: " + " ".join(error.messages), field="password"
        ) from None
    with transaction.atomic():
        user = User.objects.create_user(username=username, email=email, password=password)
        record(
            actor=actor,
            action="user.create",
            obj=user,
            after={"username": user.username, "email": user.email},
        )
    return user


# --- studies --------------------------------------------------------------------------

EDITABLE_STUDY_FIELDS = (
    "title",
    "short_title",
    "funder",
    "funding_amount",
    "host",
    "start_date",
    "end_date",
    "aim",
    "secondary_focus",
    "stakeholder_groups",
    "care_sectors",
)


def _check_study_fields(fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE_STUDY_FIELDS))
    if unknown:
        raise StudyActionError(f"Unknown study field(s): {', '.join(unknown)}.", field=unknown[0])


def _check_study_dates(study: Study) -> None:
    if study.start_date and study.end_date and study.end_date < study.start_date:
        raise StudyActionError(
            f"The study cannot end ({study.end_date}) before it starts ({study.start_date}).",
            field="end_date",
        )


def create_study(*, actor, slug: str, title: str, lead=None, **fields) -> Study:
    """Create a study. A signed-in creator (or ``lead``) becomes its first lead."""
    _check_study_fields(fields)
    try:
        validate_slug(slug or "")
    except ValidationError:
        raise StudyActionError(
            f"'{slug}' is not a valid slug: use letters, digits, hyphens and underscores.",
            field="slug",
        ) from None
    if Study.objects.filter(slug=slug).exists():
        raise StudyActionError(f"A study with slug '{slug}' already exists.", field="slug")
    study = Study(slug=slug, title=(title or "").strip(), **fields)
    _full_clean(study)
    _check_study_dates(study)
    if lead is None and actor is not None and not isinstance(actor, str):
        lead = actor
    with transaction.atomic():
        study.save()
        record(
            actor=actor, action="study.create", obj=study, study_id=study.id, after=snapshot(study)
        )
        if lead is not None:
            _add_membership(actor=actor, study=study, user=lead, role=Role.LEAD)
    return study


def update_study(*, actor, study: Study, **changes) -> Study:
    _check_study_fields(changes)
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        before = snapshot(study)
        for name, value in changes.items():
            setattr(study, name, value)
        _full_clean(study)
        _check_study_dates(study)
        study.save()
        record(
            actor=actor,
            action="study.update",
            obj=study,
            study_id=study.id,
            before=before,
            after=snapshot(study),
        )
    return study


# --- the built-in study ---------------------------------------------------------------


def builtin_protocol() -> Protocol:
    return load_protocol(builtin_path(), phase_kinds=Phase.Kind.values)


def _protocol_snapshot(study: Study) -> dict[str, Any]:
    """The study with its RQs and phases, as one record for the audit trail."""
    values = snapshot(study)
    values["research_questions"] = [
        snapshot(q, ["number", "short_name", "text"]) for q in study.research_questions.all()
    ]
    values["phases"] = [
        {
            **snapshot(
                p,
                [
                    "order",
                    "kind",
                    "name",
                    "description",
                    "produces",
                    "planned_start_date",
                    "planned_end_date",
                ],
            ),
            "research_questions": sorted(q.number for q in p.research_questions.all()),
        }
        for p in study.phases.prefetch_related("research_questions")
    ]
    return values


def install_builtin_study(*, actor, simulated: bool = False) -> Study:
    """Install the built-in study, or bring an installed copy up to date in place.

    Reinstalling rewrites the protocol (texts, RQs, phases, planned dates) but keeps what
    happened since: phase status and actual dates, the team and the participants. A study
    once marked simulated stays simulated, because its records already are.
    """
    protocol = builtin_protocol()
    with transaction.atomic():
        study = Study.objects.select_for_update().filter(slug=protocol.slug).first()
        before = _protocol_snapshot(study) if study else None
        if study is None:
            study = Study(slug=protocol.slug)
        study.title = protocol.title
        study.short_title = protocol.short_title
        study.funder = protocol.funder
        study.funding_amount = protocol.funding_amount
        study.host = protocol.host
        study.start_date = protocol.start_date
        study.end_date = protocol.end_date
        study.aim = protocol.aim
        study.secondary_focus = protocol.secondary_focus
        study.stakeholder_groups = [g.as_dict() for g in protocol.stakeholder_groups]
        study.care_sectors = [g.as_dict() for g in protocol.care_sectors]
        study.is_builtin = True
        study.is_simulated = study.is_simulated or simulated
        study.save()

        numbers = [q.number for q in protocol.research_questions]
        study.research_questions.exclude(number__in=numbers).delete()
        questions: dict[int, ResearchQuestion] = {}
        for spec in protocol.research_questions:
            questions[spec.number], _ = ResearchQuestion.objects.update_or_create(
                study=study,
                number=spec.number,
                defaults={"short_name": spec.short_name, "text": spec.text},
            )

        study.phases.filter(order__gt=len(protocol.phases)).delete()
        for spec in protocol.phases:
            phase, _ = Phase.objects.update_or_create(
                study=study,
                order=spec.order,
                defaults={
                    "kind": spec.kind,
                    "name": spec.name,
                    "description": spec.description,
                    "produces": spec.produces,
                    "planned_start_date": spec.planned_start_date,
                    "planned_end_date": spec.planned_end_date,
                },
            )
            phase.research_questions.set([questions[n] for n in spec.research_questions])

        record(
            actor=actor,
            action="study.install_builtin" if before is None else "study.reinstall_builtin",
            obj=study,
            study_id=study.id,
            before=before,
            after=_protocol_snapshot(study),
        )
    return study


# --- the team -------------------------------------------------------------------------


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise StudyActionError(
            f"'{role}' is not a study role; choose one of: {', '.join(Role.values)}.",
            field="role",
        )


def _add_membership(*, actor, study: Study, user, role: str) -> StudyMembership:
    membership = StudyMembership.objects.create(study=study, user=user, role=role)
    record(
        actor=actor,
        action="membership.add",
        obj=membership,
        study_id=study.id,
        after={"user": user.get_username(), "role": role},
    )
    return membership


def add_member(*, actor, study: Study, username: str, role: str) -> StudyMembership:
    _check_role(role)
    User = get_user_model()
    user = User.objects.filter(username=(username or "").strip()).first()
    if user is None:
        raise StudyActionError(
            f"No user named '{username}'. Create the account first (triangulum createuser).",
            field="username",
        )
    with transaction.atomic():
        if StudyMembership.objects.filter(study=study, user=user).exists():
            raise StudyActionError(
                f"'{user.get_username()}' is already a member of this study.", field="username"
            )
        return _add_membership(actor=actor, study=study, user=user, role=role)


def _refuse_losing_last_lead(membership: StudyMembership, doing: str) -> None:
    if membership.role != Role.LEAD:
        return
    leads = StudyMembership.objects.select_for_update().filter(
        study_id=membership.study_id, role=Role.LEAD
    )
    if leads.count() <= 1:
        raise StudyActionError(
            f"Cannot {doing} {membership.user.get_username()}: they are the study's only lead. "
            "Make another member a lead first.",
            field="role",
        )


def change_member_role(*, actor, membership: StudyMembership, role: str) -> StudyMembership:
    _check_role(role)
    with transaction.atomic():
        membership = StudyMembership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == role:
            return membership
        if role != Role.LEAD:
            _refuse_losing_last_lead(membership, "demote")
        before = {"user": membership.user.get_username(), "role": membership.role}
        membership.role = role
        membership.save(update_fields=["role"])
        record(
            actor=actor,
            action="membership.change_role",
            obj=membership,
            study_id=membership.study_id,
            before=before,
            after={"user": membership.user.get_username(), "role": role},
        )
    return membership


def remove_member(*, actor, membership: StudyMembership) -> None:
    with transaction.atomic():
        membership = StudyMembership.objects.select_for_update().get(pk=membership.pk)
        _refuse_losing_last_lead(membership, "remove")
        before = {"user": membership.user.get_username(), "role": membership.role}
        label = str(membership)
        object_id = str(membership.pk)
        study_id = membership.study_id
        membership.delete()
        record(
            actor=actor,
            action="membership.remove",
            object_type=StudyMembership._meta.label_lower,
            object_id=object_id,
            object_label=label,
            study_id=study_id,
            before=before,
            after=None,
        )


# --- phases ---------------------------------------------------------------------------

KEEP = object()  # "leave this date as it is"


def set_phase_status(*, actor, phase: Phase, status: str, start_date=KEEP, end_date=KEEP) -> Phase:
    """Set a phase's status and, where given, its actual start and end dates (None clears)."""
    if status not in Phase.Status.values:
        raise StudyActionError(
            f"'{status}' is not a phase status; choose one of: {', '.join(Phase.Status.values)}.",
            field="status",
        )
    with transaction.atomic():
        phase = Phase.objects.select_for_update().get(pk=phase.pk)
        before = snapshot(phase, ["status", "start_date", "end_date"])
        phase.status = status
        if start_date is not KEEP:
            phase.start_date = start_date
        if end_date is not KEEP:
            phase.end_date = end_date
        if phase.start_date and phase.end_date and phase.end_date < phase.start_date:
            raise StudyActionError(
                f"Phase '{phase.name}' cannot end ({phase.end_date}) before it starts "
                f"({phase.start_date}).",
                field="end_date",
            )
        phase.save(update_fields=["status", "start_date", "end_date"])
        record(
            actor=actor,
            action="phase.set_status",
            obj=phase,
            study_id=phase.study_id,
            before=before,
            after=snapshot(phase, ["status", "start_date", "end_date"]),
        )
    return phase


# --- participants ---------------------------------------------------------------------

_GENERATED_PSEUDONYM = re.compile(r"^P(\d+)$")


def next_pseudonym(study: Study) -> str:
    numbers = [
        int(m.group(1))
        for p in study.participants.values_list("pseudonym", flat=True)
        if (m := _GENERATED_PSEUDONYM.match(p))
    ]
    return f"P{max(numbers, default=0) + 1:03d}"


def register_participant(
    *,
    actor,
    study: Study,
    role_category: str,
    organisation=None,
    pseudonym: str | None = None,
    is_simulated: bool | None = None,
) -> Participant:
    """Add a participant under a pseudonym (the next free ``P001``-style one if not given)."""
    if role_category not in RoleCategory.values:
        raise StudyActionError(
            f"'{role_category}' is not a role category; choose one of: "
            f"{', '.join(RoleCategory.values)}.",
            field="role_category",
        )
    pseudonym = (pseudonym or "").strip()
    with transaction.atomic():
        # Lock the study row so two registrations cannot draw the same generated pseudonym.
        Study.objects.select_for_update().filter(pk=study.pk).exists()
        if not pseudonym:
            pseudonym = next_pseudonym(study)
        elif study.participants.filter(pseudonym=pseudonym).exists():
            raise StudyActionError(
                f"Pseudonym '{pseudonym}' is already used in this study.", field="pseudonym"
            )
        participant = Participant(
            study=study,
            pseudonym=pseudonym,
            role_category=role_category,
            organisation=organisation,
            is_simulated=study.is_simulated if is_simulated is None else is_simulated,
        )
        _full_clean(participant, exclude=["study", "organisation"])
        participant.save()
        record(
            actor=actor,
            action="participant.register",
            obj=participant,
            study_id=study.id,
            after=snapshot(
                participant, ["pseudonym", "role_category", "organisation", "is_simulated"]
            ),
        )
    return participant


CONTACT_FIELDS = ("full_name", "job_title", "email", "phone", "notes")
WITHHELD = "(withheld)"
WITHHELD_CHANGED = "(withheld; changed)"


def _withheld(values: dict[str, str], previous: dict[str, str] | None = None) -> dict[str, str]:
    """Personal details never enter the audit trail: record only which fields held or changed."""
    masked = {}
    for name in CONTACT_FIELDS:
        value = values.get(name, "")
        if previous is not None and value != previous.get(name, ""):
            masked[name] = WITHHELD_CHANGED if value else ""
        else:
            masked[name] = WITHHELD if value else ""
    return masked


def set_participant_contact(
    *,
    actor,
    participant: Participant,
    full_name: str,
    job_title: str = "",
    email: str = "",
    phone: str = "",
    notes: str = "",
) -> ParticipantContact:
    values = {
        "full_name": (full_name or "").strip(),
        "job_title": (job_title or "").strip(),
        "email": (email or "").strip(),
        "phone": (phone or "").strip(),
        "notes": (notes or "").strip(),
    }
    if not values["full_name"]:
        raise StudyActionError("A full name is required for contact details.", field="full_name")
    with transaction.atomic():
        contact = (
            ParticipantContact.objects.select_for_update().filter(participant=participant).first()
        )
        previous = {name: getattr(contact, name) for name in CONTACT_FIELDS} if contact else None
        if contact is None:
            contact = ParticipantContact(participant=participant)
        for name, value in values.items():
            setattr(contact, name, value)
        _full_clean(contact, exclude=["participant"])
        contact.save()
        record(
            actor=actor,
            action="participant_contact.set",
            obj=contact,
            object_label=f"contact details of {participant.pseudonym}",
            study_id=participant.study_id,
            before=_withheld(previous) if previous is not None else None,
            after=_withheld(values, previous),
        )
    return contact


def erase_participant_contact(*, actor, participant: Participant) -> bool:
    """Delete a participant's personal details (on request, or at the end of the study).

    The pseudonymous participant and its research data stay. Returns False if there were
    no details to erase.
    """
    with transaction.atomic():
        contact = (
            ParticipantContact.objects.select_for_update().filter(participant=participant).first()
        )
        if contact is None:
            return False
        before = _withheld({name: getattr(contact, name) for name in CONTACT_FIELDS})
        object_id = str(contact.pk)
        contact.delete()
        record(
            actor=actor,
            action="participant_contact.erase",
            object_type=ParticipantContact._meta.label_lower,
            object_id=object_id,
            object_label=f"contact details of {participant.pseudonym}",
            study_id=participant.study_id,
            before=before,
            after=None,
        )
    return True
