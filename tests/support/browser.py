"""Debian's Chromium driven by Playwright: how the browser tests start it and watch its console.

One browser serves the whole session (tests/serve/conftest.py); each test opens its own context,
so cookies, storage and downloads never cross between tests.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
ARGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}


def chromium_path() -> str:
    """The browser binary, or a failure that says how to install it (never a skip)."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: make system-deps"
    return CHROMIUM


def blocked_by_csp(page: Page) -> list[str]:
    """Console messages about what the Content-Security-Policy refused (filled as they come)."""
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: refused.append(str(e)))
    return refused
