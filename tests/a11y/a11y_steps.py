"""axe-core in a real Chromium: install it once per machine, run it on a page, say what it found.

axe-core comes from the npm registry at the version pinned in ``package.json``
(next to this file), installed into a cache folder outside the repository
(``~/.cache/comptexpert-tests/axe-core``, or ``$IDP_TEST_CACHE/axe-core``), so
the checkout holds no vendored copy and a second run installs nothing.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from browser import screenshot

PACKAGE = Path(__file__).with_name("package.json")
CACHE = Path(os.environ.get("IDP_TEST_CACHE") or Path.home() / ".cache" / "comptexpert-tests") / "axe-core"
# WCAG 2.0 and 2.1, levels A and AA: labels and names of controls, colour contrast, language of the page,
# structure of tables and lists, ARIA attributes. Best practices outside WCAG are not asked for.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pinned_version() -> str:
    return json.loads(PACKAGE.read_text())["dependencies"]["axe-core"]


def installed_version() -> str | None:
    manifest = CACHE / "node_modules" / "axe-core" / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


def install_axe() -> Path:
    """The path of ``axe.min.js`` at the pinned version, installed with npm when missing or stale."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".install.lock", "w") as lock:
        # Test workers (pytest-xdist) share the cache: one installs, the others wait for it.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed_version() != pinned_version():
            npm = shutil.which("npm")
            if not npm:
                pytest.fail("npm is missing: run `bash .ci/system-packages` (make test does it)")
            shutil.copyfile(PACKAGE, CACHE / "package.json")
            done = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=CACHE,
                                  capture_output=True, text=True, timeout=600)
            if done.returncode != 0 or installed_version() != pinned_version():
                pytest.fail(f"npm could not install axe-core {pinned_version()} into {CACHE}:\n{done.stderr}")
    return CACHE / "node_modules" / "axe-core" / "axe.min.js"


def describe(violations: list[dict]) -> list[str]:
    """One line per element that breaks a rule: rule, impact, what is wrong, where."""
    return [f"{v['id']} ({v['impact']}): {v['help']} — {' '.join(map(str, node['target']))}: "
            f"{node.get('failureSummary', '').splitlines()[-1].strip() if node.get('failureSummary') else ''}"
            for v in violations for node in v["nodes"]]


def check(page, axe_script: Path, name: str) -> list[str]:
    """Screenshot the page as it is, run axe-core on it, and return its violations (empty when none)."""
    page.wait_for_load_state("load")
    screenshot(page, name)
    page.add_script_tag(path=str(axe_script))
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return describe(results["violations"])


def open_in(page, locale: str, path: str):
    """Choose the language with the pages' own switch, then open ``path``."""
    page.goto(f"/langue/{locale}?next={quote(path, safe='/')}")
    assert page.locator("html").get_attribute("lang") == locale
    return page


def share_login(page, base_url: str, browser) -> None:
    """Give the Chromium context the cookies of a ``flows.Browser`` that has logged in over HTTP."""
    page.context.add_cookies([{"name": c.name, "value": c.value, "url": base_url} for c in browser.http.cookies])
