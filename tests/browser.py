"""Headless Debian Chromium driven by playwright's Python API, never a downloaded browser."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"

# Keep the browser off the network except for the pages it is sent to.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@contextmanager
def chromium(proxy: str | None = None) -> Iterator[Any]:
    """A playwright Browser on /usr/bin/chromium; skips the test when it is not installed.

    With ``proxy`` (``http://127.0.0.1:PORT``) every request not for 127.0.0.1 goes through it,
    from pages, workers and service workers alike (see tests/refusingproxy.py).
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run ./scripts/system-packages as root (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        args = [*CHROMIUM_ARGS, f"--proxy-server={proxy}", "--proxy-bypass-list=127.0.0.1"] if proxy else CHROMIUM_ARGS
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def artifact_path(name: str) -> Path:
    """Where a test keeps a screenshot or log for people to look at (tests/artifacts/, git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
