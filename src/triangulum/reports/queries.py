"""Read-side shaping for the reports page."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .models import ReportBuild


def recent_builds(study, limit: int = 50) -> list[ReportBuild]:
    return list(
        ReportBuild.objects.filter(study=study)
        .select_related("built_by")
        .order_by("-built_at", "-id")[:limit]
    )


def build_file(build: ReportBuild) -> bytes | None:
    """The build's file as it was written, or None when it is gone or has changed since.

    A later build of the same report replaces the file; when its inputs were the
    same, its bytes are too (rendering is deterministic), so the older record
    still finds its file.
    """
    if not build.path:
        return None
    path = Path(build.path)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == build.output_sha256 else None
