"""The console's write transaction: one writer at a time per process on SQLite, no deadlock.

The served concurrency and crash tests run it for real (a separate server process on
SQLite); these tests pin its two rules with a stand-in connection, because a test
database wraps every test in a transaction, where the queue is (rightly) skipped.
"""

import contextlib
import threading
import time
from types import SimpleNamespace

import pytest

from triangulum.fieldwork import transactions


@pytest.fixture
def stand_in(monkeypatch):
    connection = SimpleNamespace(vendor="sqlite", in_atomic_block=False)
    monkeypatch.setattr(transactions, "connection", connection)
    monkeypatch.setattr(transactions.transaction, "atomic", contextlib.nullcontext)
    return connection


def test_sqlite_writers_in_one_process_take_turns(stand_in):
    inside = []
    overlaps = []
    guard = threading.Lock()

    def write(name):
        with transactions.write_transaction():
            with guard:
                if inside:
                    overlaps.append((name, list(inside)))
                inside.append(name)
            time.sleep(0.02)
            with guard:
                inside.remove(name)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert overlaps == []


def test_a_thread_already_in_a_transaction_does_not_wait(stand_in):
    # It may hold SQLite's write lock, which the queue's holder could be waiting for.
    stand_in.in_atomic_block = True
    entered = threading.Event()

    def write():
        with transactions.write_transaction():
            entered.set()

    with transactions._sqlite_writer:  # another thread's turn
        worker = threading.Thread(target=write)
        worker.start()
        worker.join(timeout=5)
        assert entered.is_set()


def test_postgresql_writers_do_not_queue(stand_in):
    stand_in.vendor = "postgresql"
    with transactions._sqlite_writer:
        done = threading.Event()

        def write():
            with transactions.write_transaction():
                done.set()

        worker = threading.Thread(target=write)
        worker.start()
        worker.join(timeout=5)
        assert done.is_set()
