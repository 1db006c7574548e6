import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from triangulum.audit.actions import record, snapshot
from triangulum.audit.models import AuditEvent
from triangulum.audit.queries import events_for_study

pytestmark = pytest.mark.django_db


def test_record_keeps_actor_before_and_after():
    user = get_user_model().objects.create_user("ana", password="x")
    before = snapshot(user, ["username", "is_active"])
    user.is_active = False
    event = record(
        actor=user,
        action="user.deactivate",
        obj=user,
        before=before,
        after=snapshot(user, ["username", "is_active"]),
        study_id=7,
    )
    event.refresh_from_db()
    assert event.actor_label == "ana"
    assert event.changes == [("is_active", True, False)]
    assert list(events_for_study(7)) == [event]
    assert list(events_for_study(8)) == []


def test_system_actor_is_named():
    event = record(actor="triangulum demo", action="demo.build", object_type="study")
    assert event.actor is None and event.actor_label == "triangulum demo"


def test_events_cannot_be_changed_or_deleted_through_the_orm():
    event = record(actor=None, action="x", object_type="y")
    event.action = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_database_refuses_raw_updates_and_deletes():
    event = record(actor=None, action="x", object_type="y")
    table = AuditEvent._meta.db_table
    statements = [f"UPDATE {table} SET action = 'tampered'"]
    if connection.vendor == "postgresql":
        # SQLite keeps deletes possible for Django's test flush; see migration 0002.
        statements.append(f"DELETE FROM {table}")
    for sql in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    event.refresh_from_db()
    assert event.action == "x"
