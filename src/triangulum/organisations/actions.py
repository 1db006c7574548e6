"""Changes to organisations. Each action runs in one transaction and writes its audit event."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db import transaction

from triangulum.audit.actions import record

from . import nhs_data
from .models import AreaLink, Organisation, Succession

# The Organisation fields the NHS files provide (everything but the parent, which can
# only be set once the parent has an id).
_ORG_FIELDS = [
    "ons_code",
    "name",
    "open_date",
    "close_date",
    "region_code",
    "region_name",
    "area_team_code",
    "area_team_name",
    "registered_patients",
    "practices",
    "allocation_000s",
    "attributes",
]
_BATCH = 500


def _org_values(org: nhs_data.OrganisationRecord) -> dict[str, Any]:
    return {name: getattr(org, name) for name in _ORG_FIELDS}


def _key_to_id() -> dict[tuple[str, str], int]:
    return {
        (org_type, code): pk
        for pk, org_type, code in Organisation.objects.values_list("pk", "org_type", "ods_code")
    }


def _upsert_organisations(records: list[nhs_data.OrganisationRecord]) -> dict[str, int]:
    """Create missing organisations and update changed ones, parents before children."""
    counts = {"created": 0, "updated": 0}
    existing = {
        (row["org_type"], row["ods_code"]): row
        for row in Organisation.objects.values(
            "pk", "org_type", "ods_code", "parent_id", *_ORG_FIELDS
        )
    }
    # Parents come from the same files, so two passes suffice: organisations without a
    # parent first, then those with one (whose parent now has an id).
    for with_parent in (False, True):
        ids = _key_to_id() if with_parent else {}
        to_create, to_update = [], []
        for org in records:
            if (org.parent is not None) != with_parent:
                continue
            values = _org_values(org)
            values["parent_id"] = ids[org.parent] if org.parent else None
            current = existing.get(org.key)
            if current is None:
                to_create.append(Organisation(org_type=org.org_type, ods_code=org.code, **values))
            elif any(current[name] != value for name, value in values.items()):
                to_update.append(
                    Organisation(
                        pk=current["pk"], org_type=org.org_type, ods_code=org.code, **values
                    )
                )
        Organisation.objects.bulk_create(to_create, batch_size=_BATCH)
        if to_update:
            Organisation.objects.bulk_update(
                to_update, [*_ORG_FIELDS, "parent_id"], batch_size=_BATCH
            )
        counts["created"] += len(to_create)
        counts["updated"] += len(to_update)
    return counts


def _upsert_pairs(
    model,
    records: Iterable,
    ids: dict[tuple[str, str], int],
    ends: tuple[str, str],
    fields: list[str],
    values_of,
) -> dict[str, int]:
    """Create or update rows identified by a pair of organisations (``ends``)."""
    first, second = ends
    existing = {
        (row[f"{first}_id"], row[f"{second}_id"]): row
        for row in model.objects.values("pk", f"{first}_id", f"{second}_id", *fields)
    }
    to_create, to_update = [], []
    for item in records:
        pair = (ids[getattr(item, first)], ids[getattr(item, second)])
        values = values_of(item)
        current = existing.get(pair)
        ends_values = {f"{first}_id": pair[0], f"{second}_id": pair[1]}
        if current is None:
            to_create.append(model(**ends_values, **values))
        elif any(current[name] != value for name, value in values.items()):
            to_update.append(model(pk=current["pk"], **ends_values, **values))
    model.objects.bulk_create(to_create, batch_size=_BATCH)
    if to_update:
        model.objects.bulk_update(to_update, fields, batch_size=_BATCH)
    return {"created": len(to_create), "updated": len(to_update)}


def load_nhs_organisations(*, actor, data_dir: Path | None = None) -> dict[str, Any]:
    """Load (or refresh) every NHS organisation, succession and area link shipped with Triangulum.

    Running it again changes nothing unless the packaged files changed; rows are matched
    on (type, ODS code) and updated in place, so foreign keys from studies and samples
    stay valid. Nothing is deleted. Returns the counts it also records in the audit trail.
    ``data_dir`` replaces the packaged files (for checking a corrected release).
    """
    data = nhs_data.load_nhs_data(
        data_dir or nhs_data.DATA_DIR
    )  # validates everything before anything is written
    with transaction.atomic():
        organisation_counts = _upsert_organisations(data.organisations)
        ids = _key_to_id()
        succession_counts = _upsert_pairs(
            Succession,
            data.successions,
            ids,
            ("predecessor", "successor"),
            ["kind", "effective_date", "share"],
            lambda s: {"kind": s.kind, "effective_date": s.effective_date, "share": s.share},
        )
        link_counts = _upsert_pairs(
            AreaLink,
            data.area_links,
            ids,
            ("commissioner", "hwb"),
            ["share_of_commissioner", "share_of_hwb"],
            lambda link: {
                "share_of_commissioner": link.share_of_commissioner,
                "share_of_hwb": link.share_of_hwb,
            },
        )
        summary = {
            "organisations_by_type": {
                org_type: len(data.of_type(org_type)) for org_type in nhs_data.ORG_TYPES
            },
            "organisations": organisation_counts,
            "successions": {"total": len(data.successions), **succession_counts},
            "area_links": {"total": len(data.area_links), **link_counts},
        }
        record(
            actor=actor,
            action="organisations.load_nhs",
            object_type="organisations.organisation",
            object_label="NHS organisations 2013–2022 (packaged reference data)",
            after=summary,
        )
    return summary
