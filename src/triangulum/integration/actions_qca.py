"""Storing a QCA of the sites (or initiatives): calibrate, analyse, store, audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import transaction

from triangulum.audit.actions import record
from triangulum.casework.models import Source
from triangulum.core.hashing import sha256_json

from . import cases as case_queries
from .models import QcaRun
from .qca_sites import (
    REMAINDERS,
    UNITS,
    CalibrationError,
    analyse,
    calibrate_all,
    parse_calibration,
)


class QcaRunError(ValueError):
    """A QCA run that cannot be made; nothing is stored. The message says why and where."""


def _user(actor):
    return actor if actor is not None and not isinstance(actor, str) else None


def _is_simulated(study) -> bool:
    return (
        study.is_simulated
        or study.waves.filter(is_simulated=True).exists()
        or Source.objects.filter(study=study, is_simulated=True).exists()
    )


def run_qca(
    *,
    study,
    name: str,
    unit: str,
    set_type: str,
    outcome: str,
    conditions: Sequence[str],
    calibration: Mapping,
    incl_cut: float,
    n_cut: int,
    remainders: str,
    actor,
) -> QcaRun:
    """Calibrate the sets of ``unit`` cases from survey and case-study data, run the truth
    table, necessity and minimisation, and store it all as one ``QcaRun``.

    Codings count as ``actor`` may see them (the blind-coding rule); a system actor sees
    all. Raises ``QcaRunError`` with the problem and the set or field at fault."""
    name = (name or "").strip()
    if not name:
        raise QcaRunError("name: give the analysis a name")
    if len(name) > QcaRun._meta.get_field("name").max_length:
        raise QcaRunError("name: at most 200 characters")
    if unit not in UNITS:
        raise QcaRunError(f"unit: {unit!r} is not one of {', '.join(UNITS)}")
    if remainders not in REMAINDERS:
        raise QcaRunError(f"remainders: {remainders!r} is not one of {', '.join(REMAINDERS)}")
    try:
        incl_cut = float(incl_cut)
        n_cut = int(n_cut)
    except (TypeError, ValueError):
        raise QcaRunError("incl_cut and n_cut must be numbers") from None
    if not 0.0 <= incl_cut <= 1.0:
        raise QcaRunError(f"incl_cut: the consistency threshold lies in [0, 1] (got {incl_cut})")
    if n_cut < 1:
        raise QcaRunError(f"n_cut: the frequency threshold is at least 1 (got {n_cut})")
    conditions = [str(c) for c in conditions]
    user = _user(actor)
    try:
        specs = parse_calibration(
            calibration, outcome=outcome, conditions=conditions, set_type=set_type
        )
        linked, raw, missing = case_queries.set_raw_values(study, specs, unit=unit, visible_to=user)
        calibrated = calibrate_all(specs, raw, [lc.name for lc in linked], missing_reasons=missing)
        results = analyse(
            calibrated,
            outcome=outcome,
            conditions=conditions,
            incl_cut=incl_cut,
            n_cut=n_cut,
            remainders=remainders,
        )
    except (CalibrationError, ValueError) as error:
        raise QcaRunError(str(error)) from None
    names = [*conditions, outcome]
    memberships = calibrated.rows(names)
    stored_calibration = {
        "sets": {n: specs[n].as_dict() for n in names},
        "raw": calibrated.raw,
        "excluded": calibrated.excluded,
        "cases": {
            lc.name: {"case_id": lc.id, "organisation": lc.organisation.ods_code} for lc in linked
        },
        "codings_visible_to": user.get_username() if user is not None else "all coders",
    }
    parameters = {"incl_cut": incl_cut, "n_cut": n_cut, "remainders": remainders}
    inputs_hash = sha256_json(
        {
            "unit": unit,
            "set_type": set_type,
            "outcome": outcome,
            "conditions": conditions,
            "calibration": stored_calibration,
            "memberships": memberships,
            "parameters": parameters,
        }
    )
    with transaction.atomic():
        run = QcaRun.objects.create(
            study=study,
            name=name,
            unit=unit,
            set_type=set_type,
            outcome=outcome,
            conditions=conditions,
            memberships=memberships,
            calibration=stored_calibration,
            parameters=parameters,
            results=results,
            inputs_hash=inputs_hash,
            created_by=user,
            is_simulated=_is_simulated(study),
        )
        record(
            actor=actor,
            action="integration.qca_run",
            obj=run,
            study_id=study.pk,
            after={
                "name": name,
                "unit": unit,
                "set_type": set_type,
                "outcome": outcome,
                "conditions": conditions,
                "parameters": parameters,
                "cases": len(memberships),
                "excluded": len({e["case"] for e in calibrated.excluded}),
                "solutions": {
                    kind: [s["expression"] for s in solutions]
                    for kind, solutions in results["solutions"].items()
                },
                "inputs_hash": inputs_hash,
                "simulated": run.is_simulated,
            },
        )
    return run
