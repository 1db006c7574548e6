"""Helpers for Triangulum's own tests (imported by conftest and test modules)."""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("TRIANGULUM_SHARED_DIR", REPO_ROOT.parent / "shared"))
CHROMIUM = Path(os.environ.get("TRIANGULUM_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, message: str) -> None:
    """Skip with ``message`` where a prerequisite is missing; in CI, fail instead."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{message} — CI installs this, so the test may not skip there.")
    pytest.skip(message)


def shared_path(*parts: str) -> Path:
    """A path under ../shared/, skipping (with the reason) where that folder is absent."""
    path = SHARED_DIR.joinpath(*parts)
    require(
        path.exists(),
        f"{path} is absent: these tests read real files from the workplace's shared/ folder "
        "(set TRIANGULUM_SHARED_DIR to point at it).",
    )
    return path


def chromium_available() -> bool:
    return CHROMIUM.exists() or shutil.which("chromium") is not None


def axe_violations(page, axe_script, impacts=("serious", "critical")) -> list[str]:
    """Run axe-core on the page; return the violations of the given impacts, readably."""
    page.add_script_tag(path=str(axe_script))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in impacts
    ]


@contextmanager
def demo_in_test_database(django_db_blocker, folder: Path, *, until: str | None = None):
    """Run ``triangulum demo``'s steps into the test database (up to and including the
    step named ``until``) inside one transaction that is rolled back afterwards, so a test
    module can share one built demo without leaving anything behind for other modules."""
    from django.db import transaction

    from triangulum.core.demo_registry import DemoContext, collect_steps

    context = DemoContext(directory=folder, outputs=folder / "outputs")
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            for step in collect_steps():
                step.run(context)
                if step.name == until:
                    break
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield context
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
