"""Case-study workbench benchmark: 500 simulated transcripts, 100,000 codings.

Not a test: run it, read the numbers, and copy them into docs/benchmarks.md.

    .venv/bin/python bench/casework_bench.py                      # SQLite, everything
    .venv/bin/python bench/casework_bench.py --database-url postgres://postgres@127.0.0.1:5432/triangulum_bench

What it does, in order (every text is SIMULATED and says so on its first line):

1. writes N transcripts of about W words each as .txt, and the same as .html for Taguette
   (deterministic: ``--seed``);
2. imports the .txt files into a fresh study through ``casework.actions.import_source``
   called once per file — the path a researcher's upload takes (one transaction and one
   audit event per file, speaker turns recognised, original kept) — and times it;
3. builds a codebook (8 themes × 5 codes), cases (sites with a region, participants with
   a role) and 100,000 codings by two coders, written in bulk (setup, not timed);
4. times ``apply_coding`` (server time of one coding, with 100,000 stored), retrieval
   (``segments_for_code``, with and without sub-codes and a case filter), the matrix
   coding query, co-occurrence and full-text search, each repeated;
5. times the .qdpx export of the whole study;
6. installs Taguette (PyPI) into its own virtual environment under the output folder if
   it is not there (never into the project's .venv) and times Taguette importing the
   same documents as HTML through its own import code (``casework_taguette_import.py``);
7. reports the peak resident memory of this process (``ru_maxrss``).

Results go to ``OUT/casework-results-<database>.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TAGUETTE_VERSION = "1.5.2"

# Words for the simulated talk: the vocabulary of the study, so searches find phrases.
VOCABULARY = (
    "the commissioning group clinical leadership practice members governing body decided "
    "redesign service pathway hospital community care frail older people integrated general "
    "practitioners nurse manager budget contract provider outcome evidence meeting we they it "
    "was were had have think really because about locality engagement patient public "
    "involvement pressure national policy local relationship trust primary secondary social "
    "quality improvement referral waiting list team difficult important change support data "
    "information board chair accountable officer"
).split()
SPEAKERS = ("Interviewer", "P1", "P2", "R")


# --- the corpus ---------------------------------------------------------------------------


def transcript(rng: random.Random, number: int, words: int) -> str:
    lines = [
        f"SIMULATED TRANSCRIPT {number:03d} — generated for the Triangulum benchmark; "
        "not a real interview.",
        "",
    ]
    written, turn = 0, 0
    participant = SPEAKERS[1 + number % 3]
    while written < words:
        label = "Interviewer" if turn % 2 == 0 else participant
        count = rng.randint(20, 120)
        sentence = " ".join(rng.choice(VOCABULARY) for _ in range(count))
        lines.append(f"{label}: {sentence.capitalize()}.")
        written += count
        turn += 1
    return "\n".join(lines) + "\n"


def as_html(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.splitlines() if line)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Simulated transcript"
        f"</title></head><body>\n{paragraphs}</body></html>\n"
    )


def write_corpus(folder: Path, documents: int, words: int, seed: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "corpus.json"
    wanted = {"documents": documents, "words": words, "seed": seed}
    paths = [folder / f"simulated-transcript-{n:03d}.txt" for n in range(documents)]
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return paths
    rng = random.Random(seed)
    for number, path in enumerate(paths):
        text = transcript(rng, number, words)
        path.write_text(text, encoding="utf-8")
        path.with_suffix(".html").write_text(as_html(text), encoding="utf-8")
    marker.write_text(json.dumps(wanted))
    return paths


# --- measuring ----------------------------------------------------------------------------


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def timed_runs(function, runs: int) -> dict:
    """Wall-clock and CPU time of repeated calls, in milliseconds.

    CPU time (this process only) is reported beside wall time because the machine may be
    shared: on SQLite, where the database works inside this process, it is the server
    time without waiting for other processes' turn on the cores.
    """
    wall, cpu = [], []
    result = None
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)

    def p95(values):
        ordered = sorted(values)
        return round(ordered[max(0, int(round(0.95 * len(ordered))) - 1)], 2)

    return {
        "runs": runs,
        "p50_ms": round(statistics.median(wall), 2),
        "p95_ms": p95(wall),
        "max_ms": round(max(wall), 2),
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": p95(cpu),
        "result_size": len(result) if hasattr(result, "__len__") else None,
    }


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return ""


# --- Taguette, in its own virtual environment -----------------------------------------------


def taguette_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import taguette; print(taguette.__version__)"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing taguette=={TAGUETTE_VERSION} into {venv} …", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", f"taguette=={TAGUETTE_VERSION}"],
        check=True,
    )
    return python


def run_taguette(corpus: Path, out: Path) -> dict:
    python = taguette_python(out / "taguette-venv")
    db = out / "taguette-bench.sqlite3"
    log = out / "taguette-import.log"
    with log.open("w") as stderr:
        done = subprocess.run(
            [str(python), str(HERE / "casework_taguette_import.py"), str(corpus), str(db)],
            check=True,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    return json.loads(done.stdout)


# --- Triangulum -------------------------------------------------------------------------------


def setup_django(database_url: str | None, folder: Path) -> str:
    if database_url:
        name = database_url.rsplit("/", 1)[-1]
        if "bench" not in name:
            raise SystemExit(
                f"refusing to use database {name!r}: the benchmark drops and recreates its "
                "database, so its name must contain 'bench'"
            )
        import psycopg

        admin = database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        os.environ["TRIANGULUM_DATABASE_URL"] = database_url
        label = "postgresql"
    else:
        os.environ.pop("TRIANGULUM_DATABASE_URL", None)
        label = "sqlite"
    os.environ["TRIANGULUM_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triangulum.settings")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return label


def run_triangulum(args, paths: list[Path], out: Path) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from triangulum.casework import actions, queries
    from triangulum.casework.exchange import export_qdpx
    from triangulum.casework.models import Case, Code, Coding, Source
    from triangulum.studies.actions import create_study

    results: dict = {}
    User = get_user_model()
    lead = User.objects.create_user("bench-lead", password="bench-password-1")
    second = User.objects.create_user("bench-coder", password="bench-password-2")
    study = create_study(
        actor=lead, slug="casework-bench", title="Case-study benchmark (simulated)"
    )

    # 1. Import, one file at a time, as uploads arrive.
    started, started_cpu = time.perf_counter(), time.process_time()
    for path in paths:
        actions.import_source(
            study=study,
            file_name=path.name,
            data=path.read_bytes(),
            kind="interview",
            actor=lead,
            simulated=True,
        )
    results["import"] = {
        "path": "casework.actions.import_source, once per .txt file",
        "files": len(paths),
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - started_cpu, 2),
        "load_average_after": load_average(),
        "characters": sum(
            len(t) for t in Source.objects.filter(study=study).values_list("text", flat=True)
        ),
    }
    print(f"import: {results['import']}", file=sys.stderr)

    # The same files through the command a researcher types (a new process: Python and
    # Django start-up included), into a study of its own.
    create_study(actor=lead, slug="casework-bench-cli", title="CLI import (simulated)")
    command = [
        str(Path(sys.executable).with_name("triangulum")), "source", "import",
        *map(str, paths), "--study", "casework-bench-cli", "--kind", "interview", "--simulated",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    results["import_cli"] = {
        "path": "triangulum source import FILE… --study S --kind interview --simulated",
        "files": len(paths),
        "seconds": round(time.perf_counter() - started, 2),
        "load_average_after": load_average(),
        "stored": Source.objects.filter(study__slug="casework-bench-cli").count(),
    }
    print(f"import (CLI): {results['import_cli']}", file=sys.stderr)
    if args.import_only:
        return results

    # 2. Codebook, cases and codings (setup).
    rng = random.Random(args.seed + 1)
    parents, leaves = [], []
    for theme in range(8):
        parent = actions.create_code(study=study, name=f"Theme {theme + 1}", actor=lead)
        parents.append(parent)
        for sub in range(5):
            leaves.append(
                actions.create_code(
                    study=study, name=f"Code {theme + 1}.{sub + 1}", actor=lead, parent=parent
                )
            )
    version = actions.current_codebook_version(study)
    sources = list(Source.objects.filter(study=study).order_by("id"))
    regions = ("North", "Midlands", "London", "South")
    for site in range(50):
        case = actions.ensure_case(
            study=study, kind="site", name=f"Simulated site {site + 1:02d}", actor=lead,
            attributes={"area": regions[site % 4]},
        )  # fmt: skip
        actions.attach_sources_to_case(
            case=case, sources=sources[site * 10 : site * 10 + 10], actor=lead
        )
    for index, source in enumerate(sources):
        case = actions.ensure_case(
            study=study, kind="participant", name=f"Simulated participant {index + 1:03d}",
            actor=lead, attributes={"role": ("GP member", "Chair", "Manager")[index % 3]},
        )  # fmt: skip
        actions.attach_sources_to_case(case=case, sources=[source], actor=lead)
    lengths = {s.id: len(s.text) for s in sources}
    started = time.perf_counter()
    rows = []
    for _ in range(args.codings):
        source = rng.choice(sources)
        length = lengths[source.id]
        span = rng.randint(40, 600)
        start = rng.randrange(0, length - span)
        rows.append(
            Coding(
                source=source, code=rng.choice(leaves), start=start, end=start + span,
                coder=rng.choice((lead, second)), codebook_version=version, is_simulated=True,
            )
        )  # fmt: skip
    Coding.objects.bulk_create(rows, batch_size=5000)
    del rows
    results["setup"] = {
        "codes": Code.objects.filter(study=study).count(),
        "cases": Case.objects.filter(study=study).count(),
        "codings": Coding.objects.filter(source__study=study).count(),
        "bulk_coding_seconds": round(time.perf_counter() - started, 2),
    }
    print(f"setup: {results['setup']}", file=sys.stderr)

    # 3. One coding, as the coding view applies it.
    def apply_one():
        source = rng.choice(sources)
        start = rng.randrange(0, lengths[source.id] - 200)
        return [actions.apply_coding(
            source=source, code=rng.choice(leaves), start=start, end=start + 150, coder=second
        )]  # fmt: skip

    results["apply_coding"] = timed_runs(apply_one, args.apply_runs)
    print(f"apply_coding: {results['apply_coding']}", file=sys.stderr)

    # 4. Queries.
    runs = args.query_runs
    queries_measured = {
        "segments_for_code (one code)": lambda: queries.segments_for_code(
            study, leaves[0], include_subcodes=False
        ),
        "segments_for_code (theme with 5 sub-codes)": lambda: queries.segments_for_code(
            study, parents[0]
        ),
        "segments_for_code (one code, case attribute area = North)": lambda: (
            queries.segments_for_code(
                study, leaves[1], case_filters={"attributes": {"area": "North"}}
            )
        ),
        "matrix_coding (50 sites × 8 themes, segments)": lambda: (
            queries.matrix_coding(study, parents, "cases", case_kind="site", count="segments").rows
        ),
        "matrix_coding (area × 8 themes, characters)": lambda: (
            queries.matrix_coding(
                study, parents, "attribute", attribute="area", count="characters"
            ).rows
        ),
        "cooccurrence (8 themes)": lambda: queries.cooccurrence(study, parents).pairs,
        "search_text (common phrase, first 500 hits)": lambda: queries.search_text(
            study, "governing body"
        ),
        "search_text (absent word)": lambda: queries.search_text(study, "zeugma"),
    }
    results["queries"] = {}
    for label, function in queries_measured.items():
        results["queries"][label] = timed_runs(function, runs)
        print(f"{label}: {results['queries'][label]}", file=sys.stderr)

    # 5. Export.
    started, started_cpu = time.perf_counter(), time.process_time()
    qdpx = export_qdpx(study, out / f"casework-bench-{connection.vendor}.qdpx", actor=lead)
    results["export"] = {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - started_cpu, 2),
        "load_average_after": load_average(),
        "bytes": qdpx.stat().st_size,
    }
    print(f"export: {results['export']}", file=sys.stderr)
    return results


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def markdown(results: dict) -> str:
    tri = results["triangulum"]
    lines = [
        "| measure | wall | CPU (this process) | target |",
        "| --- | --- | --- | --- |",
    ]
    imp = tri["import"]
    lines.append(
        f"| import {imp['files']} .txt, action per file | {imp['seconds']} s | "
        f"{imp['cpu_seconds']} s | |"
    )
    cli = tri["import_cli"]
    lines.append(
        f"| import {cli['files']} .txt, `triangulum source import` | {cli['seconds']} s | | |"
    )
    if "taguette" in results:
        tag = results["taguette"]
        tag_cpu = tag.get("cpu_seconds")
        lines.append(
            f"| import {tag['files']} .html, Taguette {tag['taguette_version']} | "
            f"{tag['seconds']:.1f} s | {f'{tag_cpu:.2f} s' if tag_cpu else ''} | |"
        )
        cpu_ratio = f"{tag_cpu / imp['cpu_seconds']:.1f}×" if tag_cpu else ""
        lines.append(
            f"| Taguette ÷ Triangulum (action / CLI) | {tag['seconds'] / imp['seconds']:.1f}× / "
            f"{tag['seconds'] / cli['seconds']:.1f}× | {cpu_ratio} | ≥ 2× |"
        )
    if "apply_coding" not in tri:
        lines.append(f"| peak memory (ru_maxrss) | {results['peak_rss_mib']:.0f} MiB | | |")
        return "\n".join(lines)
    ap = tri["apply_coding"]
    lines.append(
        f"| apply one coding, p50 / p95 | {ap['p50_ms']} / {ap['p95_ms']} ms | "
        f"{ap['cpu_p50_ms']} / {ap['cpu_p95_ms']} ms | < 10 ms |"
    )
    for label, q in tri["queries"].items():
        lines.append(
            f"| {label}, p50 / p95 | {q['p50_ms']} / {q['p95_ms']} ms | "
            f"{q['cpu_p50_ms']} / {q['cpu_p95_ms']} ms | p95 < 200 ms |"
        )
    ex = tri["export"]
    lines.append(
        f"| .qdpx export ({ex['bytes'] / 1e6:.1f} MB) | {ex['seconds']} s | "
        f"{ex['cpu_seconds']} s | < 30 s |"
    )
    lines.append(f"| peak memory (ru_maxrss) | {results['peak_rss_mib']:.0f} MiB | | < 1024 MiB |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--words", type=int, default=8000)
    parser.add_argument("--codings", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--apply-runs", type=int, default=200)
    parser.add_argument("--query-runs", type=int, default=30)
    parser.add_argument("--database-url", help="PostgreSQL URL (its name must contain 'bench')")
    parser.add_argument("--out", type=Path, default=HERE / "output" / "casework")
    parser.add_argument("--skip-taguette", action="store_true")
    parser.add_argument(
        "--import-only", action="store_true", help="time the imports (and Taguette's) only"
    )
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    corpus = out / "corpus"
    started = time.perf_counter()
    paths = write_corpus(corpus, args.documents, args.words, args.seed)
    print(f"corpus: {len(paths)} simulated transcripts in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)  # fmt: skip
    results: dict = {
        "machine": machine(),
        "parameters": {k: v for k, v in vars(args).items() if k not in {"out", "database_url"}},
    }
    if not args.skip_taguette:
        results["taguette"] = run_taguette(corpus, out)
        print(f"taguette: {results['taguette']}", file=sys.stderr)
    folder = Path(tempfile.mkdtemp(prefix="casework-bench-", dir=out))
    results["database"] = setup_django(args.database_url, folder)
    results["triangulum"] = run_triangulum(args, paths, out)
    results["peak_rss_mib"] = round(peak_rss_mib(), 1)
    suffix = "-import" if args.import_only else ""
    target = out / f"casework-results-{results['database']}{suffix}.json"
    target.write_text(json.dumps(results, indent=2))
    print(markdown(results))
    print(f"\n(results in {target})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
