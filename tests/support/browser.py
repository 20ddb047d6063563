"""Headless Debian Chromium driven by Playwright: no browser download, the flags this machine needs."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

# Without the background-networking flags Chromium keeps dialling Google's hosts,
# which this closed network refuses, many at a time.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("the browser tests need Debian's chromium on PATH (./scripts/test installs it)")
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A fresh headless Chromium (Playwright gives each launch an empty profile directory)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            yield browser
        finally:
            await browser.close()


def artifact(name: str) -> Path:
    """Where a test keeps a file for people to look at afterwards (var/test-artifacts, not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
