import pytest
from django.db import transaction

from triangulum.organisations.actions import load_nhs_organisations


@pytest.fixture(scope="module")
def nhs_organisations(django_db_setup, django_db_blocker):
    """All NHS organisations, loaded once per test module inside a transaction.

    Each test (``django_db``) runs in a savepoint within this transaction, so it sees
    the loaded rows and its own changes are undone; the whole load is rolled back when
    the module ends, leaving the test database as other apps' tests expect it.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        summary = load_nhs_organisations(actor="organisations tests")
    try:
        yield summary
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
