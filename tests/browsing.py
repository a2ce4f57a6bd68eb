"""A real headless Chromium (the OS's), driven by Playwright, for the tests of web pages.

Importing this skips the importing test module, with the reason, where Chromium or
Playwright is missing (``.ci/run`` installs Chromium from Debian's packages);
Playwright never downloads a browser here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    pytest.skip("Chromium is not installed (apt-get install -y chromium chromium-driver)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
expect = sync_api.expect


class Console:
    """Everything the page reported: console errors, uncaught exceptions, dialogs, requests."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.bytes = 0
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", self._count)

    def _count(self, response: Any) -> None:
        length = response.headers.get("content-length")
        self.bytes += int(length) if length else 0


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium, closed afterwards."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def new_tab(browser: Any, height: int, timeout_ms: int) -> Iterator[Any]:
    """A page in a fresh browser context 1300 pixels wide, closed afterwards.

    Args:
        browser: from :func:`chromium`.
        height: the viewport's height in pixels.
        timeout_ms: Playwright's default timeout for the page's waits.
    """
    context = browser.new_context(viewport={"width": 1300, "height": height})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    yield page
    context.close()
