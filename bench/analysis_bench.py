"""Time and peak memory of the whole survey analysis (issue 5).

Two studies, each measured in a fresh child process (peak memory = the child's maximum
resident set size):

- ``demo``: the demo study (211 real CCGs, ~3,100 simulated members per wave, two
  waves), read from a demo database built by ``triangulum demo`` and copied to a
  scratch folder first; the timing covers reading the tidy tables from the database,
  running every step and storing the results (``actions.run_all``).
- ``large``: 8,053 GP practices × 5 respondents × 2 waves (80,530 cases, simulated),
  generated directly in memory as tidy tables (``analysis.synthetic.make_study``, no
  database); the timing covers every step (``steps.run_pipeline``). A quarter-size
  run (2,013 practices) checks that time grows no faster than the respondents.

    .venv/bin/triangulum demo --dir /tmp/analysis-bench-demo   # once
    .venv/bin/python bench/analysis_bench.py --demo-dir /tmp/analysis-bench-demo

Prints one JSON object per scenario (wall-clock and CPU seconds: on a shared machine the
CPU time is the steadier figure) and a summary; all data are simulated.
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


def child_demo(folder: str) -> dict:
    os.environ["TRIANGULUM_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triangulum.settings")
    import django

    django.setup()
    from triangulum.analysis import actions, data
    from triangulum.studies.models import Study

    study = Study.objects.get(slug="ccg-clinical-leadership")
    cpu = time.process_time()
    started = time.perf_counter()
    tables = data.study_data(study)
    read = time.perf_counter() - started
    runs = actions.run_all(study=study, actor="analysis bench", data=tables)
    total = time.perf_counter() - started
    failed = [r.step for r in runs if r.error]
    return {
        "scenario": "demo",
        "respondents": sum(len(w.respondents) for w in tables.waves.values()),
        "cases": sum(len(w.units) for w in tables.waves.values()),
        "read_seconds": round(read, 2),
        "seconds": round(total, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "steps": len(runs),
        "failed": failed,
    }


def child_large(organisations: int, members: int) -> dict:
    from triangulum.analysis.steps import run_pipeline
    from triangulum.analysis.synthetic import make_study

    started = time.perf_counter()
    study = make_study(organisations, members, seed=5, slug="large-simulated")
    generated = time.perf_counter() - started
    started = time.perf_counter()
    cpu = time.process_time()
    results = run_pipeline(study, seed=5)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return {
        "scenario": f"large {organisations}x{members}x2",
        "respondents": sum(len(w.respondents) for w in study.waves.values()),
        "cases": sum(len(w.units) for w in study.waves.values()),
        "generate_seconds": round(generated, 2),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "steps": len(results),
        "results": sum(len(r) for r in results.values()),
    }


def run_child(args: list[str]) -> dict:
    command = [sys.executable, __file__, "--child", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the largest child so far (KiB on Linux).
    result["peak_memory_mib"] = round(max(after, before) / 1024, 1) if after > before else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--demo-dir", help="a folder built by 'triangulum demo' (copied, not changed)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "demo":
            result = child_demo(rest[0])
        else:
            result = child_large(int(rest[0]), int(rest[1]))
        result["child_peak_memory_mib"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        )
        print(json.dumps(result))
        return
    results = []
    if args.demo_dir:
        with tempfile.TemporaryDirectory(prefix="analysis-bench-") as scratch:
            for name in os.listdir(args.demo_dir):
                source = Path(args.demo_dir) / name
                if source.is_file():
                    shutil.copy2(source, Path(scratch) / name)
            results.append(run_child(["demo", scratch]))
            print(json.dumps(results[-1]), flush=True)
    if not args.skip_large:
        for organisations in (2013, 8053):
            results.append(run_child(["large", str(organisations), "5"]))
            print(json.dumps(results[-1]), flush=True)
    large = [r for r in results if r["scenario"].startswith("large")]
    if len(large) == 2:
        small, big = large
        growth = (big["seconds"] / small["seconds"]) / (big["respondents"] / small["respondents"])
        print(json.dumps({"time_growth_relative_to_respondents": round(growth, 2)}))


if __name__ == "__main__":
    main()
