"""How many server processes ``triangulum serve`` starts, and what it refuses.

(The served fieldwork tests run the server itself: on PostgreSQL with several processes,
and their crash test kills all of them at once.)
"""

import os

import pytest

from triangulum.core.commands import CommandError
from triangulum.core.management.commands.serve import Command

SQLITE = {"ENGINE": "django.db.backends.sqlite3", "NAME": "triangulum.sqlite3"}
POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "triangulum"}


def test_sqlite_is_served_by_one_process_by_default():
    assert Command()._workers(SQLITE, None) == 1


def test_postgresql_is_served_by_a_process_per_core_up_to_four_by_default():
    assert Command()._workers(POSTGRES, None) == max(1, min(os.cpu_count() or 1, 4))


def test_postgresql_takes_the_number_of_processes_asked_for():
    assert Command()._workers(POSTGRES, 3) == 3
    assert Command()._workers(POSTGRES, 1) == 1


def test_several_processes_on_sqlite_are_refused_with_the_reason():
    with pytest.raises(CommandError, match="needs PostgreSQL") as refused:
        Command()._workers(SQLITE, 2)
    assert "--workers 1" in str(refused.value)


def test_no_processes_is_refused():
    with pytest.raises(CommandError, match="at least 1"):
        Command()._workers(POSTGRES, 0)
