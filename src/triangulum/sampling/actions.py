"""Drawing and deleting samples. Each action validates everything, then writes in one
transaction with its audit event; a refused draw stores nothing."""

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from triangulum.audit.actions import record, snapshot
from triangulum.core.hashing import sha256_json
from triangulum.organisations.models import Organisation, OrganisationType
from triangulum.organisations.queries import frame as organisation_frame

from . import designs
from .designs import DesignError, Draw
from .models import Sample, SampleUnit
from .queries import STRATUM_ATTRIBUTES, frame_units, resolve_attributes

DEFAULT_PURPOSIVE_ATTRIBUTES = ("region", "registered_patients", "allocation_per_head")


def _user_or_none(actor):
    if actor is None or isinstance(actor, str) or not getattr(actor, "is_authenticated", False):
        return None
    return actor


def _frame(study, org_type: str, vintage, region: str | None) -> tuple[list[Organisation], dict]:
    if org_type not in OrganisationType.values:
        raise DesignError(
            f"Unknown organisation type {org_type!r}: use one of {', '.join(OrganisationType.values)}."
        )
    if vintage is not None and not isinstance(vintage, datetime.date):
        raise DesignError(f"The frame's vintage must be a date, not {vintage!r}.")
    organisations = list(organisation_frame(org_type, vintage=vintage, region=region or None))
    where = f"{org_type} organisations" + (f" open on {vintage.isoformat()}" if vintage else "")
    if region:
        where += f" in region {region!r}"
    if not organisations:
        raise DesignError(
            f"The frame is empty: there are no {where}. Load the organisations first "
            "(triangulum organisations load), or check the type, date and region."
        )
    description = {
        "org_type": org_type,
        "vintage": vintage.isoformat() if vintage else None,
        "region": region or None,
    }
    return organisations, description


def _check_name(study, name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DesignError("Give the sample a name.")
    if len(name) > Sample._meta.get_field("name").max_length:
        raise DesignError("The sample's name is longer than 200 characters.")
    if Sample.objects.filter(study=study, name=name).exists():
        raise DesignError(f"This study already has a sample named {name!r}: choose another name.")
    return name


def _store(
    *,
    study,
    name: str,
    method: str,
    org_type: str,
    vintage,
    organisations: list[Organisation],
    parameters: dict[str, Any],
    seed: int | None,
    draw: Draw,
    actor,
    is_simulated: bool | None,
    results: dict[str, Any] | None = None,
    phase=None,
) -> Sample:
    by_code = {org.ods_code: org for org in organisations}
    inputs_hash = sha256_json(
        {
            "frame": sorted(by_code),
            "method": method,
            "parameters": parameters,
            "seed": seed,
        }
    )
    with transaction.atomic():
        if phase is not None and phase.study_id != study.id:
            raise DesignError(f"Phase {phase.name!r} belongs to another study.")
        sample = Sample.objects.create(
            study=study,
            phase=phase,
            name=name,
            method=method,
            org_type=org_type,
            vintage=vintage,
            # What the draw produced (such as the allocation) is kept beside its inputs,
            # outside the hash.
            parameters={**parameters, **(results or {})},
            seed=seed,
            frame_size=draw.frame_size,
            created_by=_user_or_none(actor),
            inputs_hash=inputs_hash,
            is_simulated=study.is_simulated if is_simulated is None else is_simulated,
        )
        SampleUnit.objects.bulk_create(
            SampleUnit(
                sample=sample,
                organisation=by_code[selected.unit_id],
                stratum=selected.stratum,
                inclusion_probability=selected.inclusion_probability,
                base_weight=selected.base_weight,
                selection_order=selected.selection_order,
                reason=selected.reason,
            )
            for selected in draw.units
        )
        record(
            actor=actor,
            action=f"sampling.draw_{method}",
            obj=sample,
            study_id=study.id,
            after={**snapshot(sample), "units": draw.unit_ids},
        )
    return sample


def draw_census(
    *,
    study,
    org_type: str,
    vintage: datetime.date | None = None,
    region: str | None = None,
    name: str | None = None,
    actor,
    is_simulated: bool | None = None,
    phase=None,
) -> Sample:
    """Every organisation of the frame, each with probability 1 and weight 1."""
    organisations, frame = _frame(study, org_type, vintage, region)
    name = _check_name(
        study, name or f"Census of {org_type} open on {frame['vintage'] or 'any date'}"
    )
    draw = designs.census(frame_units(organisations, []))
    return _store(
        study=study,
        name=name,
        method=Sample.Method.CENSUS,
        org_type=org_type,
        vintage=vintage,
        organisations=organisations,
        parameters={"frame": frame},
        seed=None,
        draw=draw,
        actor=actor,
        is_simulated=is_simulated,
        phase=phase,
    )


def draw_stratified(
    *,
    study,
    org_type: str,
    vintage: datetime.date | None,
    seed: int,
    actor,
    region: str | None = None,
    strata: str = "region",
    n_total: int | None = None,
    n_per_stratum: int | Mapping[str, int] | None = None,
    allocation: str = "proportional",
    minimum_per_stratum: int = 1,
    name: str | None = None,
    is_simulated: bool | None = None,
    phase=None,
) -> Sample:
    """A stratified simple random sample without replacement (see ``designs.stratified``)."""
    if strata not in STRATUM_ATTRIBUTES:
        raise DesignError(
            f"Unknown stratifier {strata!r}: stratify by one of {', '.join(STRATUM_ATTRIBUTES)}."
        )
    organisations, frame = _frame(study, org_type, vintage, region)
    attributes = resolve_attributes([strata], organisations)
    draw = designs.stratified(
        frame_units(organisations, attributes),
        strata,
        seed=seed,
        n_total=n_total,
        n_per_stratum=n_per_stratum,
        allocation=allocation,
        minimum_per_stratum=minimum_per_stratum,
    )
    size = n_total if n_total is not None else len(draw.units)
    name = _check_name(
        study,
        name or f"Stratified sample of {size} {org_type} by {strata} ({allocation}, seed {seed})",
    )
    parameters = {
        "frame": frame,
        "strata": strata,
        "allocation": allocation,
        "n_total": n_total,
        "n_per_stratum": dict(n_per_stratum)
        if isinstance(n_per_stratum, Mapping)
        else n_per_stratum,
        "minimum_per_stratum": minimum_per_stratum,
    }
    return _store(
        study=study,
        name=name,
        method=Sample.Method.STRATIFIED,
        org_type=org_type,
        vintage=vintage,
        organisations=organisations,
        parameters=parameters,
        seed=seed,
        draw=draw,
        actor=actor,
        is_simulated=is_simulated,
        phase=phase,
        results={
            "allocation_table": [
                {"stratum": s.stratum, "population": s.population, "sample_size": s.sample_size}
                for s in draw.strata
            ]
        },
    )


def select_purposive(
    *,
    study,
    org_type: str,
    vintage: datetime.date | None,
    n: int,
    seed: int,
    actor,
    region: str | None = None,
    attributes: Sequence[str] = DEFAULT_PURPOSIVE_ATTRIBUTES,
    must_include: Mapping[str, str] | None = None,
    exclude: Sequence[str] = (),
    exclude_samples: Sequence[Sample] = (),
    name: str | None = None,
    is_simulated: bool | None = None,
    phase=None,
) -> Sample:
    """Maximum-variation purposive selection (see ``designs.purposive``).

    ``must_include`` maps ODS codes to the researcher's reason; ``exclude`` lists ODS codes
    that may not be chosen, and ``exclude_samples`` adds every unit of earlier samples of the
    same study (those not in this frame are ignored).
    """
    organisations, frame = _frame(study, org_type, vintage, region)
    specs = resolve_attributes(list(attributes), organisations)
    in_frame = {org.ods_code for org in organisations}
    excluded = list(dict.fromkeys(exclude))
    for earlier in exclude_samples:
        if earlier.study_id != study.id:
            raise DesignError(f"Sample {earlier.name!r} belongs to another study.")
        codes = earlier.units.values_list("organisation__ods_code", flat=True)
        excluded += [code for code in codes if code in in_frame and code not in excluded]
    draw = designs.purposive(
        frame_units(organisations, specs),
        [spec.attribute for spec in specs],
        n,
        seed=seed,
        must_include=must_include,
        exclude=excluded,
    )
    name = _check_name(
        study, name or f"Purposive selection of {n} {org_type} (maximum variation, seed {seed})"
    )
    parameters = {
        "frame": frame,
        "attributes": [spec.attribute.name for spec in specs],
        "n": n,
        "must_include": dict(must_include or {}),
        "exclude": excluded,
        "exclude_samples": [earlier.name for earlier in exclude_samples],
    }
    return _store(
        study=study,
        name=name,
        method=Sample.Method.PURPOSIVE,
        org_type=org_type,
        vintage=vintage,
        organisations=organisations,
        parameters=parameters,
        seed=seed,
        draw=draw,
        actor=actor,
        is_simulated=is_simulated,
        phase=phase,
    )


def delete_sample(*, sample: Sample, actor) -> None:
    """Delete a sample and its units, keeping what it held in the audit trail."""
    with transaction.atomic():
        before = {
            **snapshot(sample),
            "units": list(
                sample.units.order_by("selection_order").values_list(
                    "organisation__ods_code", flat=True
                )
            ),
        }
        record(
            actor=actor,
            action="sampling.delete_sample",
            obj=sample,
            study_id=sample.study_id,
            before=before,
        )
        sample.delete()
