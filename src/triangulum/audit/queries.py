"""Reading the audit trail."""

import datetime

from django.db.models import QuerySet

from .models import AuditEvent


def events_for_study(
    study_id: int,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(study_id=study_id)
    if actor:
        events = events.filter(actor_label=actor)
    if action:
        events = events.filter(action=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    return events
