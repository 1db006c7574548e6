"""Running analysis steps and storing their results, with provenance and audit."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone

import triangulum
from triangulum.audit.actions import record
from triangulum.organisations.models import Organisation

from . import data as data_module
from .models import AnalysisResult, AnalysisRun
from .steps import STEPS, AnalysisContext, StepError, get_step, parameters_for
from .tidy import StudyData

DEFAULT_SEED = 2013


@lru_cache(maxsize=1)
def code_version() -> str:
    """triangulum's version, plus the git commit of the source tree where there is one."""
    version = f"triangulum {triangulum.__version__}"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(triangulum.__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{version} (git {commit})" if commit else version


def typology_attribute(study) -> str:
    return f"typology_class_{study.slug}"


def _user(actor):
    return actor if actor is not None and not isinstance(actor, str) else None


def _column_order(rows) -> list[str]:
    names: list[str] = []
    for row in rows or []:
        names += [key for key in row if key not in names]
    return names


def _store_run(
    *, study, step, parameters, seed, inputs_hash, started, results, error, actor, is_simulated
) -> AnalysisRun:
    with transaction.atomic():
        run = AnalysisRun.objects.create(
            study=study,
            step=step.name,
            parameters=parameters,
            seed=seed,
            inputs_hash=inputs_hash,
            code_version=code_version(),
            started_at=started,
            finished_at=timezone.now(),
            status=AnalysisRun.Status.FAILED if error else AnalysisRun.Status.SUCCEEDED,
            error=error,
            is_simulated=is_simulated,
            created_by=_user(actor),
        )
        AnalysisResult.objects.bulk_create(
            [
                AnalysisResult(
                    run=run,
                    name=result.name,
                    kind=result.kind,
                    caption=result.caption,
                    data=result.rows,
                    column_order=_column_order(result.rows),
                    svg=result.svg or "",
                    text=result.text or "",
                    order=index,
                )
                for index, result in enumerate(results)
            ]
        )
        record(
            actor=actor,
            action="analysis.run",
            obj=run,
            study_id=study.pk,
            after={
                "step": step.name,
                "status": run.status,
                "parameters": parameters,
                "seed": seed,
                "inputs_hash": inputs_hash,
                "results": len(results),
                "error": error,
            },
        )
    return run


def _run(ctx: AnalysisContext, *, study, step, parameters, actor, inputs_hash) -> AnalysisRun:
    started = timezone.now()
    results, error = [], ""
    try:
        results = step.run(ctx, parameters)
    except (StepError, ValueError, KeyError, ArithmeticError) as failure:
        error = f"{type(failure).__name__}: {failure}"
    run = _store_run(
        study=study,
        step=step,
        parameters=parameters,
        seed=ctx.seed,
        inputs_hash=inputs_hash,
        started=started,
        results=results,
        error=error,
        actor=actor,
        is_simulated=ctx.data.is_simulated,
    )
    if step.name == "typology" and not error:
        membership = next(r for r in results if r.name == "typology_membership")
        store_typology_classes(study=study, membership=membership.rows, actor=actor, run=run)
    return run


def run_step(
    *,
    study,
    step: str,
    parameters: dict | None = None,
    actor,
    seed: int = DEFAULT_SEED,
    data: StudyData | None = None,
) -> AnalysisRun:
    """Run one named step on the study's current fieldwork; store and audit the run."""
    chosen = get_step(step)
    merged = parameters_for(chosen, parameters)
    data = data or data_module.study_data(study)
    if len(data.waves) < chosen.needs_waves:
        raise StepError(
            f"Step {step!r} needs {chosen.needs_waves} waves; the study has {len(data.waves)}."
        )
    ctx = AnalysisContext(data, seed)
    return _run(
        ctx,
        study=study,
        step=chosen,
        parameters=merged,
        actor=actor,
        inputs_hash=data.inputs_hash(),
    )


def run_all(
    *, study, actor, seed: int = DEFAULT_SEED, data: StudyData | None = None
) -> list[AnalysisRun]:
    """Every step in order on one snapshot of the data (steps share weights and typology)."""
    data = data or data_module.study_data(study)
    if not data.waves:
        raise StepError(f"Study {study.slug!r} has no survey wave to analyse.")
    ctx = AnalysisContext(data, seed)
    inputs_hash = data.inputs_hash()
    runs = []
    for step in STEPS:
        if len(data.waves) < step.needs_waves:
            continue
        runs.append(
            _run(
                ctx,
                study=study,
                step=step,
                parameters=parameters_for(step, None),
                actor=actor,
                inputs_hash=inputs_hash,
            )
        )
    return runs


def store_typology_classes(*, study, membership: list[dict], actor, run=None) -> int:
    """Write each organisation's class to ``attributes["typology_class_<slug>"]``.

    Validates every code first; writes all in one transaction with one audit event per
    organisation whose class changed. Organisations not in ``membership`` lose a class
    an earlier run gave them (the attribute describes the latest typology only).
    """
    key = typology_attribute(study)
    wanted = {row["organisation_code"]: int(row["typology_class"]) for row in membership}
    found = {
        org.ods_code: org
        for org in Organisation.objects.filter(org_type="ccg", ods_code__in=wanted)
    }
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise StepError(f"Typology names unknown organisation code(s): {', '.join(missing[:10])}.")
    changed = 0
    with transaction.atomic():
        stale = Organisation.objects.filter(attributes__has_key=key).exclude(ods_code__in=wanted)
        for org in list(stale) + list(found.values()):
            before = (org.attributes or {}).get(key)
            after = wanted.get(org.ods_code)
            if before == after:
                continue
            attributes = dict(org.attributes or {})
            if after is None:
                attributes.pop(key, None)
            else:
                attributes[key] = after
            org.attributes = attributes
            org.save(update_fields=["attributes"])
            record(
                actor=actor,
                action="analysis.typology_class",
                obj=org,
                study_id=study.pk,
                before={key: before},
                after={key: after, "run": run.pk if run else None},
            )
            changed += 1
    return changed
