"""Time and peak memory to build all three reports in all three formats (issue 7).

The demo study (simulated), read from a demo database built by ``triangulum demo`` and
copied to a scratch folder first. Each run happens in a fresh child process (peak
memory = the child's maximum resident set size) and covers what ``triangulum report``
does: reading the study's evidence, building the practitioner report, the guidance
document and the article pack, rendering each as Word, PDF and HTML, writing the nine
files and recording the builds. Target: under 30 s.

    .venv/bin/triangulum demo --dir /tmp/reports-bench-demo   # once
    .venv/bin/python bench/reports_bench.py --demo-dir /tmp/reports-bench-demo [--runs 2]

Prints one JSON object per run (wall-clock and CPU seconds, split into building the
reports and rendering each format; on a shared machine the CPU time is the steadier
figure) and whether the runs gave byte-identical files. All data are simulated.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG = "ccg-clinical-leadership"


def child(folder: str, out: str) -> dict:
    import hashlib

    os.environ["TRIANGULUM_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triangulum.settings")
    import django

    django.setup()
    from django.core.management import call_command

    # A demo built before the reports app had its table gets it here (not timed).
    call_command("migrate", verbosity=0, interactive=False)

    from triangulum.reports import actions, render_docx, render_html, render_pdf
    from triangulum.studies.models import Study

    study = Study.objects.get(slug=SLUG)
    timings = {"build": 0.0, "docx": 0.0, "pdf": 0.0, "html": 0.0}
    cpu_timings = dict(timings)
    renderers = {
        "docx": render_docx.render_docx,
        "pdf": render_pdf.render_pdf,
        "html": render_html.render_html,
    }

    def timed(name, function):
        def wrapper(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                timings[name] += time.perf_counter() - wall
                cpu_timings[name] += time.process_time() - cpu

        return wrapper

    actions.build_all = timed("build", actions.build_all)
    for name, function in renderers.items():
        actions.RENDERERS[name] = timed(name, function)

    cpu = time.process_time()
    started = time.perf_counter()
    paths = actions.write_reports(
        study=study,
        kinds=["practitioner", "guidance", "article"],
        formats=["docx", "pdf", "html"],
        out_dir=Path(out),
        actor="reports bench",
    )
    seconds = time.perf_counter() - started
    return {
        "scenario": "demo: 3 reports x 3 formats",
        "files": len(paths),
        "bytes": sum(p.stat().st_size for p in paths),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "stage_seconds": {k: round(v, 2) for k, v in timings.items()},
        "stage_cpu_seconds": {k: round(v, 2) for k, v in cpu_timings.items()},
        "sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths},
    }


def run_child(folder: str, out: str) -> dict:
    command = [sys.executable, __file__, "--child", folder, out]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the largest child so far (KiB on Linux).
    result["peak_memory_mib"] = round(after / 1024, 1) if after > before else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--demo-dir", help="a folder built by 'triangulum demo' (copied, not changed)"
    )
    parser.add_argument("--runs", type=int, default=1, help="separate runs (default 1)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(*args.child)
        result["child_peak_memory_mib"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        )
        print(json.dumps(result))
        return
    if not args.demo_dir:
        parser.error("--demo-dir is required: build one with 'triangulum demo --dir DIR'")
    results = []
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as scratch:
        for name in os.listdir(args.demo_dir):
            source = Path(args.demo_dir) / name
            if source.is_file():
                shutil.copy2(source, Path(scratch) / name)
        for run in range(1, args.runs + 1):
            out = Path(scratch) / f"run-{run}"
            result = run_child(scratch, str(out))
            hashes = result.pop("sha256")
            result["run"] = run
            results.append((result, hashes))
            print(json.dumps(result), flush=True)
    summary = {
        "best_seconds": min(r["seconds"] for r, _ in results),
        "best_cpu_seconds": min(r["cpu_seconds"] for r, _ in results),
        "max_child_peak_memory_mib": max(r["child_peak_memory_mib"] for r, _ in results),
        "target_seconds": 30,
    }
    if len(results) > 1:
        summary["identical_files_across_runs"] = all(h == results[0][1] for _, h in results)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
