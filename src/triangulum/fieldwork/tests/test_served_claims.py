"""Concurrency: 20 interviewers press "Next" at the same moment against a served app.

Each worker is a separate HTTP session; the server (``triangulum serve``, waitress with
24 threads) runs each request in its own thread with its own database connection, on a
file SQLite database — or on PostgreSQL when TRIANGULUM_DATABASE_URL is set. So the claim
is exercised exactly as in the field: no interview may be handed out twice.
"""

import os
import threading
from collections import Counter

import pytest

from . import served

WORKERS = 20
DUE_CASES = 12  # fewer than the workers: 8 must be told that nothing is due


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fieldwork-claims")
    database_url = None
    if url := os.environ.get("TRIANGULUM_DATABASE_URL"):
        database_url = served.fresh_postgres(url, "triangulum_fieldwork_claims")
    names = [f"int{n:02d}" for n in range(WORKERS)]
    served.build(directory, interviews=DUE_CASES, interviewers=names, database_url=database_url)
    server = served.Server(directory, database_url=database_url, threads=WORKERS + 4)
    server.start()
    yield server, names
    server.stop()


def test_twenty_simultaneous_claims_never_share_an_interview(site):
    server, names = site
    clients = []
    for name in names:
        client = served.Client(server.port)
        client.sign_in(name)
        clients.append(client)
    start = threading.Barrier(len(clients))
    results: dict[str, tuple[int, int | None]] = {}

    def claim(name, client):
        start.wait()
        status, headers, _ = client.request(
            "POST", f"/studies/{served.STUDY}/fieldwork/waves/1/next/"
        )
        results[name] = (status, served.case_from_location(headers.get("Location")))

    threads = [
        threading.Thread(target=claim, args=pair) for pair in zip(names, clients, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == WORKERS, server.log_text()
    assert all(status == 302 for status, _ in results.values()), results
    claimed = [case for _, case in results.values() if case is not None]
    duplicates = [case for case, n in Counter(claimed).items() if n > 1]
    assert not duplicates, f"handed out twice: {duplicates}"
    assert len(claimed) == DUE_CASES
    # Each claimant can open its case; nobody else can.
    owner = {case: name for name, (_, case) in results.items() if case is not None}
    by_name = dict(zip(names, clients, strict=True))
    some_case, its_owner = next(iter(owner.items()))
    other = next(n for n in names if n != its_owner)
    path = f"/studies/{served.STUDY}/fieldwork/cases/{some_case}/"
    assert by_name[its_owner].request("GET", path)[0] == 200
    assert by_name[other].request("GET", path)[0] == 404
