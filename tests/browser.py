"""Headless Chromium (Debian's package, driven by Playwright) for the report tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which("chromium") is not None


needs_chromium = pytest.mark.skipif(
    not browser_available(), reason="Debian chromium not installed (run scripts/ci-system-deps.sh as root)"
)


@contextmanager
def chromium_page(profile: Path, requests: list[str]) -> Iterator[Any]:
    """A fresh page in a headless Chromium; every URL it requests is appended to ``requests``."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = CHROMIUM if Path(CHROMIUM).is_file() else str(shutil.which("chromium"))
    with sync_api.sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            args=ARGS,
            headless=True,
            viewport={"width": 1200, "height": 900},
        )
        try:
            page = ctx.new_page()
            page.on("request", lambda r: requests.append(r.url))
            yield page
        finally:
            ctx.close()
