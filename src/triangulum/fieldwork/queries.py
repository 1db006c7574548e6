"""Read-side shaping for fieldwork pages: progress, appointments, productivity, rates."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from triangulum.studies.models import RoleCategory

from . import aapor, outcomes, runner, scheduler
from .models import Appointment, CallAttempt, Interview, Wave
from .xlsform.model import QUESTION

STATUS_LABELS = dict(Interview.Status.choices)


def waves_for(study):
    return (
        Wave.objects.filter(study=study)
        .select_related("instrument_version__instrument")
        .annotate(
            interview_count=Count("interviews"),
            complete_count=Count(
                "interviews", filter=Q(interviews__status=Interview.Status.COMPLETE)
            ),
        )
    )


def question_count(wave: Wave) -> int:
    version = wave.instrument_version
    instrument = runner.instrument_from_bytes(version.file_name, bytes(version.file_bytes))
    return sum(1 for item in instrument.walk() if item.kind == QUESTION)


def live_dispositions(wave: Wave) -> list[tuple[int, str]]:
    """(interview id, code) for every case, as if fieldwork closed now.

    Final cases carry their code. Open cases take the code their last call's outcome
    ends with (``outcomes.code_at_close``); for a case with answers the share answered
    is taken over all the form's questions here (closing the wave uses the questions
    that applied to that respondent instead).
    """
    last_outcome = CallAttempt.objects.filter(interview=OuterRef("pk")).order_by(
        "-started_at", "-id"
    )
    rows = (
        Interview.objects.filter(wave=wave)
        .annotate(
            last_outcome=Subquery(last_outcome.values("outcome")[:1]), answered=Count("answers")
        )
        .values_list("pk", "status", "disposition", "last_outcome", "answered")
    )
    total = question_count(wave)
    out = []
    for pk, status, disposition, last, answered in rows:
        final = status in (Interview.Status.COMPLETE, Interview.Status.FINALISED)
        code = outcomes.code_at_close(
            last_outcome=last,
            answered=answered,
            applicable=total,
            final=final,
            current_code=disposition,
        )
        out.append((pk, code))
    return out


def rates(wave: Wave) -> dict:
    codes = [code for _, code in live_dispositions(wave)]
    result = aapor.compute_rates(codes) if codes else None
    return {
        "result": result,
        "codes": Counter(codes),
        "rows": [(name, result.rates[name] if result else None) for name in aapor.RATE_NAMES],
        "e_text": _e_text(result),
    }


def _e_text(result) -> str:
    if result is None:
        return "no cases yet"
    if result.e is None:
        return "e is undefined: no case has known eligibility yet"
    return (
        f"e = {result.e:.3f}, estimated by proportional allocation: the eligible share "
        "(I+P+R+NC+O) among cases whose eligibility is known (those plus NE)"
    )


def code_label(code: str) -> str:
    for outcome in outcomes.OUTCOMES.values():
        if outcome.code == code or outcome.code_at_close == code:
            return f"{code} {outcome.label}"
    if code == outcomes.NOT_ATTEMPTED:
        return f"{code} Not yet called"
    if code == "2.12":
        return "2.12 Break-off"
    return code


def progress(wave: Wave) -> dict:
    """Cases by region, by role and by outcome, each split by status."""
    codes = dict(live_dispositions(wave))
    cases = Interview.objects.filter(wave=wave).values_list(
        "pk", "status", "participant__organisation__region_name", "participant__role_category"
    )
    by_region: dict[str, Counter] = defaultdict(Counter)
    by_role: dict[str, Counter] = defaultdict(Counter)
    by_code: Counter = Counter()
    roles = dict(RoleCategory.choices)
    for pk, status, region, role in cases:
        by_region[region or "(no region)"][status] += 1
        by_role[roles.get(role, role)][status] += 1
        by_code[codes.get(pk, "")] += 1
    statuses = list(Interview.Status.values)

    def table(groups):
        return [
            {"name": name, "cells": [counts[s] for s in statuses], "total": sum(counts.values())}
            for name, counts in sorted(groups.items())
        ]

    return {
        "statuses": [STATUS_LABELS[s] for s in statuses],
        "by_region": table(by_region),
        "by_role": table(by_role),
        "by_code": [(code_label(c), n, aapor.bucket_for(c)) for c, n in sorted(by_code.items())],
    }


def todays_appointments(wave: Wave, now: dt.datetime | None = None):
    now = now or timezone.now()
    local = timezone.localtime(now, scheduler.LONDON)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1)
    return (
        Appointment.objects.filter(
            interview__wave=wave,
            status=Appointment.Status.PENDING,
            due_at__gte=start,
            due_at__lt=end,
        )
        .select_related("interview__participant__organisation", "created_by")
        .order_by("due_at")
    )


def at_max_attempts(wave: Wave):
    return (
        Interview.objects.filter(
            wave=wave, status__in=scheduler.OPEN_STATUSES, attempts__gte=wave.max_attempts
        )
        .select_related("participant__organisation")
        .order_by("participant__pseudonym")
    )


def productivity(wave: Wave, now: dt.datetime | None = None) -> list[dict]:
    now = now or timezone.now()
    local = timezone.localtime(now, scheduler.LONDON)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    calls = (
        CallAttempt.objects.filter(interview__wave=wave, interviewer__isnull=False)
        .values("interviewer__username")
        .annotate(
            calls=Count("id"),
            calls_today=Count("id", filter=Q(started_at__gte=today)),
            completes=Count("id", filter=Q(aapor_code="1.1")),
            refusals=Count("id", filter=Q(aapor_code__startswith="2.1")),
            appointments=Count("id", filter=Q(outcome__in=outcomes.APPOINTMENT_OUTCOMES)),
        )
        .order_by("interviewer__username")
    )
    contacts = {o.key for o in outcomes.OUTCOMES.values() if o.contact}
    contact_counts = dict(
        CallAttempt.objects.filter(interview__wave=wave, outcome__in=contacts)
        .values_list("interviewer__username")
        .annotate(n=Count("id"))
        .values_list("interviewer__username", "n")
    )
    durations = defaultdict(list)
    for name, started, ended in CallAttempt.objects.filter(
        interview__wave=wave, interviewer__isnull=False, ended_at__isnull=False
    ).values_list("interviewer__username", "started_at", "ended_at"):
        durations[name].append((ended - started).total_seconds() / 60)
    out = []
    for row in calls:
        name = row["interviewer__username"]
        spent = durations.get(name, [])
        out.append(
            {
                **row,
                "name": name,
                "contacts": contact_counts.get(name, 0),
                "minutes_per_call": sum(spent) / len(spent) if spent else None,
            }
        )
    return out


def case_history(interview: Interview):
    return interview.calls.select_related("interviewer").order_by("started_at", "id")


def claimed_case(wave: Wave, user):
    return scheduler.held_by(wave, user, timezone.now())


def due_count(wave: Wave, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return scheduler.due(wave, now).count()


def wave_summary(wave: Wave) -> dict:
    totals = Interview.objects.filter(wave=wave).aggregate(
        total=Count("id"),
        complete=Count("id", filter=Q(status=Interview.Status.COMPLETE)),
        finalised=Count("id", filter=Q(status=Interview.Status.FINALISED)),
        calls=Count("calls"),
    )
    totals["attempts_left"] = Interview.objects.filter(
        wave=wave, status__in=scheduler.OPEN_STATUSES, attempts__lt=F("wave__max_attempts")
    ).count()
    return totals
