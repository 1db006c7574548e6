"""Who gets which case: calling windows, retry delays, appointments, priorities, claims."""

import datetime as dt

import pytest

from triangulum.fieldwork import actions, scheduler
from triangulum.fieldwork.models import Appointment, Interview

LONDON = scheduler.LONDON


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON)


MONDAY_10 = at("2024-06-03T10:00")


@pytest.mark.django_db
def test_calling_windows_are_weekday_office_hours_in_london(wave):
    assert scheduler.in_calling_window(wave, MONDAY_10)
    assert not scheduler.in_calling_window(wave, at("2024-06-01T10:00"))  # Saturday
    assert not scheduler.in_calling_window(wave, at("2024-06-03T08:59"))
    assert not scheduler.in_calling_window(wave, at("2024-06-03T17:31"))
    # 08:30 UTC is 09:30 in London in summer time: inside the window.
    assert scheduler.in_calling_window(wave, dt.datetime(2024, 6, 3, 8, 30, tzinfo=dt.UTC))
    assert not scheduler.in_calling_window(wave, dt.datetime(2024, 1, 8, 8, 30, tzinfo=dt.UTC))
    assert "field" in scheduler.closed_reason(wave, at("2025-02-03T10:00")).lower()


@pytest.mark.django_db
def test_no_case_is_handed_out_outside_calling_hours(respondents, users, wave):
    assert scheduler.claim_next(wave, users["ivan"], now=at("2024-06-03T20:00")) is None
    assert Interview.objects.filter(claimed_by__isnull=False).count() == 0


@pytest.mark.django_db
def test_priority_then_retry_delay_then_appointments_first(respondents, users, wave):
    first = scheduler.claim_next(wave, users["ivan"], now=MONDAY_10)
    assert first.participant.contact.full_name == "Ben GP"  # priority 5
    actions.record_call_outcome(
        actor=users["ivan"],
        interview=first,
        outcome="no_answer",
        number_dialled="01134960002",
        now=MONDAY_10,
    )
    first.refresh_from_db()
    assert first.next_call_after == MONDAY_10 + dt.timedelta(hours=3)
    second = scheduler.claim_next(wave, users["ivan"], now=MONDAY_10)
    assert second.pk != first.pk
    appointment_time = MONDAY_10 + dt.timedelta(minutes=30)
    actions.record_call_outcome(
        actor=users["ivan"],
        interview=second,
        outcome="hard_appointment",
        appointment_at=appointment_time,
        now=MONDAY_10,
    )
    # Before the appointment falls due, the third case comes next; the first is still resting.
    third = scheduler.claim_next(wave, users["iris"], now=MONDAY_10 + dt.timedelta(minutes=5))
    assert third.pk not in (first.pk, second.pk)
    # Once due, the appointment beats everything else.
    later = MONDAY_10 + dt.timedelta(hours=4)
    actions.record_call_outcome(
        actor=users["iris"],
        interview=third,
        outcome="busy",
        now=MONDAY_10 + dt.timedelta(minutes=6),
    )
    due_now = scheduler.claim_next(wave, users["iris"], now=later)
    assert due_now.pk == second.pk
    assert Appointment.objects.get(interview=second).status == Appointment.Status.PENDING


@pytest.mark.django_db
def test_claims_are_exclusive_held_and_expire(respondents, users, wave):
    mine = scheduler.claim_next(wave, users["ivan"], now=MONDAY_10)
    again = scheduler.claim_next(wave, users["ivan"], now=MONDAY_10 + dt.timedelta(minutes=1))
    assert again.pk == mine.pk  # one case at a time
    others = {scheduler.claim_next(wave, users["iris"], now=MONDAY_10).pk}
    assert mine.pk not in others
    # After the claim lapses, someone else may take the case.
    late = MONDAY_10 + dt.timedelta(minutes=scheduler.CLAIM_MINUTES + 1)
    Interview.objects.exclude(pk=mine.pk).update(status=Interview.Status.FINALISED)
    assert scheduler.claim_next(wave, users["lena"], now=late).pk == mine.pk


@pytest.mark.django_db
def test_cases_at_maximum_attempts_are_not_handed_out(respondents, users, wave):
    now = MONDAY_10
    Interview.objects.update(attempts=wave.max_attempts)
    assert scheduler.claim_next(wave, users["ivan"], now=now) is None
    Interview.objects.filter(pk=respondents["Cat Nurse"].pk).update(attempts=wave.max_attempts - 1)
    assert scheduler.claim_next(wave, users["ivan"], now=now).pk == respondents["Cat Nurse"].pk


@pytest.mark.django_db
def test_appointments_must_fall_in_calling_hours(respondents, users, wave):
    case = scheduler.claim_next(wave, users["ivan"], now=MONDAY_10)
    with pytest.raises(actions.FieldworkError, match="calling hours"):
        actions.record_call_outcome(
            actor=users["ivan"],
            interview=case,
            outcome="soft_appointment",
            appointment_at=at("2024-06-03T22:00"),
            now=MONDAY_10,
        )
    assert case.calls.count() == 0
