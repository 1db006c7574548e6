"""The demo's survey analysis: every step on the simulated waves, with files written.

Runs after fieldwork (``ctx.shared["waves"]``). Stores the runs and results, writes each
table as CSV and each figure as SVG under ``outputs/analysis/`` (names start with
``simulated_``: every number in them comes from simulated answers), and leaves the
estimates beside the simulation's true values in ``ctx.shared["analysis"]``.
"""

from __future__ import annotations

import csv

from triangulum.core.demo_registry import DemoContext, DemoStep

from . import actions
from .data import study_data

ACTOR = "triangulum demo"


def run(ctx: DemoContext) -> None:
    if not ctx.shared.get("waves"):
        ctx.record("Survey analysis skipped: no simulated waves", None)
        return
    study = ctx.shared["study"]
    data = study_data(study)
    runs = actions.run_all(study=study, actor=ACTOR, seed=ctx.seed, data=data)
    folder = ctx.outputs / "analysis"
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for analysis_run in runs:
        for result in analysis_run.results.all():
            stem = f"simulated_{analysis_run.step}_{result.name}"
            if result.kind == "table" and result.data:
                path = folder / f"{stem}.csv"
                with path.open("w", newline="", encoding="utf-8") as handle:
                    writer = csv.DictWriter(
                        handle, fieldnames=result.columns, extrasaction="ignore"
                    )
                    writer.writeheader()
                    writer.writerows(result.data)
            elif result.kind == "figure":
                path = folder / f"{stem}.svg"
                path.write_text(result.svg, encoding="utf-8")
            elif result.kind == "text":
                path = folder / f"{stem}.txt"
                path.write_text(f"{result.caption}\n\n{result.text}\n", encoding="utf-8")
            else:
                continue
            written += 1
    failed = [r.step for r in runs if r.error]
    ctx.shared["analysis"] = {"runs": runs, "data": data}
    ctx.record(
        f"Survey analysis of the simulated waves: {len(runs)} steps, {written} tables and figures"
        + (f" (failed: {', '.join(failed)})" if failed else ""),
        folder,
    )


STEPS = [DemoStep("Analyse the simulated survey waves", run)]
