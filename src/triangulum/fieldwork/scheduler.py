"""Which telephone interview an interviewer gets next, and the atomic claim on it.

Order: appointments that have fallen due first, then by priority (highest first), then
the case waiting longest. Only inside the wave's calling windows (Europe/London) and
field dates; never before a case's retry delay has passed; never past the wave's maximum
attempts. A claim lasts ``CLAIM_MINUTES``, so a closed browser does not hold a case for
ever. See docs/adr/0012-telephone-scheduler-and-claims.md.

The claim is safe under concurrency on both databases: on PostgreSQL candidate rows are
locked with ``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite the settings open every
transaction with ``BEGIN IMMEDIATE`` (one writer at a time); and on both the claim itself
is a conditional UPDATE whose row count is checked, so a case another worker has just
taken is never handed out twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import Appointment, Interview, Mode

LONDON = ZoneInfo("Europe/London")
CLAIM_MINUTES = 30
DEFAULT_WINDOWS = {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:30"}
OPEN_STATUSES = (
    Interview.Status.NOT_STARTED,
    Interview.Status.IN_PROGRESS,
    Interview.Status.APPOINTMENT,
)
# How many candidates one claim tries before giving up (others may be taking them).
CANDIDATES_PER_CLAIM = 10


@dataclass(frozen=True)
class Window:
    weekdays: tuple[int, ...]
    start: dt.time
    end: dt.time

    def describe(self) -> str:
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        days = ", ".join(names[d] for d in self.weekdays)
        return f"{days} {self.start:%H:%M}–{self.end:%H:%M} (UK time)"


def window_of(wave) -> Window:
    raw = {**DEFAULT_WINDOWS, **(wave.calling_windows or {})}
    return Window(
        tuple(sorted(int(d) for d in raw["weekdays"])),
        dt.time.fromisoformat(raw["start"]),
        dt.time.fromisoformat(raw["end"]),
    )


def in_calling_window(wave, now: dt.datetime) -> bool:
    local = now.astimezone(LONDON)
    window = window_of(wave)
    if not wave.field_start <= local.date() <= wave.field_end:
        return False
    return local.weekday() in window.weekdays and window.start <= local.time() <= window.end


def closed_reason(wave, now: dt.datetime) -> str | None:
    """Why no call may be made now, or None when calls may be made."""
    local = now.astimezone(LONDON)
    if local.date() < wave.field_start:
        return f"Fieldwork for {wave} starts on {wave.field_start:%-d %B %Y}."
    if local.date() > wave.field_end:
        return f"Fieldwork for {wave} ended on {wave.field_end:%-d %B %Y}."
    if not in_calling_window(wave, now):
        return f"Outside calling hours: calls are made {window_of(wave).describe()}."
    return None


def claim_cutoff(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(minutes=CLAIM_MINUTES)


def unclaimed(now: dt.datetime) -> Q:
    return Q(claimed_by__isnull=True) | Q(claimed_at__lt=claim_cutoff(now))


def due(wave, now: dt.datetime) -> QuerySet[Interview]:
    """Telephone cases that may be called now, best first (ignores calling windows)."""
    appointment_due = Appointment.objects.filter(
        interview=OuterRef("pk"), status=Appointment.Status.PENDING, due_at__lte=now
    )
    return (
        Interview.objects.filter(
            wave=wave,
            mode=Mode.TELEPHONE,
            status__in=OPEN_STATUSES,
            attempts__lt=wave.max_attempts,
        )
        .filter(Q(next_call_after__isnull=True) | Q(next_call_after__lte=now))
        .filter(unclaimed(now))
        .annotate(appointment_due=Exists(appointment_due))
        .order_by("-appointment_due", "-priority", "next_call_after", "id")
    )


def held_by(wave, user, now: dt.datetime) -> Interview | None:
    """The case this interviewer is working now, if any."""
    held = (
        Interview.objects.filter(wave=wave, claimed_by=user, claimed_at__gte=claim_cutoff(now))
        .exclude(status__in=(Interview.Status.COMPLETE, Interview.Status.FINALISED))
        .select_related("participant")
        # By id, not the model's (wave, id): the same order within one wave, without joins.
        .order_by("pk")
        .first()
    )
    if held is not None:
        held.wave = wave
    return held


def claim_next(wave, user, *, now: dt.datetime | None = None) -> Interview | None:
    """Hand this interviewer their next case, or None when none is due.

    An interviewer who already holds a live claim gets that case back, so a case is
    worked by one person at a time and each person works one case at a time.
    """
    return claim(wave, user, now=now)[0]


def claim(wave, user, *, now: dt.datetime | None = None) -> tuple[Interview | None, bool]:
    """``claim_next``, also saying whether the case was newly claimed (not already held)."""
    now = now or timezone.now()
    if closed_reason(wave, now):
        return None, False
    # No savepoint when the caller's transaction already holds this (claim_next_interview).
    with transaction.atomic(savepoint=False):
        held = held_by(wave, user, now)
        if held is not None:
            return held, False
        candidates = due(wave, now)
        limit = CANDIDATES_PER_CLAIM
        if connection.vendor == "postgresql":
            # Lock exactly one row: locking several would hide them all from the other
            # workers (SKIP LOCKED) while this one can take only one.
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
            limit = 1
        for pk in list(candidates.values_list("pk", flat=True)[:limit]):
            taken = (
                Interview.objects.filter(pk=pk)
                .filter(unclaimed(now))
                .update(claimed_by=user, claimed_at=now)
            )
            if taken == 1:
                interview = Interview.objects.select_related("participant").get(pk=pk)
                interview.wave = wave
                return interview, True
    return None, False


def release(interview: Interview) -> None:
    Interview.objects.filter(pk=interview.pk).update(claimed_by=None, claimed_at=None)
    interview.claimed_by = None
    interview.claimed_at = None


def holds(interview: Interview, user, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        interview.claimed_by_id == user.pk
        and interview.claimed_at is not None
        and interview.claimed_at >= claim_cutoff(now)
    )
