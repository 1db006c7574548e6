"""Load benchmark for the telephone console: simulated interviewers against a served app.

Not a test. For each database it builds a fresh folder (``triangulum init`` plus a wave
of telephone cases on the short test form), starts ``triangulum serve`` on loopback, and
runs N simulated interviewers for a fixed time. Each interviewer presses "Next", opens
the case, opens the questionnaire, answers every question it is shown (a page load after
each answer, as a browser would) and completes the interview, then starts again.

It reports requests per second, latency percentiles, errors, and *answers lost*: every
answer the server acknowledged (HTTP 302 after the save) is looked up in the database at
the end, and any missing or different one counts as lost. So that a slow result can be
told apart from a starved client or a busy machine, it also reports the CPU time the
server process and this client process spent per request, and the load average.

    .venv/bin/python bench/fieldwork_load.py --database both --seconds 120
    .venv/bin/python bench/fieldwork_load.py --database sqlite --seconds 120 --think 0
    (PostgreSQL: a fresh database "triangulum_bench" is created on --postgres-url.)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from triangulum.fieldwork.tests import served  # noqa: E402

BASE = f"/studies/{served.STUDY}/fieldwork"
PATH_FIELD = 'name="path" value="'


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.acknowledged: dict[tuple[int, str], str] = {}
        self.completed = 0

    think = 0.0

    def timed(self, client, label, method, path, fields=None):
        if self.think and label != "question":
            # An interviewer's pause before acting (reading, listening, typing); a page
            # load after a redirect follows at once, as in a browser.
            time.sleep(random.uniform(0, 2 * self.think))
        started = time.perf_counter()
        try:
            status, headers, body = client.request(method, path, fields)
        except Exception as error:  # noqa: BLE001 - every failure is counted, not raised
            with self.lock:
                self.errors.append(f"{label}: {type(error).__name__}: {error}")
            return None, {}, ""
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[label].append(elapsed)
            if status >= 400:
                self.errors.append(f"{label}: HTTP {status}")
        return status, headers, body


def answer_for(path: str, body: str, rng: random.Random) -> str | list[str]:
    name = path.rsplit("/", 1)[-1]
    if name == "clinical_lead":
        return rng.choice(["yes", "no"])
    if name == "lead_area":
        return rng.choice(["Diabetes", "Respiratory", "Mental health"])
    if name == "years_on_board":
        return str(rng.randint(0, 15))
    if name == "topics":
        return rng.sample(["finance", "quality", "workforce"], k=rng.randint(1, 2))
    if name == "influence":
        return str(rng.randint(1, 5))
    return rng.choice(["", "More support from the CCG would help."])


def interviewer(client, deadline, recorder: Recorder, seed: int):
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        status, headers, _ = recorder.timed(client, "next", "POST", f"{BASE}/waves/1/next/")
        case = served.case_from_location(headers.get("Location") if headers else None)
        if case is None:
            recorder.timed(client, "console", "GET", f"{BASE}/waves/1/console/")
            time.sleep(0.5)
            continue
        recorder.timed(client, "case", "GET", f"{BASE}/cases/{case}/")
        ask = f"{BASE}/cases/{case}/ask/"
        status, _, body = recorder.timed(client, "question", "GET", ask)
        for _ in range(20):
            if status != 200 or PATH_FIELD not in body:
                break
            path = body.split(PATH_FIELD, 1)[1].split('"', 1)[0]
            if not path:  # the end page
                break
            value = answer_for(path, body, rng)
            fields = [("path", path), ("action", "save")]
            fields += [("value", v) for v in (value if isinstance(value, list) else [value])]
            status, headers, _ = recorder.timed(client, "answer", "POST", ask, fields)
            if status == 302:
                stored = " ".join(value) if isinstance(value, list) else value
                if stored:
                    with recorder.lock:
                        recorder.acknowledged[(case, path)] = stored
                location = headers.get("Location")
                status, _, body = recorder.timed(client, "question", "GET", location)
            else:
                break
        status, headers, _ = recorder.timed(
            client, "complete", "POST", ask, {"path": "", "action": "complete"}
        )
        if status == 302:
            with recorder.lock:
                recorder.completed += 1
            recorder.timed(client, "console", "GET", headers.get("Location"))


def stored_answers(directory: Path, database_url: str | None) -> dict[tuple[int, str], str]:
    code = (
        "import json,os,django; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
        "'triangulum.settings'); django.setup();"
        "from triangulum.fieldwork.models import Answer;"
        "print(json.dumps([[a, p, v] for a, p, v in "
        "Answer.objects.values_list('interview_id','item_path','value')]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=served.environment(directory, database_url),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode:
        raise RuntimeError(done.stderr)
    return {(a, p): v for a, p, v in json.loads(done.stdout.strip().splitlines()[-1])}


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float | None:
    """CPU time so far of the server process and its child processes (the workers, when
    serve runs several), or None where /proc is missing."""
    total = process_cpu_seconds(pid)
    if total is None:
        return None
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += process_cpu_seconds(int(stat.parent.name)) or 0.0
    return total


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def run(database: str, args) -> dict:
    directory = Path(tempfile.mkdtemp(prefix=f"triangulum-bench-{database}-"))
    database_url = None
    if database == "postgres":
        database_url = served.fresh_postgres(args.postgres_url, "triangulum_bench")
    names = [f"cati{n:02d}" for n in range(args.workers)]
    print(f"[{database}] building {directory} with {args.interviews} cases…", flush=True)
    served.build(
        directory, interviews=args.interviews, interviewers=names, database_url=database_url
    )
    server = served.Server(
        directory, database_url=database_url, threads=args.threads, workers=args.server_processes
    )
    server.start()
    recorder = Recorder()
    recorder.think = args.think
    try:
        # Signing in (a deliberately slow password hash) is not part of what is measured.
        clients = []
        for name in names:
            client = served.Client(server.port)
            client.sign_in(name)
            clients.append(client)
        print(f"[{database}] {args.workers} interviewers for {args.seconds} s…", flush=True)
        load_before = os.getloadavg()[0]
        server_cpu_before = server_cpu_seconds(server.process.pid)
        client_cpu_before = own_cpu_seconds()
        start_at = time.monotonic()
        deadline = start_at + args.seconds
        threads = [
            threading.Thread(target=interviewer, args=(client, deadline, recorder, n), daemon=True)
            for n, client in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 120)
        duration = time.monotonic() - start_at
        server_cpu_after = server_cpu_seconds(server.process.pid)
        client_cpu = own_cpu_seconds() - client_cpu_before
        load_after = os.getloadavg()[0]
    finally:
        server.stop()
    stored = stored_answers(directory, database_url)
    lost = [key for key, value in recorder.acknowledged.items() if stored.get(key) != value]
    every = [v for values in recorder.latencies.values() for v in values]
    server_cpu = (
        server_cpu_after - server_cpu_before
        if server_cpu_before is not None and server_cpu_after is not None
        else None
    )
    result = {
        "database": database,
        "seconds": round(duration, 1),
        "workers": args.workers,
        "server_threads": args.threads,
        "server_processes": args.server_processes or "serve's default",
        "think_seconds_mean": args.think,
        "requests": len(every),
        "requests_per_second": round(len(every) / duration, 1),
        "p50_ms": round(percentile(every, 0.50) * 1000, 1),
        "p95_ms": round(percentile(every, 0.95) * 1000, 1),
        "p99_ms": round(percentile(every, 0.99) * 1000, 1),
        "errors": len(recorder.errors),
        "answers_acknowledged": len(recorder.acknowledged),
        "answers_lost": len(lost),
        "interviews_completed": recorder.completed,
        "server_cpu_ms_per_request": (
            round(1000 * server_cpu / len(every), 2) if server_cpu is not None and every else None
        ),
        "client_cpu_ms_per_request": round(1000 * client_cpu / len(every), 2) if every else None,
        "load_average_before": round(load_before, 2),
        "load_average_after": round(load_after, 2),
        "cores": os.cpu_count(),
        "by_request": {
            label: {
                "n": len(values),
                "p50_ms": round(statistics.median(values) * 1000, 1),
                "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            }
            for label, values in sorted(recorder.latencies.items())
        },
        "first_errors": recorder.errors[:5],
    }
    print(json.dumps(result, indent=2), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--interviews", type=int, default=4000)
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause in seconds before each action (uniform 0..2×mean); 0 = flat out",
    )
    parser.add_argument(
        "--threads", type=int, default=8, help="threads per server process (serve's default)"
    )
    parser.add_argument(
        "--server-processes",
        type=int,
        default=None,
        help="server processes (default: serve's own: 1 on SQLite, one per core on PostgreSQL)",
    )
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results = [run(database, args) for database in databases]
    print(f"\n{args.workers} interviewers, {args.seconds:g} s, think time mean {args.think:g} s")
    print(
        "\n| Database | Requests/s | p50 ms | p95 ms | p99 ms | Errors | Answers acknowledged "
        "| Answers lost | Interviews completed | Server CPU ms/request | Load average |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['database']} | {r['requests_per_second']} | {r['p50_ms']} | {r['p95_ms']} "
            f"| {r['p99_ms']} | {r['errors']} | {r['answers_acknowledged']} "
            f"| {r['answers_lost']} | {r['interviews_completed']} "
            f"| {r['server_cpu_ms_per_request']} "
            f"| {r['load_average_before']}–{r['load_average_after']} |"
        )


if __name__ == "__main__":
    main()
