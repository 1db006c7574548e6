"""The demo's reports: all three, in all three formats, under ``outputs/reports/``.

Runs last (reports is the last app), after the analysis and integration steps
have stored their results. File names start with ``simulated_`` like every
other demo output, and every page of every file says the data are simulated.
"""

from __future__ import annotations

from importlib.util import find_spec

from triangulum.core.demo_registry import DemoContext, DemoStep

from . import actions
from .document import REPORT_KINDS

ACTOR = "triangulum demo"


def run(ctx: DemoContext) -> None:
    study = ctx.shared.get("study")
    if study is None:
        ctx.record("Reports skipped: no study was built", None)
        return
    if find_spec(f"{__package__}.build") is None:
        ctx.record("Reports skipped: this version has no report content yet", None)
        return
    folder = ctx.outputs / "reports"
    paths = actions.write_reports(
        study=study, kinds=REPORT_KINDS, formats=actions.FORMATS, out_dir=folder, actor=ACTOR
    )
    ctx.shared["reports"] = paths
    ctx.record(
        f"Reports (simulated data): practitioner report, guidance document and article pack "
        f"as Word, PDF and HTML ({len(paths)} files)",
        folder,
    )


STEPS = [DemoStep("Write the reports (Word, PDF, HTML)", run)]
