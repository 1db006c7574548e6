"""The provenance appendix of a report: which data, code, parameters and seeds.

Every item is a content hash or a recorded setting, never a clock time, so the
same data give the same appendix and so the same document. Hashes are of the
stored records (ordered by primary key, timestamps left out), taken with
`triangulum.core.hashing.sha256_json` row by row.

Reading every answer of a large study takes a moment; `reused()` lets a caller
that builds several reports of one study (actions.write_reports) compute it
once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.apps import apps
from django.db import models

from triangulum.analysis.actions import code_version as analysis_code_version
from triangulum.analysis.models import AnalysisResult, AnalysisRun
from triangulum.casework.models import Coding, Source
from triangulum.core.hashing import sha256_json
from triangulum.fieldwork.models import Answer, Interview
from triangulum.sampling.models import Sample

from .document import Provenance

SNAPSHOT_LABEL = "Data snapshot (all inputs below)"
CODE_LABEL = "Code version"
_CHUNK = 5000
_cache: ContextVar[dict | None] = ContextVar("report_provenance_cache", default=None)


@contextmanager
def reused() -> Iterator[None]:
    """Within this block, each study's provenance is computed once."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def study_provenance(study) -> Provenance:
    """The provenance items for a study's reports (label, value), snapshot hash first."""
    cache = _cache.get()
    if cache is not None and study.pk in cache:
        return cache[study.pk]
    items = _items(study)
    snapshot = sha256_json([list(item) for item in items])
    provenance = Provenance(((SNAPSHOT_LABEL, f"sha256:{snapshot}"), *items))
    if cache is not None:
        cache[study.pk] = provenance
    return provenance


def inputs_hash(provenance: Provenance) -> str:
    """One SHA-256 over a report's whole provenance: equal inputs, equal hash."""
    return sha256_json([list(item) for item in provenance.items])


def code_version() -> str:
    """triangulum's version and git commit ("commit unknown" outside a git checkout)."""
    version = analysis_code_version()
    return version if "(git " in version else f"{version} (git commit unknown)"


def _items(study) -> tuple[tuple[str, str], ...]:
    items: list[tuple[str, str]] = [
        ("Study", f"{study.title} ({study.slug})"),
        ("Simulated data", "yes — not real findings" if study.is_simulated else "no"),
        (CODE_LABEL, code_version()),
    ]
    items.extend(_samples(study))
    items.extend(_waves(study))
    items.extend(_casework(study))
    items.extend(_analysis(study))
    items.extend(_integration(study))
    return tuple(items)


def _rows_hash(queryset, fields: list[str]) -> tuple[str, int]:
    """SHA-256 of the rows' values in the queryset's order, streamed, and the row count."""
    digest = hashlib.sha256()
    count = 0
    for row in queryset.values_list(*fields).iterator(chunk_size=_CHUNK):
        digest.update(
            json.dumps(row, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
        )
        digest.update(b"\n")
        count += 1
    return digest.hexdigest(), count


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _samples(study) -> list[tuple[str, str]]:
    items = []
    for sample in Sample.objects.filter(study=study).order_by("id"):
        seed = "no seed (census)" if sample.seed is None else f"seed {sample.seed}"
        parameters = json.dumps(sample.parameters, sort_keys=True) if sample.parameters else "{}"
        items.append(
            (
                f"Sample: {sample.name}",
                f"{sample.method}, {seed}, parameters {parameters}, frame of "
                f"{sample.frame_size:,}, inputs sha256:{sample.inputs_hash}",
            )
        )
    return items


def _waves(study) -> list[tuple[str, str]]:
    items = []
    for wave in study.waves.order_by("number"):
        interviews, n_interviews = _rows_hash(
            Interview.objects.filter(wave=wave).order_by("id"),
            ["id", "participant_id", "mode", "status", "disposition"],
        )
        answers, n_answers = _rows_hash(
            Answer.objects.filter(interview__wave=wave).order_by("interview_id", "item_path"),
            ["interview_id", "item_path", "value", "instrument_version_id", "mode"],
        )
        items.append(
            (
                f"Survey wave {wave.number}: cases",
                f"sha256:{interviews} ({_plural(n_interviews, 'case')})",
            )
        )
        items.append(
            (
                f"Survey wave {wave.number}: answers",
                f"sha256:{answers} ({_plural(n_answers, 'answer')})",
            )
        )
    return items


def _casework(study) -> list[tuple[str, str]]:
    sources, n_sources = _rows_hash(
        Source.objects.filter(study=study).order_by("id"),
        ["id", "title", "kind", "text", "site_id", "phase_id"],
    )
    codings, n_codings = _rows_hash(
        Coding.objects.filter(source__study=study).order_by("id"),
        ["id", "source_id", "code_id", "start", "end", "coder_id", "codebook_version_id"],
    )
    if not n_sources and not n_codings:
        return []
    return [
        ("Case-study sources", f"sha256:{sources} ({_plural(n_sources, 'source')})"),
        ("Codings", f"sha256:{codings} ({_plural(n_codings, 'coding')})"),
    ]


def _analysis(study) -> list[tuple[str, str]]:
    """The latest successful run of each step: its inputs, parameters, seed and results."""
    items = []
    latest: dict[str, AnalysisRun] = {}
    runs = AnalysisRun.objects.filter(study=study, status=AnalysisRun.Status.SUCCEEDED)
    for run in runs.order_by("step", "-started_at", "-id"):
        latest.setdefault(run.step, run)
    for step in sorted(latest):
        run = latest[step]
        results, _count = _rows_hash(
            AnalysisResult.objects.filter(run=run).order_by("order", "name"),
            ["name", "kind", "caption", "data", "svg", "text"],
        )
        parameters = json.dumps(run.parameters, sort_keys=True, default=str)
        items.append(
            (
                f"Analysis: {step}",
                f"seed {run.seed}, parameters {parameters}, inputs sha256:{run.inputs_hash}, "
                f"results sha256:{results}, code {run.code_version}",
            )
        )
    return items


def _study_path(model) -> str | None:
    """The lookup from ``model`` to its study ("study", "display__study"), if any."""
    names = {field.name: field for field in model._meta.get_fields()}
    if "study" in names and isinstance(names["study"], models.ForeignKey):
        return "study"
    for field in model._meta.get_fields():
        if isinstance(field, models.ForeignKey):
            related = field.related_model
            related_fields = {f.name for f in related._meta.get_fields()}
            if "study" in related_fields:
                return f"{field.name}__study"
    return None


def _content_fields(model) -> list[str]:
    """Concrete fields that say what a record holds: not clocks, not binary blobs."""
    fields = []
    for field in model._meta.concrete_fields:
        if isinstance(field, (models.DateTimeField, models.BinaryField)):
            continue
        fields.append(field.attname)
    return fields


def _integration(study) -> list[tuple[str, str]]:
    """Each integration table with records for this study (whatever issue 6 stores)."""
    try:
        config = apps.get_app_config("integration")
    except LookupError:
        return []
    items = []
    for model in sorted(config.get_models(), key=lambda m: m._meta.model_name):
        path = _study_path(model)
        if path is None:
            continue
        queryset = model.objects.filter(**{path: study}).order_by("pk")
        digest, count = _rows_hash(queryset, _content_fields(model))
        if count:
            name = str(model._meta.verbose_name_plural)
            items.append((f"Integration: {name}", f"sha256:{digest} ({_plural(count, 'record')})"))
    return items
