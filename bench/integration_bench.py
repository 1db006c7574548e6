"""Time every integration page of the demo study, served by ``triangulum serve``.

Not a test: run it, read the numbers, and copy them into docs/benchmarks.md.

    .venv/bin/triangulum demo --dir /tmp/intweb-demo          # once
    .venv/bin/python bench/integration_bench.py --demo-dir /tmp/intweb-demo

What it does:

1. copies the demo's SQLite database to a scratch folder (the demo is not changed);
2. lists every integration URL of the demo study from the database: the overview, the
   findings register and each finding, the convergence matrix and each theme, the
   propositions and each proposition, the joint displays, each display and its three
   downloads, the authoring pages (a new proposition, a new display, and each display's
   new-row and row pages), and the linked-cases, quantitized, cross-tab and QCA pages;
3. starts ``triangulum serve`` on a free loopback port, signs in as the demo researcher
   over HTTP, and requests each URL once to warm it, then times:
   - *build*: every URL once, in order (target: under 5 s in all);
   - *joint displays*: each display page ``--repeats`` times (target: every request
     under 300 ms), reporting median, 95th percentile and maximum;
4. counts the database queries of each display page in-process (Django's test client
   on the same copy), to show they do not grow with the display's size.

Prints a Markdown table and one JSON object (``--json FILE`` writes it too); all the
data are simulated.
"""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG = "ccg-clinical-leadership"
USER, PASSWORD = "researcher", "triangulum-demo"
BUILD_TARGET_S = 5.0
DISPLAY_TARGET_MS = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def setup_django(folder: Path) -> None:
    os.environ["TRIANGULUM_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triangulum.settings")
    os.environ.pop("TRIANGULUM_DATABASE_URL", None)
    import django

    django.setup()


def integration_urls() -> tuple[list[str], list[str]]:
    """(every integration URL of the demo study, the joint display pages among them)."""
    from django.urls import NoReverseMatch, reverse

    from triangulum.integration.models import Finding, JointDisplay, Proposition, QcaRun, Theme
    from triangulum.studies.models import Study

    study = Study.objects.get(slug=SLUG)

    def url(name, *args):
        try:
            return reverse(f"integration:{name}", args=[SLUG, *args])
        except NoReverseMatch:
            return None

    urls = [url("index"), url("findings")]
    urls += [
        url("finding", pk)
        for pk in Finding.objects.filter(study=study).values_list("pk", flat=True)
    ]
    urls.append(url("convergence"))
    urls += [
        url("convergence_theme", pk)
        for pk in Theme.objects.filter(study=study).values_list("pk", flat=True)
    ]
    urls += [url("propositions"), url("new_proposition")]
    urls += [
        url("proposition", pk)
        for pk in Proposition.objects.filter(study=study).values_list("pk", flat=True)
    ]
    urls += [url("displays"), url("new_display")]
    displays = [
        url("display", slug)
        for slug in JointDisplay.objects.filter(study=study).values_list("slug", flat=True)
    ]
    for page in displays:
        urls.append(page)
        urls += [f"{page}?format={fmt}" for fmt in ("xlsx", "docx", "html")]
    # The authoring pages of each display: a new row, and each row's cells and evidence.
    from triangulum.integration.models import JointDisplayRow

    for slug in JointDisplay.objects.filter(study=study).values_list("slug", flat=True):
        urls.append(url("new_display_row", slug))
        urls += [
            url("display_row", slug, pk)
            for pk in JointDisplayRow.objects.filter(display__study=study, display__slug=slug)
            .order_by("order", "pk")
            .values_list("pk", flat=True)
        ]
    # The linked-cases and QCA pages (views_cases), where they exist.
    from triangulum.casework.models import Case

    urls += [url("cases"), url("mixed_matrix"), url("quantitized"), url("crosstab"), url("qca")]
    if url("case", 0):
        urls += [
            url("case", pk)
            for pk in Case.objects.filter(study=study, kind="site").values_list("pk", flat=True)
        ]
    if url("qca_run", 0):
        urls += [
            url("qca_run", pk)
            for pk in QcaRun.objects.filter(study=study).values_list("pk", flat=True)
        ]
    return [u for u in urls if u], displays


def query_counts(displays: list[str]) -> dict[str, int]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.get(username=USER))
    counts = {}
    for page in displays:
        client.get(page)
        with CaptureQueriesContext(connection) as captured:
            status = client.get(page).status_code
        assert status == 200, f"{page}: {status}"
        counts[page] = len(captured.captured_queries)
    return counts


class Session:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def sign_in(self) -> None:
        form = self.opener.open(self.base + "/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode(
            {"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": html.unescape(token)}
        ).encode()
        request = urllib.request.Request(
            self.base + "/accounts/login/", data=data, headers={"Referer": self.base + "/"}
        )
        response = self.opener.open(request)
        assert response.geturl().rstrip("/") == self.base, "signing in failed"

    def get(self, path: str) -> tuple[float, int, int]:
        """(seconds to the last byte, status, bytes)."""
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path) as response:
                body = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            body, status = error.read(), error.code
        return time.perf_counter() - started, status, len(body)


def start_server(folder: Path) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    env = {**os.environ, "TRIANGULUM_DIR": str(folder)}
    env.pop("TRIANGULUM_DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = folder / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "triangulum", "serve", "--dir", str(folder), "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2)
            return server, base, log
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit("triangulum serve did not start:\n" + log.read_text()) from None
            time.sleep(0.5)


def group_of(path: str) -> str:
    """The page group of an integration URL, for the breakdown of the build time."""
    rest = path.split("/integration/", 1)[1]
    head = rest.split("/", 1)[0] or "overview"
    if "?format=" in rest:
        return "display downloads"
    return {"cases": "linked cases", "qca": "QCA"}.get(head, head)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo-dir", required=True, help="a folder built by 'triangulum demo'")
    parser.add_argument("--repeats", type=int, default=30, help="requests per display page")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    source = Path(args.demo_dir) / "triangulum.sqlite3"
    if not source.exists():
        raise SystemExit(f"{source} not found: build the demo first (triangulum demo --dir ...)")
    with tempfile.TemporaryDirectory(prefix="integration-bench-") as scratch:
        folder = Path(scratch)
        shutil.copy2(source, folder / "triangulum.sqlite3")
        # A demo built before the latest migrations is brought up to date (on the copy).
        subprocess.run(
            [sys.executable, "-m", "triangulum", "migrate", "--verbosity", "0"],
            env={**os.environ, "TRIANGULUM_DIR": str(folder)},
            cwd=ROOT,
            check=True,
        )
        setup_django(folder)
        urls, displays = integration_urls()
        if not displays:
            raise SystemExit("The demo has no joint displays: is the integration demo step in?")
        counts = query_counts(displays)
        server, base, _log = start_server(folder)
        try:
            session = Session(base)
            session.sign_in()
            for path in urls:  # warm: templates compiled, caches filled
                session.get(path)
            build = []
            started = time.perf_counter()
            for path in urls:
                seconds, status, size = session.get(path)
                build.append(
                    {"url": path, "ms": round(seconds * 1000, 1), "status": status, "bytes": size}
                )
            build_seconds = time.perf_counter() - started
            display_times = {}
            for path in displays:
                times = [session.get(path)[0] * 1000 for _ in range(args.repeats)]
                display_times[path] = {
                    "median_ms": round(statistics.median(times), 1),
                    "p95_ms": round(percentile(times, 0.95), 1),
                    "max_ms": round(max(times), 1),
                    "queries": counts[path],
                }
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    failed = [b for b in build if b["status"] != 200]
    groups: dict[str, dict] = {}
    for b in build:
        group = groups.setdefault(group_of(b["url"]), {"pages": 0, "ms": 0.0})
        group["pages"] += 1
        group["ms"] = round(group["ms"] + b["ms"], 1)
    slowest = sorted(build, key=lambda b: -b["ms"])[:5]
    worst = max(v["max_ms"] for v in display_times.values())
    summary = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "database": "SQLite (demo copy)",
        "pages": len(urls),
        "build_seconds": round(build_seconds, 2),
        "build_target_seconds": BUILD_TARGET_S,
        "build_within_target": build_seconds < BUILD_TARGET_S,
        "groups": groups,
        "failed": failed,
        "slowest": slowest,
        "displays": display_times,
        "display_worst_ms": worst,
        "display_target_ms": DISPLAY_TARGET_MS,
        "displays_within_target": worst < DISPLAY_TARGET_MS,
        "repeats": args.repeats,
    }
    print(
        f"Every integration page of the demo study ({len(urls)} URLs), served, one request each: "
        f"{build_seconds:.2f} s (target < {BUILD_TARGET_S:.0f} s)."
    )
    print()
    print("| page group | pages | total ms |")
    print("|---|---:|---:|")
    for name, group in groups.items():
        print(f"| {name} | {group['pages']} | {group['ms']} |")
    print()
    print("| joint display page | median ms | p95 ms | max ms | queries |")
    print("|---|---:|---:|---:|---:|")
    for path, v in display_times.items():
        print(
            f"| {path.rstrip('/').rsplit('/', 1)[-1]} | {v['median_ms']} | {v['p95_ms']} | {v['max_ms']} | {v['queries']} |"
        )
    print()
    print("Slowest pages: " + "; ".join(f"{b['url']} {b['ms']} ms" for b in slowest))
    if failed:
        print("FAILED: " + ", ".join(f"{b['url']} ({b['status']})" for b in failed))
    print(json.dumps(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
