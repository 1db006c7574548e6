"""Loading the NHS organisations into the database: idempotent, atomic, audited."""

import shutil

import pytest
from django.core.management import CommandError, call_command

from triangulum.audit.models import AuditEvent
from triangulum.organisations import actions, nhs_data
from triangulum.organisations.actions import load_nhs_organisations
from triangulum.organisations.models import AreaLink, Organisation, Succession

pytestmark = pytest.mark.django_db


def table_state():
    return (
        sorted(
            Organisation.objects.values_list(
                "pk", "org_type", "ods_code", "name", "parent_id", "close_date"
            )
        ),
        sorted(
            Succession.objects.values_list(
                "predecessor_id", "successor_id", "kind", "effective_date"
            )
        ),
        sorted(
            AreaLink.objects.values_list(
                "commissioner_id", "hwb_id", "share_of_commissioner", "share_of_hwb"
            )
        ),
    )


def test_loading_twice_gives_the_same_rows_and_one_audit_event_each():
    first = load_nhs_organisations(actor="tester")
    assert first["organisations"] == {"created": 8601, "updated": 0}
    assert first["successions"]["created"] == 354
    assert first["area_links"]["created"] == 244
    before = table_state()

    second = load_nhs_organisations(actor="tester")
    assert second["organisations"] == {"created": 0, "updated": 0}
    assert second["successions"]["created"] == second["successions"]["updated"] == 0
    assert table_state() == before

    events = list(AuditEvent.objects.filter(action="organisations.load_nhs").order_by("pk"))
    assert len(events) == 2
    assert events[0].actor_label == "tester"
    assert events[0].after["organisations_by_type"] == {
        "ccg": 248, "icb": 42, "sub_icb": 106, "hwb": 152, "practice": 8053,
    }  # fmt: skip


def test_reloading_repairs_changed_rows_in_place():
    load_nhs_organisations(actor="tester")
    darlington = Organisation.objects.get(org_type="ccg", ods_code="00C")
    Organisation.objects.filter(pk=darlington.pk).update(
        name="Renamed", parent=None, registered_patients=1
    )
    practice = Organisation.objects.get(org_type="practice", ods_code="F82018")
    Organisation.objects.filter(pk=practice.pk).update(parent=darlington)
    Succession.objects.filter(predecessor=darlington).update(share=0.5)

    summary = load_nhs_organisations(actor="tester")

    assert summary["organisations"] == {"created": 0, "updated": 2}
    assert summary["successions"]["updated"] == 1
    darlington.refresh_from_db()
    practice.refresh_from_db()
    assert (darlington.name, darlington.registered_patients) == ("NHS Darlington CCG", 105876)
    assert practice.parent.ods_code == "07L"
    assert Succession.objects.get(predecessor=darlington).share == 1.0


def test_parents_are_linked():
    load_nhs_organisations(actor="tester")
    location = Organisation.objects.get(org_type="sub_icb", ods_code="16C")
    assert (location.parent.org_type, location.parent.ods_code) == ("icb", "QHM")
    assert Organisation.objects.filter(org_type="practice", parent__isnull=True).count() == 0
    assert Organisation.objects.get(org_type="ccg", ods_code="00C").children.count() == 11


def test_bad_files_leave_the_database_untouched(tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(nhs_data.DATA_DIR, data_dir)
    icbs = data_dir / "icb_2022.csv"
    icbs.write_text(icbs.read_text().replace(",Y62,9", ",Y99,9", 1))
    with pytest.raises(
        nhs_data.NhsDataError, match=r"icb_2022.csv, row 2, column NHSER_ODS: 'Y99'"
    ):
        load_nhs_organisations(actor="tester", data_dir=data_dir)
    assert Organisation.objects.count() == 0
    assert not AuditEvent.objects.filter(action="organisations.load_nhs").exists()


def test_a_failure_while_writing_rolls_everything_back(monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(actions, "record", fail)
    with pytest.raises(RuntimeError):
        load_nhs_organisations(actor="tester")
    assert (
        Organisation.objects.count() == Succession.objects.count() == AreaLink.objects.count() == 0
    )


def test_frame_command_on_an_empty_database_says_how_to_load():
    with pytest.raises(
        CommandError,
        match=r"No organisations in the database .*triangulum init --dir .*triangulum demo --dir",
    ):
        call_command("frame", "list", "--type", "ccg", "--count")
