"""Writing report files and recording each build (hashes of inputs and outputs, audit)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from triangulum.audit.actions import record

from . import provenance
from .document import REPORT_KINDS, Report
from .models import ReportBuild
from .render_docx import render_docx
from .render_html import render_html
from .render_pdf import render_pdf

FORMATS = ("docx", "pdf", "html")
RENDERERS: dict[str, Callable[[Report], bytes]] = {
    "docx": render_docx,
    "pdf": render_pdf,
    "html": render_html,
}
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}
Builder = Callable[[object, str], Report]


class ReportError(ValueError):
    """A request for a report that cannot be met (unknown kind or format, unwritable folder)."""


def _split(values: Iterable[str] | str) -> list[str]:
    """Values given repeatedly or as comma lists ("pdf,html"), trimmed, order kept, no repeats."""
    if isinstance(values, str):
        values = [values]
    chosen: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if name and name not in chosen:
                chosen.append(name)
    return chosen


def parse_kinds(values: Iterable[str] | str) -> list[str]:
    kinds = _split(values)
    unknown = [kind for kind in kinds if kind not in REPORT_KINDS]
    if unknown:
        raise ReportError(
            f"Unknown report kind {', '.join(map(repr, unknown))}: "
            f"choose from {', '.join(REPORT_KINDS)}."
        )
    if not kinds:
        raise ReportError(f"No report kind given: choose from {', '.join(REPORT_KINDS)}.")
    return kinds


def parse_formats(values: Iterable[str] | str | None) -> list[str]:
    """The formats asked for; none given means all three."""
    formats = _split(values or [])
    unknown = [name for name in formats if name not in FORMATS]
    if unknown:
        raise ReportError(
            f"Unknown format {', '.join(map(repr, unknown))}: choose from {', '.join(FORMATS)}."
        )
    return formats or list(FORMATS)


def report_filename(study, kind: str, format: str) -> str:
    """E.g. "simulated_ccg-clinical-leadership-practitioner.pdf" (prefix when simulated)."""
    prefix = "simulated_" if study.is_simulated else ""
    return f"{prefix}{study.slug}-{kind}.{format}"


def _content():
    """reports.build (the content), imported late: it reads the whole study."""
    try:
        from . import build
    except ModuleNotFoundError as error:
        if error.name != f"{__package__}.build":
            raise
        raise ReportError(
            "This version of Triangulum has no report content yet (reports/build.py)."
        ) from None
    return build


def default_builder() -> Builder:
    """The content's ``build_report(study, kind)``."""
    return _content().build_report


def build_all(study, kinds: list[str]) -> dict[str, Report]:
    """Reports of several kinds; the content reads the study's evidence once for all."""
    content = _content()
    if hasattr(content, "build_reports"):
        return content.build_reports(study, kinds)
    return {kind: content.build_report(study, kind) for kind in kinds}


def render(report: Report, format: str) -> bytes:
    return RENDERERS[format](report)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename, so no half-written report is left."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _actor_fields(actor) -> dict:
    if actor is not None and not isinstance(actor, str) and actor.is_authenticated:
        return {"built_by": actor, "built_by_name": actor.get_username()[:150]}
    return {"built_by": None, "built_by_name": (actor or "")[:150]}


def write_reports(
    *,
    study,
    kinds: Iterable[str] | str,
    formats: Iterable[str] | str | None,
    out_dir: Path | str,
    actor,
    builder: Builder | None = None,
) -> list[Path]:
    """Build each report kind of ``study``, render it in each format, write the files.

    Files are named by ``report_filename`` in ``out_dir`` (created if missing);
    an existing file of the same name is replaced. One ``ReportBuild`` row per
    file and one audit event for the lot, in one transaction after the files
    are written. ``builder`` makes a Report for (study, kind); by default the
    content's ``build_reports`` makes all kinds from one reading of the study.
    """
    kinds = parse_kinds(kinds)
    formats = parse_formats(formats)
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReportError(f"Cannot create the output folder {folder}: {error.strerror}.") from None
    # Everything is rendered before anything is written, so a report that fails to
    # build leaves no mixture of new and old files behind.
    rendered: list[tuple[str, str, bytes, Report]] = []
    with provenance.reused():
        if builder is None:
            reports = build_all(study, kinds)
        else:
            reports = {kind: builder(study, kind) for kind in kinds}
        for kind in kinds:
            for format in formats:
                rendered.append((kind, format, render(reports[kind], format), reports[kind]))
    paths: list[Path] = []
    rows: list[ReportBuild] = []
    for kind, format, data, report in rendered:
        path = folder / report_filename(study, kind, format)
        try:
            _write_atomically(path, data)
        except OSError as error:
            raise ReportError(f"Cannot write {path}: {error.strerror}.") from None
        paths.append(path)
        rows.append(
            ReportBuild(
                study=study,
                kind=kind,
                format=format,
                inputs_hash=provenance.inputs_hash(report.provenance),
                output_sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                filename=path.name,
                path=str(path.resolve()),
                built_at=timezone.now(),
                is_simulated=report.simulated,
                **_actor_fields(actor),
            )
        )
    with transaction.atomic():
        ReportBuild.objects.bulk_create(rows)
        record(
            actor=actor,
            action="reports.write",
            object_type="reports.reportbuild",
            object_label=f"{len(rows)} report file(s) of {study.slug}",
            study_id=study.pk,
            after={
                "folder": str(folder.resolve()),
                "files": [
                    {
                        "kind": row.kind,
                        "format": row.format,
                        "filename": row.filename,
                        "inputs_hash": row.inputs_hash,
                        "output_sha256": row.output_sha256,
                    }
                    for row in rows
                ],
            },
        )
    return paths
