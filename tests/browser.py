"""Headless Chromium for the dashboard's tests and benchmarks (Debian's, through Playwright)."""

from __future__ import annotations

import shutil
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No sandbox (root in a container), no GPU, nothing fetched in the background, and /tmp
# instead of a small /dev/shm.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium browser from a Playwright instance."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
