"""A real Chromium (Debian's), driven by Playwright through ``executable_path``.

Screenshots go to ``test-artifacts/screenshots/`` (or ``$IDP_TEST_ARTIFACTS``),
listed at the end of the run so that a person can look at them.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(os.environ.get("IDP_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
taken: list[Path] = []


def chromium_path() -> str:
    path = os.environ.get("IDP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is missing: run `bash .ci/system-packages` (make test does it)")
    return path


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot named after the test and ``name``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.environ.get("PYTEST_CURRENT_TEST", "test").split(" ")[0])
    path = SCREENSHOTS / f"{test}--{name}.png"
    page.screenshot(path=str(path), full_page=True)
    taken.append(path)
    return path
