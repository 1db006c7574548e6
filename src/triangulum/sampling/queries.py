"""Read-side shaping: frames as plain units, and samples as rows for pages and CSV files."""

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from triangulum.organisations.models import Organisation

from .designs import Attribute, DesignError, Unit
from .models import Sample, SampleUnit


@dataclass(frozen=True)
class FrameAttribute:
    attribute: Attribute
    value_of: Callable[[Organisation], Any]


def _allocation_per_head(org: Organisation) -> float | None:
    if org.allocation_000s is None or not org.registered_patients:
        return None
    return org.allocation_000s * 1000 / org.registered_patients


FRAME_ATTRIBUTES: dict[str, FrameAttribute] = {
    "region": FrameAttribute(
        Attribute("region", "categorical"), lambda org: org.region_name or org.region_code
    ),
    "area_team": FrameAttribute(
        Attribute("area_team", "categorical", label="area team"),
        lambda org: org.area_team_name or org.area_team_code,
    ),
    "registered_patients": FrameAttribute(
        Attribute("registered_patients", "numeric", label="registered patients"),
        lambda org: org.registered_patients,
    ),
    "practices": FrameAttribute(
        Attribute("practices", "numeric", label="GP practices"), lambda org: org.practices
    ),
    "allocation_000s": FrameAttribute(
        Attribute("allocation_000s", "numeric", label="allocation", number_format="£{:,.0f}k"),
        lambda org: org.allocation_000s,
    ),
    "allocation_per_head": FrameAttribute(
        Attribute(
            "allocation_per_head", "numeric", label="allocation per head", number_format="£{:,.0f}"
        ),
        _allocation_per_head,
    ),
}
# Attributes that make sense as strata (categories).
STRATUM_ATTRIBUTES = tuple(
    name for name, spec in FRAME_ATTRIBUTES.items() if spec.attribute.kind == "categorical"
)


def resolve_attributes(
    names: Sequence[str], organisations: Sequence[Organisation]
) -> list[FrameAttribute]:
    """The named attributes: built-in ones, or keys of the organisations' ``attributes``.

    A key found only in ``attributes`` is numeric if every value it has is a number.
    """
    resolved = []
    for raw in names:
        name = raw.strip()
        if name in FRAME_ATTRIBUTES:
            resolved.append(FRAME_ATTRIBUTES[name])
            continue
        values = [
            org.attributes.get(name) for org in organisations if name in (org.attributes or {})
        ]
        if not values:
            raise DesignError(
                f"Unknown attribute {name!r}: use one of {', '.join(FRAME_ATTRIBUTES)} or a "
                "key of the organisations' recorded attributes."
            )
        numeric = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values if v is not None
        )
        kind = "numeric" if numeric else "categorical"
        resolved.append(
            FrameAttribute(
                Attribute(name, kind),
                lambda org, key=name: (org.attributes or {}).get(key),
            )
        )
    return resolved


def frame_units(
    organisations: Iterable[Organisation], attributes: Sequence[FrameAttribute]
) -> list[Unit]:
    """Organisations as plain units: id = ODS code, attributes as the design needs them."""
    return [
        Unit(
            id=org.ods_code,
            attributes={spec.attribute.name: spec.value_of(org) for spec in attributes},
        )
        for org in organisations
    ]


def samples_for_study(study) -> QuerySet[Sample]:
    return (
        Sample.objects.filter(study=study)
        .select_related("created_by")
        .annotate(unit_count=Count("units"))
        .order_by("created_at", "id")
    )


def sample_units(sample: Sample) -> QuerySet[SampleUnit]:
    return sample.units.select_related("organisation").order_by("selection_order")


CSV_COLUMNS = [
    "selection_order",
    "ods_code",
    "name",
    "region",
    "stratum",
    "inclusion_probability",
    "base_weight",
    "reason",
    "sample",
    "method",
    "seed",
    "frame_vintage",
    "inputs_hash",
    "simulated",
]


def sample_rows(sample: Sample) -> list[dict[str, Any]]:
    rows = []
    for unit in sample_units(sample):
        org = unit.organisation
        rows.append(
            {
                "selection_order": unit.selection_order,
                "ods_code": org.ods_code,
                "name": org.name,
                "region": org.region_name or org.region_code,
                "stratum": unit.stratum,
                "inclusion_probability": (
                    "" if unit.inclusion_probability is None else repr(unit.inclusion_probability)
                ),
                "base_weight": "" if unit.base_weight is None else repr(unit.base_weight),
                "reason": unit.reason,
                "sample": sample.name,
                "method": sample.method,
                "seed": "" if sample.seed is None else sample.seed,
                "frame_vintage": sample.vintage.isoformat() if sample.vintage else "",
                "inputs_hash": sample.inputs_hash,
                "simulated": "yes" if sample.is_simulated else "no",
            }
        )
    return rows


def sample_csv(sample: Sample) -> str:
    """The sample's units as CSV text, one row per unit with the sample's provenance."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(sample_rows(sample))
    return buffer.getvalue()


def samples_by_phase(study) -> dict[int, list[tuple[str, str]]]:
    """The study's samples as links under the phase each serves (for the study home)."""
    from django.urls import reverse

    contents: dict[int, list[tuple[str, str]]] = {}
    for sample in study.samples.filter(phase__isnull=False).annotate(n=Count("units")):
        url = reverse("sampling:detail", args=[study.slug, sample.pk])
        contents.setdefault(sample.phase_id, []).append(
            (f"{sample.name} ({sample.n} of {sample.frame_size})", url)
        )
    return contents
