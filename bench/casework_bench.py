"""Case-study workbench benchmark: 500 simulated transcripts, 100,000 codings.

Not a test: run it, read the numbers, and copy them into docs/benchmarks.md.

    .venv/bin/python bench/casework_bench.py                      # SQLite, everything
    .venv/bin/python bench/casework_bench.py --skip-taguette --reuse   # measure again
    .venv/bin/python bench/casework_bench.py --import-rounds 3    # import against Taguette
    .venv/bin/python bench/casework_bench.py --database-url postgres://postgres@127.0.0.1:5432/triangulum_bench

What it does, in order (every text is SIMULATED and says so on its first line):

1. writes N transcripts of about W words each as .txt, and the same as .html for Taguette
   (deterministic: ``--seed``);
2. imports the .txt files into a fresh study through ``casework.actions.import_source``
   called once per file — the path a researcher's upload takes (one transaction and one
   audit event per file, speaker turns recognised, original kept) — and times it, then
   the same files through ``triangulum source import`` (a new process);
3. builds a codebook (8 themes × 5 codes), cases (sites with a region, participants with
   a role) and 100,000 codings by two coders, written in bulk (setup, not timed; on
   PostgreSQL followed by VACUUM ANALYZE, as autovacuum would do);
4. times ``apply_coding`` (server time of one coding, with 100,000 stored; the codings
   it adds are deleted again afterwards), then the query functions the pages call, as
   they call them: retrieval as its paged page asks for it (``segment_page``: 50
   segments and the total, for the lead, of one code, of a theme with its sub-codes on
   the first and a middle page, and with a case filter), the whole retrieval page
   rendered through Django's test client (first and middle page) and its CSV download
   of every segment of the theme (the only whole retrieval left), the matrix coding
   query (whole results), co-occurrence and full-text search — each once with the
   queries' cache of source texts empty ("cold"), then repeated;
5. times the .qdpx export of the whole study;
6. installs Taguette (PyPI) into its own virtual environment under the output folder if
   it is not there (never into the project's .venv) and times Taguette importing the
   same documents as HTML through its own import code (``casework_taguette_import.py``);
7. reports the peak resident memory of this process (``ru_maxrss``).

``--reuse`` keeps the database built by steps 2–3 (SQLite: ``OUT/database-sqlite/``;
PostgreSQL: the named database, not dropped) and, on a later ``--reuse`` run with the
same parameters, skips straight to step 4. ``--import-rounds N`` does nothing but time
Taguette and ``triangulum source import`` back to back, N times, alternating which goes
first. Results go to ``OUT/casework-results-<database>[-import-rounds].json`` and a
Markdown table on stdout.
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


class ServerClock:
    """CPU time of the PostgreSQL backend serving this process's connection, read from
    /proc when the server runs on this machine (None otherwise, and on SQLite, whose
    work is in this process's own CPU time). Beside the client's CPU time it gives the
    work a query costs without the waits for a core that wall time includes on a
    shared machine. Linux counts it in ticks (10 ms), so it is reported as a mean."""

    def __init__(self):
        from django.db import connection

        self.path = None
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        path = Path(f"/proc/{pid}/stat")
        if path.exists():
            self.path = path
            self.tick = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float | None:
        if self.path is None:
            return None
        try:
            fields = self.path.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the connection was replaced
            self.path = None
            return None
        return (int(fields[11]) + int(fields[12])) / self.tick


def p95(values):
    ordered = sorted(values)
    return round(ordered[max(0, int(round(0.95 * len(ordered))) - 1)], 2)


def timed_runs(function, runs: int, *, cold=None) -> dict:
    """Wall-clock and CPU time of repeated calls, in milliseconds.

    CPU time (this process only) is reported beside wall time because the machine may be
    shared: on SQLite, where the database works inside this process, it is the server
    time without waiting for other processes' turn on the cores. On PostgreSQL the
    server's CPU time is added where it can be read (``ServerClock``).

    ``cold``: called before a first, separately reported call (emptying the queries'
    cache of source texts: what the first such query of a server process meets); the
    percentiles are of the ``runs`` calls after it.
    """
    clock = ServerClock()
    found: dict = {}
    if cold is not None:
        cold()
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        found["cold_ms"] = round((time.perf_counter() - started) * 1000, 2)
        found["cold_cpu_ms"] = round((time.process_time() - started_cpu) * 1000, 2)
    wall, cpu = [], []
    result = None
    server_started = clock.seconds()
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    server_ended = clock.seconds()
    found.update(
        {
            "runs": runs,
            "p50_ms": round(statistics.median(wall), 2),
            "p95_ms": p95(wall),
            "max_ms": round(max(wall), 2),
            "cpu_p50_ms": round(statistics.median(cpu), 2),
            "cpu_p95_ms": p95(cpu),
            "result_size": len(result) if hasattr(result, "__len__") else None,
        }
    )
    if server_started is not None and server_ended is not None:
        found["server_cpu_mean_ms"] = round((server_ended - server_started) * 1000 / runs, 1)
    return found


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


def setup_django(database_url: str | None, folder: Path, *, keep: bool = False) -> str:
    """Point Django at the benchmark database and migrate it. ``keep``: use the database
    as it is (PostgreSQL: not dropped; SQLite: ``folder`` is a fixed, reused folder)."""
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
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not (keep and exists):
                connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
                connection.execute(f'CREATE DATABASE "{name}"')
        os.environ["TRIANGULUM_DATABASE_URL"] = database_url
        label = "postgresql"
    else:
        os.environ.pop("TRIANGULUM_DATABASE_URL", None)
        label = "sqlite"
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["TRIANGULUM_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triangulum.settings")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return label


def run_triangulum(args, paths: list[Path], out: Path, state_file: Path | None) -> dict:
    """Build the study (import, then codebook, cases and codings) unless ``state_file``
    says an identical one is already in the database, then measure on it."""
    results: dict = {}
    wanted = {k: getattr(args, k) for k in ("documents", "words", "codings", "seed")}
    state = None
    if state_file is not None and state_file.exists():
        state = json.loads(state_file.read_text())
        if state.get("parameters") != wanted or not _study_exists(state["study"]):
            state = None
    if state is None:
        state = build_study(args, paths, results)
        state["parameters"] = wanted
        if state_file is not None and not args.import_only:
            state_file.write_text(json.dumps(state, indent=2))
    else:
        print(f"reusing the study built earlier ({state_file})", file=sys.stderr)
        results["reused"] = state
    if args.import_only:
        return results
    results.update(measure(args, state, out))
    return results


def _study_exists(slug: str) -> bool:
    from triangulum.studies.models import Study

    return Study.objects.filter(slug=slug).exists()


def build_study(args, paths: list[Path], results: dict) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from triangulum.casework import actions
    from triangulum.casework.models import Case, Code, Coding, Source
    from triangulum.studies.actions import create_study

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
        return {"study": study.slug}

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
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load on a default server (this machine's has
        # it off): planner statistics, and a visibility map for index-only scans.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    results["setup"] = {
        "codes": Code.objects.filter(study=study).count(),
        "cases": Case.objects.filter(study=study).count(),
        "codings": Coding.objects.filter(source__study=study).count(),
        "bulk_coding_seconds": round(time.perf_counter() - started, 2),
    }
    print(f"setup: {results['setup']}", file=sys.stderr)
    return {
        "study": study.slug,
        "lead": lead.username,
        "coder": second.username,
        "themes": [p.id for p in parents],
        "codes": [c.id for c in leaves],
    }


def measure(args, state: dict, out: Path) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from triangulum.casework import actions, queries
    from triangulum.casework.exchange import export_qdpx
    from triangulum.casework.models import Code, Coding, Source
    from triangulum.studies.models import Study

    results: dict = {}
    User = get_user_model()
    lead = User.objects.get(username=state["lead"])
    second = User.objects.get(username=state["coder"])
    study = Study.objects.get(slug=state["study"])
    codes = Code.objects.in_bulk(state["themes"] + state["codes"])
    parents = [codes[i] for i in state["themes"]]
    leaves = [codes[i] for i in state["codes"]]
    sources = list(Source.objects.filter(study=study).order_by("id").defer("original_bytes"))
    lengths = {s.id: len(s.text) for s in sources}
    rng = random.Random(args.seed + 2)
    stored = Coding.objects.filter(source__study=study).count()
    results["codings_stored"] = stored

    # 3. One coding, as the coding view applies it.
    applied: list[int] = []

    def apply_one():
        source = rng.choice(sources)
        start = rng.randrange(0, lengths[source.id] - 200)
        coding = actions.apply_coding(
            source=source, code=rng.choice(leaves), start=start, end=start + 150, coder=second
        )
        applied.append(coding.id)
        return [coding]

    results["apply_coding"] = timed_runs(apply_one, args.apply_runs)
    # Taken away again, so that the queries (and later runs on a kept database) see the
    # codings the study was built with.
    Coding.objects.filter(pk__in=applied).delete()
    print(f"apply_coding: {results['apply_coding']}", file=sys.stderr)

    # 4. Queries, in a process holding what a server process holds: the URL modules and
    # through them every app's views. (Python's full garbage collections walk every
    # object a process holds, and a retrieval of 12,541 segments sets them off: their
    # cost grows with what was loaded.) --gc-freeze then moves all of it out of the
    # collector's reach, as a server could after start-up.
    import gc

    from django.urls import get_resolver

    loaded = len(get_resolver().url_patterns)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    results["gc"] = {
        "url_patterns": loaded,
        "frozen": args.gc_freeze,
        "objects_tracked": len(gc.get_objects()),
    }
    runs = args.query_runs
    # Retrieval as the page asks for it (casework.views.retrieval): one page of
    # RETRIEVAL_PAGE_SIZE segments and the total, with the blind-coding rule for the user
    # asking; then the whole page (form, query, rows, template) through the test client,
    # and the CSV download of every segment, which is where a whole retrieval now goes.
    from django.test import Client
    from django.urls import reverse

    from triangulum.casework.views import RETRIEVAL_PAGE_SIZE as size

    theme_total = queries.segment_page(study, parents[0], visible_to=lead, limit=0).total
    middle = max(1, -(-theme_total // size) // 2)  # a page from the middle, 1-based
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(lead)
    page_url = reverse("casework:retrieval", args=[study.slug])
    theme_query = {"code": parents[0].pk, "include_subcodes": "on"}

    def get(query: dict) -> bytes:
        response = browser.get(page_url, query)
        if response.status_code != 200:
            raise SystemExit(f"retrieval page {query}: HTTP {response.status_code}")
        return response.content

    queries_measured = {
        "retrieval: segment_page (one code, first 50 and the total)": lambda: (
            queries.segment_page(
                study, leaves[0], include_subcodes=False, visible_to=lead, limit=size
            ).segments
        ),
        "retrieval: segment_page (theme with 5 sub-codes, first 50 and the total)": lambda: (
            queries.segment_page(study, parents[0], visible_to=lead, limit=size).segments
        ),
        f"retrieval: segment_page (theme, page {middle} and the total)": lambda: (
            queries.segment_page(
                study, parents[0], visible_to=lead, limit=size, offset=(middle - 1) * size
            ).segments
        ),
        "retrieval: segment_page (one code, case attribute area = North)": lambda: (
            queries.segment_page(
                study,
                leaves[1],
                include_subcodes=False,
                case_filters={"attributes": {"area": "North"}},
                visible_to=lead,
                limit=size,
            ).segments
        ),
        "retrieval page, rendered (theme, page 1; GET through the test client)": lambda: get(
            theme_query
        ),
        f"retrieval page, rendered (theme, page {middle}; GET through the test client)": (
            lambda: get({**theme_query, "page": middle})
        ),
        f"retrieval CSV download (theme, all {theme_total:,} segments; test client)": (
            lambda: get({**theme_query, "format": "csv"})
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
    cached = 0  # the most the queries kept in memory between calls (in the peak below)
    for label, function in queries_measured.items():
        results["queries"][label] = timed_runs(function, runs, cold=queries.clear_source_cache)
        cached = max(cached, queries._SOURCE_CACHE.size)
        print(f"{label}: {results['queries'][label]}", file=sys.stderr)
    results["source_cache_mib"] = round(cached / 2**20, 1)
    print(f"source cache, at most: {results['source_cache_mib']} MiB", file=sys.stderr)

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


def child_run(command: list[str]) -> tuple[dict, str]:
    """Run a process to its end: wall time, and its CPU time (user + system, from the
    rusage of waited-for children), with the load average before and after."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = load_average()
    started = time.perf_counter()
    done = subprocess.run(
        command, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "load_average": f"{load_before} → {load_average()}",
    }, done.stdout


def import_rounds(args, paths: list[Path], corpus: Path, out: Path) -> dict:
    """Taguette and ``triangulum source import`` on the same files, back to back, for
    ``--import-rounds`` rounds; which goes first alternates, so that a change of load
    on the shared machine falls on both alike. Each process is timed whole (start-up
    included) from outside; Taguette's own timing of its import loop (start-up not
    included: in its favour) is kept beside it."""
    from django.contrib.auth import get_user_model

    from triangulum.studies.actions import create_study

    python = taguette_python(out / "taguette-venv")
    lead, _ = get_user_model().objects.get_or_create(username="bench-lead")
    triangulum = str(Path(sys.executable).with_name("triangulum"))
    rounds = []
    for number in range(1, args.import_rounds + 1):
        slug = f"casework-bench-cli-{number}"
        create_study(actor=lead, slug=slug, title=f"CLI import round {number} (simulated)")
        ours = [
            triangulum, "source", "import", *map(str, paths),
            "--study", slug, "--kind", "interview", "--simulated",
        ]  # fmt: skip
        theirs = [
            str(python), str(HERE / "casework_taguette_import.py"), str(corpus),
            str(out / "taguette-bench.sqlite3"),
        ]  # fmt: skip
        measured = {}
        for name in ("taguette", "triangulum") if number % 2 else ("triangulum", "taguette"):
            timing, stdout = child_run(theirs if name == "taguette" else ours)
            if name == "taguette":
                inner = json.loads(stdout)
                timing["import_loop_seconds"] = round(inner["seconds"], 2)
                timing["import_loop_cpu_seconds"] = round(inner["cpu_seconds"], 2)
                timing["taguette_version"] = inner["taguette_version"]
            measured[name] = timing
        tag, tri = measured["taguette"], measured["triangulum"]
        measured["first"] = "taguette" if number % 2 else "triangulum"
        measured["ratio_wall"] = round(tag["seconds"] / tri["seconds"], 2)
        measured["ratio_cpu"] = round(tag["cpu_seconds"] / tri["cpu_seconds"], 2)
        measured["ratio_wall_taguette_loop_only"] = round(
            tag["import_loop_seconds"] / tri["seconds"], 2
        )
        rounds.append(measured)
        print(f"import round {number}: {measured}", file=sys.stderr)
    summary = {
        key: statistics.median(r[key] for r in rounds)
        for key in ("ratio_wall", "ratio_cpu", "ratio_wall_taguette_loop_only")
    }
    return {"files": len(paths), "rounds": rounds, "median": summary}


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


def import_lines(results: dict) -> list[str]:
    tri = results["triangulum"]
    lines = []
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
    return lines


def markdown(results: dict) -> str:
    tri = results["triangulum"]
    lines = [
        "| measure | wall | CPU (this process) | server CPU (mean) | cold: wall / CPU | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    if "import" in tri:
        for line in import_lines(results):  # no server or cold columns for imports
            cells = line.strip().strip("|").split("|")
            lines.append("|" + "|".join([*cells[:3], " ", " ", *cells[3:]]) + "|")
    else:
        lines.append("| (import not timed: the study built by an earlier run was reused) |||||")
    if "apply_coding" not in tri:
        lines.append(f"| peak memory (ru_maxrss) | {results['peak_rss_mib']:.0f} MiB | | | | |")
        return "\n".join(lines)

    def row(label, q, target):
        server = f"{q['server_cpu_mean_ms']} ms" if "server_cpu_mean_ms" in q else ""
        cold = f"{q['cold_ms']} / {q['cold_cpu_ms']} ms" if "cold_ms" in q else ""
        return (
            f"| {label}, p50 / p95 | {q['p50_ms']} / {q['p95_ms']} ms | "
            f"{q['cpu_p50_ms']} / {q['cpu_p95_ms']} ms | {server} | {cold} | {target} |"
        )

    lines.append(row("apply one coding", tri["apply_coding"], "< 10 ms"))
    for label, q in tri["queries"].items():
        # A download of every segment is not a page: no page target for it.
        target = "(download)" if label.startswith("retrieval CSV") else "p95 < 200 ms"
        lines.append(row(label, q, target))
    ex = tri["export"]
    lines.append(
        f"| .qdpx export ({ex['bytes'] / 1e6:.1f} MB) | {ex['seconds']} s | "
        f"{ex['cpu_seconds']} s | | | < 30 s |"
    )
    lines.append(
        f"| peak memory (ru_maxrss) | {results['peak_rss_mib']:.0f} MiB | | | | < 1024 MiB |"
    )
    return "\n".join(lines)


def rounds_markdown(found: dict) -> str:
    lines = [
        "| round | first | Taguette wall (its loop) / CPU | Triangulum wall / CPU "
        "| ratio wall (loop only) / CPU | load |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for number, r in enumerate(found["rounds"], 1):
        tag, tri = r["taguette"], r["triangulum"]
        lines.append(
            f"| {number} | {r['first']} | {tag['seconds']} s ({tag['import_loop_seconds']} s) / "
            f"{tag['cpu_seconds']} s | {tri['seconds']} s / {tri['cpu_seconds']} s | "
            f"{r['ratio_wall']}× ({r['ratio_wall_taguette_loop_only']}×) / {r['ratio_cpu']}× "
            f"| {tri['load_average']} |"
        )
    median = found["median"]
    lines.append(
        f"| median | | | | {median['ratio_wall']}× ({median['ratio_wall_taguette_loop_only']}×)"
        f" / {median['ratio_cpu']}× | |"
    )
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
    parser.add_argument(
        "--import-rounds",
        type=int,
        default=0,
        metavar="N",
        help="only compare imports: Taguette and `triangulum source import` back to back, "
        "N rounds, alternating which goes first",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() before the queries (what a server could do after start-up)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the benchmark database (SQLite: OUT/database-sqlite/; PostgreSQL: the "
        "named database, not dropped) and measure on the study built there by an earlier "
        "--reuse run with the same parameters, instead of importing and coding again",
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
    if args.import_rounds:
        folder = Path(tempfile.mkdtemp(prefix="casework-bench-import-", dir=out))
        results["database"] = setup_django(args.database_url, folder)
        results["import_rounds"] = import_rounds(args, paths, corpus, out)
        target = out / f"casework-results-{results['database']}-import-rounds.json"
        target.write_text(json.dumps(results, indent=2))
        print(rounds_markdown(results["import_rounds"]))
        print(f"\n(results in {target})", file=sys.stderr)
        return 0
    if not args.skip_taguette:
        results["taguette"] = run_taguette(corpus, out)
        print(f"taguette: {results['taguette']}", file=sys.stderr)
    keep = args.reuse and not args.import_only
    if keep:
        folder = out / ("database-postgresql" if args.database_url else "database-sqlite")
    else:
        folder = Path(tempfile.mkdtemp(prefix="casework-bench-", dir=out))
    results["database"] = setup_django(args.database_url, folder, keep=keep)
    state_file = out / f"kept-study-{results['database']}.json" if keep else None
    results["triangulum"] = run_triangulum(args, paths, out, state_file)
    results["peak_rss_mib"] = round(peak_rss_mib(), 1)
    suffix = "-import" if args.import_only else ""
    target = out / f"casework-results-{results['database']}{suffix}.json"
    target.write_text(json.dumps(results, indent=2))
    print(markdown(results))
    print(f"\n(results in {target})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
