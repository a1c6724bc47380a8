"""Fixtures of the console tests (the module their `pytest_plugins` names): one Debian Chromium per
session driven by Playwright, a fresh context (so a fresh sessionStorage) per test, the local
system serving the console, and the `backend` the tests arrange and check through the API with.

Playwright's own browser download cannot work on these machines, so the tests launch Debian's
`chromium` (`make test` installs it when missing) with the flags this machine's closed network needs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import LAPTOP

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("CONSOLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def console(request: pytest.FixtureRequest) -> LocalSystem:
    """The local system with the console staged in web/dist/ (as `make test` stages it first)."""
    # Stage before the local system starts: it serves web/dist/ only if the folder exists then.
    built = subprocess.run(
        [sys.executable, str(ROOT / "web" / "build.py")], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, f"web/build.py failed:\n{built.stderr}"
    system: LocalSystem = request.getfixturevalue("local_system")
    index = requests.get(f"{system.api_url}/", timeout=10)
    assert index.status_code == 200 and "text/html" in index.headers["Content-Type"], (
        "the local system does not serve the console at / (was web/dist/ missing when it started?)"
    )
    return system


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `make chromium` installs Debian's (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    # the console must run under the served CSP (`default-src 'self'`) without a single violation
    opened.on("console", lambda m: "Content Security Policy" in m.text and errors.append(m.text))
    yield opened
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def backend(console: LocalSystem) -> Backend:
    """What the tests arrange and check through the API (`console/backend.py`), beside the browser."""
    return Backend(console)
