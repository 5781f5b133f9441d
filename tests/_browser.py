"""A real browser for the web UI tests: Debian's Chromium driven by playwright.

playwright cannot download its own browsers here, so it launches the system's Chromium
(``scripts/setup-browser`` installs it; ``JAEGER_LITE_CHROMIUM`` names another binary).
Without one the browser tests skip with the reason, except under ``CI=true``, where they
fail: CI must not pass with the UI untested.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Where screenshots go (gitignored); README's picture is refreshed with UPDATE_SCREENSHOTS=1.
ARTIFACTS = Path(os.environ.get("JAEGER_LITE_ARTIFACTS", ROOT / "build" / "test-artifacts"))
DOCS = ROOT / "docs"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """The Chromium binary to drive, or '' when there is none."""
    wanted = os.environ.get("JAEGER_LITE_CHROMIUM")
    if wanted:
        return wanted if os.access(wanted, os.X_OK) else ""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return ""


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true."""
    message = f"{reason}; run scripts/setup-browser (installs Debian's chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI: {message}")
    pytest.skip(message)


def browser() -> Iterator[Any]:
    """A launched headless Chromium (a generator for a fixture)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (requirements/test.txt)")
    path = chromium_path()
    if not path:
        unavailable("no Chromium found")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


#: How long a page waits for what it looks for.
WAIT_MS = 15_000


def checked_page(chromium: Any) -> Iterator[Any]:
    """A fresh 1280x800 page whose JavaScript errors fail the test (a generator for the
    ``page`` fixture of a browser test module)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.set_default_timeout(WAIT_MS)
    yield opened
    context.close()
    assert errors == []
