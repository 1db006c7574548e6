"""Actions: each change checked first, made in one transaction, and audited before/after."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from triangulum.audit.models import AuditEvent
from triangulum.organisations.models import Organisation, OrganisationType
from triangulum.studies import actions
from triangulum.studies.actions import StudyActionError
from triangulum.studies.models import (
    Participant,
    ParticipantContact,
    Phase,
    Role,
    RoleCategory,
    Study,
    StudyMembership,
)

pytestmark = pytest.mark.django_db


def events(study, action):
    return list(AuditEvent.objects.filter(study_id=study.id, action=action).order_by("id"))


def test_create_study_makes_the_creator_lead_and_audits(make_user):
    alice = make_user("alice")
    study = actions.create_study(
        actor=alice,
        slug="s1",
        title="Study one",
        funder="NIHR",
        start_date=datetime.date(2020, 1, 1),
    )
    assert study.memberships.get().role == Role.LEAD
    [created] = events(study, "study.create")
    assert created.actor == alice and created.before is None
    assert created.after["title"] == "Study one" and created.after["start_date"] == "2020-01-01"
    assert events(study, "membership.add")[0].after == {"user": "alice", "role": "lead"}


def test_create_study_refuses_bad_input_and_writes_nothing(study):
    before = (Study.objects.count(), AuditEvent.objects.count())
    for kwargs, field in [
        ({"slug": "test-study", "title": "Again"}, "slug"),
        ({"slug": "has space", "title": "T"}, "slug"),
        ({"slug": "ok", "title": "T", "colour": "red"}, "colour"),
        (
            {
                "slug": "ok",
                "title": "T",
                "start_date": datetime.date(2020, 2, 1),
                "end_date": datetime.date(2020, 1, 1),
            },
            "end_date",
        ),
    ]:
        with pytest.raises(StudyActionError) as caught:
            actions.create_study(actor="test", **kwargs)
        assert caught.value.field == field
    assert (Study.objects.count(), AuditEvent.objects.count()) == before


def test_update_study_records_before_and_after(study, users):
    actions.update_study(actor=users["lead"], study=study, aim="New aim", funder="NIHR")
    [event] = events(study, "study.update")
    changed = {name: (old, new) for name, old, new in event.changes}
    assert changed == {"aim": ("", "New aim"), "funder": ("", "NIHR")}


def test_add_member_errors_for_unknown_user_and_existing_member(study, users):
    with pytest.raises(StudyActionError, match="No user named 'ghost'"):
        actions.add_member(actor="test", study=study, username="ghost", role=Role.VIEWER)
    with pytest.raises(StudyActionError, match="'coder' is already a member"):
        actions.add_member(actor="test", study=study, username="coder", role=Role.VIEWER)
    with pytest.raises(StudyActionError, match="not a study role"):
        actions.add_member(actor="test", study=study, username="lead", role="boss")


def test_change_role_is_audited(study, users):
    membership = study.memberships.get(user=users["viewer"])
    actions.change_member_role(actor=users["lead"], membership=membership, role=Role.CODER)
    membership.refresh_from_db()
    assert membership.role == Role.CODER
    [event] = events(study, "membership.change_role")
    assert event.before == {"user": "viewer", "role": "viewer"}
    assert event.after == {"user": "viewer", "role": "coder"}


def test_the_last_lead_can_be_neither_demoted_nor_removed(study, users):
    lead_membership = study.memberships.get(user=users["lead"])
    count = AuditEvent.objects.count()
    with pytest.raises(StudyActionError, match="only lead"):
        actions.change_member_role(
            actor=users["lead"], membership=lead_membership, role=Role.VIEWER
        )
    with pytest.raises(StudyActionError, match="only lead"):
        actions.remove_member(actor=users["lead"], membership=lead_membership)
    lead_membership.refresh_from_db()
    assert lead_membership.role == Role.LEAD
    assert AuditEvent.objects.count() == count

    # With a second lead, the first may step down.
    second = study.memberships.get(user=users["researcher"])
    actions.change_member_role(actor=users["lead"], membership=second, role=Role.LEAD)
    actions.remove_member(actor=users["researcher"], membership=lead_membership)
    assert not StudyMembership.objects.filter(pk=lead_membership.pk).exists()
    [removed] = events(study, "membership.remove")
    assert removed.before == {"user": "lead", "role": "lead"} and removed.after is None
    with pytest.raises(StudyActionError, match="only lead"):
        actions.remove_member(actor="test", membership=second)


def test_participants_get_sequential_pseudonyms_per_study(study, make_user):
    other = actions.create_study(actor=make_user("olga"), slug="other", title="Other")
    first = actions.register_participant(actor="t", study=study, role_category=RoleCategory.CHAIR)
    second = actions.register_participant(actor="t", study=study, role_category=RoleCategory.NURSE)
    chosen = actions.register_participant(
        actor="t", study=study, role_category=RoleCategory.NURSE, pseudonym="P041"
    )
    after_chosen = actions.register_participant(
        actor="t", study=study, role_category=RoleCategory.NURSE
    )
    elsewhere = actions.register_participant(
        actor="t", study=other, role_category=RoleCategory.CHAIR
    )
    assert [first.pseudonym, second.pseudonym, chosen.pseudonym] == ["P001", "P002", "P041"]
    assert after_chosen.pseudonym == "P042"
    assert elsewhere.pseudonym == "P001"
    event = events(study, "participant.register")[0]
    assert event.after["pseudonym"] == "P001" and event.after["role_category"] == "chair"


def test_register_participant_refuses_bad_input(study):
    actions.register_participant(actor="t", study=study, role_category="chair", pseudonym="A")
    with pytest.raises(StudyActionError, match="'A' is already used") as caught:
        actions.register_participant(actor="t", study=study, role_category="chair", pseudonym="A")
    assert caught.value.field == "pseudonym"
    with pytest.raises(StudyActionError, match="'surgeon' is not a role category"):
        actions.register_participant(actor="t", study=study, role_category="surgeon")
    assert study.participants.count() == 1


def test_register_participant_with_organisation_and_simulated_default(study):
    ccg = Organisation.objects.create(
        org_type=OrganisationType.CCG, ods_code="02P", name="Barnsley CCG"
    )
    study.is_simulated = True
    study.save()
    participant = actions.register_participant(
        actor="t", study=study, role_category="gp_member", organisation=ccg
    )
    assert participant.organisation == ccg and participant.is_simulated


def test_contact_details_are_set_then_updated_and_never_written_to_the_audit_trail(study, users):
    participant = actions.register_participant(actor="t", study=study, role_category="chair")
    actions.set_participant_contact(
        actor=users["lead"],
        participant=participant,
        full_name="Anna Example",
        email="anna@example.org",
        phone="01632 960001",
    )
    actions.set_participant_contact(
        actor=users["lead"],
        participant=participant,
        full_name="Anna Example",
        email="anna.e@example.org",
        phone="01632 960001",
        job_title="Chair",
    )
    contact = ParticipantContact.objects.get(participant=participant)
    assert (contact.email, contact.job_title) == ("anna.e@example.org", "Chair")
    created, updated = events(study, "participant_contact.set")
    assert created.before is None and created.after["full_name"] == actions.WITHHELD
    changed = {name for name, _, _ in updated.changes}
    assert changed == {"email", "job_title"}
    recorded = str([created.before, created.after, updated.before, updated.after])
    for secret in ("Anna", "anna", "960001"):
        assert secret not in recorded


def test_contact_details_are_validated(study):
    participant = actions.register_participant(actor="t", study=study, role_category="chair")
    with pytest.raises(StudyActionError, match="full name is required"):
        actions.set_participant_contact(actor="t", participant=participant, full_name=" ")
    with pytest.raises(StudyActionError) as caught:
        actions.set_participant_contact(
            actor="t", participant=participant, full_name="X", email="no"
        )
    assert caught.value.field == "email"
    assert not ParticipantContact.objects.exists()


def test_set_phase_status_with_dates_and_refusal(study):
    phase = Phase.objects.create(study=study, order=1, kind="integration", name="Integrate")
    actions.set_phase_status(
        actor="t", phase=phase, status="in_progress", start_date=datetime.date(2016, 4, 1)
    )
    actions.set_phase_status(
        actor="t", phase=phase, status="complete", end_date=datetime.date(2016, 9, 30)
    )
    phase.refresh_from_db()
    assert (phase.status, phase.start_date, phase.end_date) == (
        "complete",
        datetime.date(2016, 4, 1),
        datetime.date(2016, 9, 30),
    )
    first, second = events(study, "phase.set_status")
    assert first.before["status"] == "planned" and first.after["start_date"] == "2016-04-01"
    assert second.before["status"] == "in_progress" and second.after["end_date"] == "2016-09-30"
    with pytest.raises(StudyActionError, match="cannot end"):
        actions.set_phase_status(
            actor="t", phase=phase, status="complete", end_date=datetime.date(2016, 1, 1)
        )
    with pytest.raises(StudyActionError, match="not a phase status"):
        actions.set_phase_status(actor="t", phase=phase, status="done")
    phase.refresh_from_db()
    assert phase.end_date == datetime.date(2016, 9, 30)


def test_create_user_validates_password_and_uniqueness(db):
    user = actions.create_user(actor="t", username="maria", password="correct-horse-battery")
    assert user.check_password("correct-horse-battery")
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()
    with pytest.raises(StudyActionError, match="already exists"):
        actions.create_user(actor="t", username="maria", password="correct-horse-battery")
    with pytest.raises(StudyActionError, match="Password not accepted") as caught:
        actions.create_user(actor="t", username="nina", password="short")
    assert caught.value.field == "password"
    assert not get_user_model().objects.filter(username="nina").exists()


def test_participant_has_no_personal_fields():
    """Personal details belong in ParticipantContact only (the confidentiality design)."""
    names = {f.name for f in Participant._meta.get_fields()}
    assert not names & {"full_name", "email", "phone", "name"}


def test_erasing_contact_details_keeps_the_participant(study):
    participant = actions.register_participant(actor="t", study=study, role_category="chair")
    assert actions.erase_participant_contact(actor="t", participant=participant) is False
    actions.set_participant_contact(actor="t", participant=participant, full_name="Erin Gone")
    assert actions.erase_participant_contact(actor="t", participant=participant) is True
    assert not ParticipantContact.objects.exists()
    assert Participant.objects.filter(pk=participant.pk).exists()
    [event] = events(study, "participant_contact.erase")
    assert event.before["full_name"] == actions.WITHHELD and event.after is None
