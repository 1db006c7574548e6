"""Writing audit events. Every action in every app calls ``record`` inside its transaction."""

import datetime
import decimal
import uuid
from typing import Any

from django.db import models

from .models import AuditEvent

SYSTEM = "system"


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The JSON-able values of a model instance's concrete fields (foreign keys as ids)."""
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        value = getattr(instance, field.attname)
        values[field.name] = _jsonable(value)
    return values


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_label: str | None = None,
    study_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event. ``actor`` is a user, or a string naming a system actor."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else str(obj.pk)
        object_label = object_label or str(obj)[:300]
    user = actor if (actor is not None and not isinstance(actor, str)) else None
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    label = (
        user.get_username()
        if user is not None
        else (actor if isinstance(actor, str) and actor else SYSTEM)
    )
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label[:150],
        action=action,
        study_id=study_id,
        object_type=object_type or "",
        object_id=object_id or "",
        object_label=(object_label or "")[:300],
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
