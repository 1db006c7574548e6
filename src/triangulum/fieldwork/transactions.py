"""The write transaction the interviewer console uses: on SQLite, writers queue in Python.

SQLite lets one writer in at a time. A server thread that finds the write lock taken is
put to sleep by SQLite's busy handler, which backs off (1, 2, 5, … up to 100 ms between
tries) however soon the lock is released; under 50 interviewers the sleeps, not the work,
made most of the slow answers. Threads of one server process therefore wait their turn
on a lock here, and the next one is woken the moment the previous commits. Other
processes (a command-line import, a second server) still meet SQLite's own wait, which
stays the safety net; PostgreSQL takes row locks and needs none of this.

A thread already inside a transaction is not made to wait (it may hold SQLite's lock,
which the lock holder here could be waiting for), so the lock can never deadlock.
See docs/adr/0026-console-writes-and-reads-under-load.md.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

_sqlite_writer = threading.Lock()


@contextmanager
def write_transaction() -> Iterator[None]:
    """``transaction.atomic()``, entered one thread at a time on SQLite."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with _sqlite_writer, transaction.atomic():
        yield
