"""A relying site on panva's openid-client, run against the live provider.

openid-client is an OpenID Certified relying-party library that none of us
wrote: if it accepts our answers and refuses what it should, the provider
speaks the protocol as the certified clients expect. The node script
``rp.mjs`` is the site; the version is pinned in ``package.json`` (and
``package-lock.json``) and installed at test time into a cache folder
outside the checkout, so a fresh machine only needs node and npm.

    openid_client_modules (session: npm install into the cache, once)
      └── relying_site (the node site on 127.0.0.1, with its registered clients)
"""
from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backends import free_port

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "rp.mjs"
MANIFESTS = ("package.json", "package-lock.json")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "comptexpert-tests" / "openid-client"
START_TIMEOUT = 30
NPM_TIMEOUT = 300

PASSWORD_LABEL = "Mot de passe"
LOGIN_LABEL = "Identifiant ou adresse électronique"


def _pinned_version() -> str:
    return json.loads((HERE / "package.json").read_text())["dependencies"]["openid-client"]


def _installed_version(folder: Path) -> str | None:
    manifest = folder / "node_modules" / "openid-client" / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


@pytest.fixture(scope="session")
def openid_client_modules() -> Path:
    """The cache folder holding ``node_modules/openid-client`` at the pinned version."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: the certified relying-party tests need node 20 and npm")
    CACHE.mkdir(parents=True, exist_ok=True)
    # Two test processes may start together: one installs, the other waits.
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stale = any(not (CACHE / name).exists() or (CACHE / name).read_bytes() != (HERE / name).read_bytes()
                    for name in MANIFESTS)
        if stale or _installed_version(CACHE) != _pinned_version():
            for name in MANIFESTS:
                shutil.copyfile(HERE / name, CACHE / name)
            result = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=CACHE, capture_output=True,
                                    text=True, timeout=NPM_TIMEOUT)
            if result.returncode != 0:
                pytest.fail(f"npm install of openid-client failed:\n{result.stdout}\n{result.stderr}")
        assert _installed_version(CACHE) == _pinned_version()
    return CACHE


@dataclass
class RelyingSite:
    """The node site: its address, its registered clients, and what it printed."""

    url: str
    client: object
    secret: str
    other_client: object
    process: subprocess.Popen
    lines: "queue.Queue[str]"
    stderr: list[str] = field(default_factory=list)

    @property
    def callback(self) -> str:
        return self.url + "/callback"

    @property
    def logged_out(self) -> str:
        return self.url + "/logged-out"

    def start_url(self, mode: str = "full", **params) -> str:
        from urllib.parse import urlencode

        return f"{self.url}/start?" + urlencode({"mode": mode, **params})

    def output(self) -> str:
        """What the site wrote to stderr so far (for failure messages)."""
        return "".join(self.stderr)

    # -- driving the browser through the provider's real pages ---------------------
    @staticmethod
    def log_in(page, user) -> None:
        """Fill and submit the provider's login page."""
        page.get_by_label(LOGIN_LABEL).fill(user.email)
        page.get_by_label(PASSWORD_LABEL).fill(user.password)
        page.get_by_role("button", name="Se connecter").click()

    @staticmethod
    def consent(page) -> None:
        """Accept on the provider's consent page."""
        page.get_by_role("button", name="Autoriser").click()

    def report(self, page) -> dict:
        """The JSON report the site shows on its callback page."""
        page.wait_for_url(self.callback + "?**")
        return json.loads(page.locator("#report").text_content())

    def sign_in(self, page, user, mode: str, **params) -> dict:
        """Start scenario ``mode``, log in and consent through the pages; return the site's report."""
        page.goto(self.start_url(mode, **params))
        self.log_in(page, user)
        self.consent(page)
        return self.report(page)


def _pump(stream, sink) -> None:
    for line in stream:
        sink(line)


def start_relying_site(modules: Path, issuer: str, port: int, client, secret: str, other_client,
                       other_secret: str) -> RelyingSite:
    """Run ``rp.mjs`` on ``port`` for the registered ``client``; wait until it has done discovery."""
    env = {
        **os.environ,
        "RP_ISSUER": issuer,
        "RP_PORT": str(port),
        "RP_CLIENT_ID": client.client_id,
        "RP_CLIENT_SECRET": secret,
        "RP_OTHER_CLIENT_ID": other_client.client_id,
        "RP_OTHER_CLIENT_SECRET": other_secret,
        "RP_MODULES": str(modules),
    }
    process = subprocess.Popen(["node", str(SCRIPT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, bufsize=1)
    lines: queue.Queue[str] = queue.Queue()
    site = RelyingSite(f"http://127.0.0.1:{port}", client, secret, other_client, process, lines)
    threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, site.stderr.append), daemon=True).start()
    ready = ""
    for _ in range(START_TIMEOUT * 5):  # until READY, or the process died (a failed discovery, a taken port)
        try:
            ready = lines.get(timeout=0.2)
            break
        except queue.Empty:
            if process.poll() is not None:
                break
    if not ready.startswith("READY "):
        stop(process)
        pytest.fail(f"the openid-client site did not start: {ready!r}\n{site.output()}")
    return site


def stop(process: subprocess.Popen) -> None:
    """End the node process we started (SIGTERM, then SIGKILL)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def relying_site(live, factories, openid_client_modules) -> RelyingSite:
    """The openid-client site, registered as a third-party client (consent asked), running on a free port.

    A second registered client plays another site of the federation, for the
    cross-client attacks.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client, secret = factories.client(
        name="Site partenaire (openid-client)", redirect_uris=[base + "/callback"],
        post_logout_redirect_uris=[base + "/logged-out"], grant_types=["authorization_code", "refresh_token"],
        first_party=False,
    )
    other_client, other_secret = factories.client(name="Autre site", first_party=False)
    site = start_relying_site(openid_client_modules, live.url, port, client, secret, other_client, other_secret)
    yield site
    stop(site.process)
    # Shown by pytest when the test failed: what the node side complained about.
    sys.stderr.write(site.output())
