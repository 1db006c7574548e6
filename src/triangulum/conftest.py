import os

import pytest

from triangulum.testing import AXE_JS, CHROMIUM, chromium_available, require

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to
# run inside one unless told that this (test-only) use is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(
        chromium_available(),
        f"Chromium not found at {CHROMIUM}: browser tests need Debian's chromium "
        "(sudo apt-get install chromium) — see README, 'Running the tests'.",
    )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def axe_script():
    require(
        AXE_JS.exists(),
        f"{AXE_JS} missing: run 'npm ci' in the repository to fetch axe-core for the "
        "accessibility tests.",
    )
    return AXE_JS
