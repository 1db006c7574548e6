"""Read-side questions about organisations: frames at a vintage, lineage, area links."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from django.db.models import F, Q, QuerySet

from .models import AreaLink, Organisation, OrganisationType, Succession

ORG_TYPES = tuple(OrganisationType.values)

# ?sort= keys for frames, each with the fields it orders by (name breaks ties).
SORT_FIELDS = {
    "name": ("name", "ods_code"),
    "code": ("ods_code",),
    "region": ("region_name", "name"),
    "registered_patients": ("registered_patients", "name"),
    "practices": ("practices", "name"),
}

# Columns of a frame as exported to CSV/JSON: (column, model lookup).
EXPORT_COLUMNS = [
    ("org_type", "org_type"),
    ("ods_code", "ods_code"),
    ("ons_code", "ons_code"),
    ("name", "name"),
    ("open_date", "open_date"),
    ("close_date", "close_date"),
    ("region_code", "region_code"),
    ("region_name", "region_name"),
    ("area_team_code", "area_team_code"),
    ("area_team_name", "area_team_name"),
    ("registered_patients", "registered_patients"),
    ("practices", "practices"),
    ("allocation_000s", "allocation_000s"),
    ("parent_type", "parent__org_type"),
    ("parent_code", "parent__ods_code"),
]
TOTAL_FIELDS = ("registered_patients", "practices", "allocation_000s")


def check_org_type(org_type: str) -> str:
    if org_type not in ORG_TYPES:
        raise ValueError(
            f"unknown organisation type {org_type!r}: use one of {', '.join(ORG_TYPES)}"
        )
    return org_type


def open_on(org_type: str, on_date: date) -> QuerySet[Organisation]:
    """Organisations of a type open on a day (a missing date counts as open)."""
    check_org_type(org_type)
    return Organisation.objects.filter(
        Q(open_date__isnull=True) | Q(open_date__lte=on_date),
        Q(close_date__isnull=True) | Q(close_date__gte=on_date),
        org_type=org_type,
    )


def order_for(sort: str) -> list:
    """The ORDER BY for a ``?sort=`` key; a leading '-' reverses it. Empty values sort last."""
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in SORT_FIELDS:
        raise ValueError(f"cannot sort by {sort!r}: use one of {', '.join(SORT_FIELDS)}")
    first, *rest = SORT_FIELDS[key]
    primary = F(first).desc(nulls_last=True) if descending else F(first).asc(nulls_last=True)
    return [primary, *rest]


def frame(
    org_type: str,
    *,
    vintage: date | None = None,
    region: str | None = None,
    min_patients: int | None = None,
    max_patients: int | None = None,
    search: str | None = None,
    order_by: str | None = None,
) -> QuerySet[Organisation]:
    """A sampling frame: organisations of a type, open at ``vintage`` if given, filtered.

    ``region`` matches a region's ODS code or name, ignoring case; a CCG also matches
    the NHS England region of 2020 its area now lies in. ``search`` matches part of a
    name or the start of an ODS/ONS code. ``order_by`` is a key of ``SORT_FIELDS``.
    """
    queryset = (
        open_on(org_type, vintage)
        if vintage
        else Organisation.objects.filter(org_type=check_org_type(org_type))
    )
    if region:
        region = region.strip()
        queryset = queryset.filter(
            Q(region_code__iexact=region)
            | Q(region_name__iexact=region)
            | Q(attributes__region_2020_code__iexact=region)
            | Q(attributes__region_2020_name__iexact=region)
        )
    if min_patients is not None:
        queryset = queryset.filter(registered_patients__gte=min_patients)
    if max_patients is not None:
        queryset = queryset.filter(registered_patients__lte=max_patients)
    if search:
        search = search.strip()
        queryset = queryset.filter(
            Q(name__icontains=search)
            | Q(ods_code__istartswith=search)
            | Q(ons_code__istartswith=search)
        )
    return queryset.order_by(*order_for(order_by or "name"))


def regions(org_type: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of the regions organisations carry, for filter menus, ordered by code."""
    queryset = Organisation.objects.exclude(region_code="")
    ccgs = Organisation.objects.filter(org_type=OrganisationType.CCG)
    if org_type is not None:
        queryset = queryset.filter(org_type=check_org_type(org_type))
    pairs = set(queryset.values_list("region_code", "region_name").distinct())
    if org_type in (None, OrganisationType.CCG):
        pairs |= {
            (code, name)
            for code, name in ccgs.values_list(
                "attributes__region_2020_code", "attributes__region_2020_name"
            ).distinct()
            if code
        }
    return sorted(pairs)


def export_rows(queryset: QuerySet[Organisation]) -> Iterable[dict[str, Any]]:
    """The frame's rows as plain dicts (dates as ISO text), in the queryset's order."""
    lookups = [lookup for _, lookup in EXPORT_COLUMNS]
    names = [name for name, _ in EXPORT_COLUMNS]
    for values in queryset.values_list(*lookups).iterator(chunk_size=2000):
        row = dict(zip(names, values, strict=True))
        for key in ("open_date", "close_date"):
            if row[key] is not None:
                row[key] = row[key].isoformat()
        yield row


def write_csv(queryset: QuerySet[Organisation], stream: IO[str]) -> None:
    writer = csv.DictWriter(
        stream, fieldnames=[name for name, _ in EXPORT_COLUMNS], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(export_rows(queryset))


@dataclass(frozen=True)
class LineageStep:
    predecessor: Organisation
    successor: Organisation
    kind: str
    kind_label: str
    effective_date: date
    share: float | None
    # Which side of the organisation asked about this step lies: "before" or "after".
    side: str

    def involves(self, org: Organisation) -> bool:
        return org.pk in (self.predecessor.pk, self.successor.pk)


def lineage(org: Organisation) -> list[LineageStep]:
    """Every succession before and after ``org``, followed transitively, ordered by date.

    Before: what merged into it, and what merged into those. After: what it merged into,
    was replaced by or continued as, and so on. Siblings (other predecessors of its
    successor) are not followed.
    """
    steps: dict[int, LineageStep] = {}
    related = Succession.objects.select_related("predecessor", "successor")
    for side, to_field, from_field in (
        ("before", "successor", "predecessor"),
        ("after", "predecessor", "successor"),
    ):
        frontier, seen = {org.pk}, {org.pk}
        while frontier:
            found = related.filter(**{f"{to_field}__in": frontier})
            frontier = set()
            for succession in found:
                steps.setdefault(
                    succession.pk,
                    LineageStep(
                        predecessor=succession.predecessor,
                        successor=succession.successor,
                        kind=succession.kind,
                        kind_label=succession.get_kind_display(),
                        effective_date=succession.effective_date,
                        share=succession.share,
                        side=side,
                    ),
                )
                next_pk = getattr(succession, f"{from_field}_id")
                if next_pk not in seen:
                    seen.add(next_pk)
                    frontier.add(next_pk)
    return sorted(
        steps.values(),
        key=lambda s: (
            s.effective_date,
            s.side != "before",
            s.predecessor.ods_code,
            s.kind,
            s.successor.org_type,
        ),
    )


def hwbs_for(org: Organisation) -> QuerySet[AreaLink]:
    """A commissioner's Health and Wellbeing Board areas, with the shares of each side.

    A sub-ICB location has the links of the CCG it continued, as it covers the same area.
    """
    commissioner_ids = [org.pk]
    if org.org_type == OrganisationType.SUB_ICB:
        commissioner_ids += list(
            Succession.objects.filter(successor=org, kind=Succession.Kind.CONTINUED_AS).values_list(
                "predecessor_id", flat=True
            )
        )
    return (
        AreaLink.objects.filter(commissioner_id__in=commissioner_ids)
        .select_related("hwb")
        .order_by("hwb__name")
    )


def commissioners_for(hwb: Organisation) -> QuerySet[AreaLink]:
    """The commissioners whose areas overlap a Health and Wellbeing Board's area."""
    return (
        AreaLink.objects.filter(hwb=hwb)
        .select_related("commissioner")
        .order_by("commissioner__name", "commissioner__ods_code")
    )


def organisation_count() -> int:
    return Organisation.objects.count()
