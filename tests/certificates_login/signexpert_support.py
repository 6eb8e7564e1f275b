"""A certificate holder's browser, and the two ways the certificate reaches the provider.

    Front        a TLS origin that asks for client certificates: a real nginx
                 running deploy/nginx-signexpert.conf, or the direct TLS listener
    holder(...)  a flows.Browser whose TLS connections present one of the test
                 PKI's certificates (requests, cert=(cert, key)), trusting the
                 test server CA
    certificate_login(...)  the SIGNEXPERT login as a person does it: open the
                 page (the handshake presents the certificate), press the button
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests

from backends import free_port
from flows import Browser, csrf_of, query_of

REPO = Path(__file__).resolve().parents[2]
SHIPPED_NGINX_CONF = REPO / "deploy" / "nginx-signexpert.conf"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")


@dataclass
class Front:
    """A TLS origin in front of the live provider."""

    name: str
    url: str
    server_ca: Path

    @property
    def login_url(self) -> str:
        return self.url + "/login/certificat"


class HolderBrowser(Browser):
    """A browser with (or without) a client certificate; cookies are shared by every port of 127.0.0.1."""

    def __init__(self, base_url: str, front: Front, leaf=None):
        super().__init__(base_url)
        self.front = front
        # Not the environment's CA bundle (REQUESTS_CA_BUNDLE would win over
        # Session.verify), nor its proxies: only the test server CA.
        self.http.trust_env = False
        self.http.verify = str(front.server_ca)
        if leaf is not None:
            self.http.cert = (str(leaf.cert), str(leaf.key))

    def post_form(self, page: requests.Response, url: str, data: dict | None = None) -> requests.Response:
        """Submit a form of ``page`` the way a browser does: its CSRF token, and the page as Referer.

        The certificate pages send ``Referrer-Policy: same-origin``; over
        HTTPS, Flask-WTF refuses a POST without a same-origin Referer.
        """
        assert page.headers.get("Referrer-Policy") == "same-origin", page.headers
        return self.post(url, data={"csrf_token": csrf_of(page.text), **(data or {})},
                         headers={"Referer": page.url})


def holder(live, front: Front, leaf=None) -> HolderBrowser:
    return HolderBrowser(live.url, front, leaf)


def interaction_of(page: requests.Response) -> str | None:
    """The pending authorization request the login page carries, if any."""
    return query_of(page.url).get("interaction")


def open_certificate_page(browser: HolderBrowser, interaction: str | None = None) -> requests.Response:
    url = browser.front.login_url + ("?" + urlencode({"interaction": interaction}) if interaction else "")
    return browser.get(url)


def certificate_login(browser: HolderBrowser, interaction: str | None = None) -> requests.Response:
    """Open the certificate page, press « Se connecter avec ce certificat »; the answer, unfollowed."""
    page = open_certificate_page(browser, interaction)
    assert page.status_code == 200, unescape(page.text)[:800]
    return browser.post_form(page, browser.front.login_url, {"interaction": interaction or ""})


def text_of(response: requests.Response) -> str:
    """The page with entities decoded, for comparing French sentences."""
    return unescape(response.text)


# -- nginx -----------------------------------------------------------------------------------

def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return next((path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None)


def render_shipped_config(*, port: int, upstream_port: int, server_cert: Path, server_key: Path,
                          ca_bundle: Path) -> str:
    """deploy/nginx-signexpert.conf with this machine's ports and files; every replaced line must exist."""
    text = SHIPPED_NGINX_CONF.read_text()
    replacements = {
        "listen 8443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "listen [::]:8443 ssl;": "",
        "/etc/comptexpert/tls/fullchain.pem": str(server_cert),
        "/etc/comptexpert/tls/privkey.pem": str(server_key),
        "/etc/comptexpert/signexpert-ca.pem": str(ca_bundle),
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
    }
    for shipped, local in replacements.items():
        assert shipped in text, f"deploy/nginx-signexpert.conf no longer contains {shipped!r}: update the test"
        text = text.replace(shipped, local)
    return text


class Nginx:
    """A real nginx in the foreground, configured in its own directory."""

    def __init__(self, binary: str, directory: Path, server_config: str, port: int):
        self.directory = directory
        self.port = port
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (directory / name).mkdir(exist_ok=True)
        (directory / "signexpert.conf").write_text(server_config)
        temp_paths = "\n".join(f"    {name}_temp_path {directory / name};"
                               for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (directory / "nginx.conf").write_text(f"""\
daemon off;
master_process off;
worker_processes 1;
pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'} info;
events {{ worker_connections 256; }}
http {{
    access_log {directory / 'access.log'};
{temp_paths}
    include {directory / 'signexpert.conf'};
}}
""")
        self.process = subprocess.Popen(
            [binary, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", str(directory / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 15.0) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.port}:\n{self.log()}")

    def log(self) -> str:
        path = self.directory / "error.log"
        stderr = self.process.stderr.read().decode(errors="replace") if self.process.poll() is not None else ""
        return stderr + (path.read_text(errors="replace") if path.exists() else "")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stderr:
            self.process.stderr.close()


def start_nginx(directory: Path, *, upstream_url: str, files) -> tuple[Nginx, Front]:
    binary = nginx_binary()
    if binary is None:
        # Not a skip: the certificate login is only tested through a real
        # nginx, and .ci/system-packages installs it.
        raise RuntimeError("nginx is not installed: run `bash .ci/system-packages` (apt-get install nginx-light)")
    port = free_port()
    config = render_shipped_config(port=port, upstream_port=urlsplit(upstream_url).port,
                                   server_cert=files.server_cert, server_key=files.server_key,
                                   ca_bundle=files.ca_bundle)
    server = Nginx(binary, directory, config, port)
    return server, Front("nginx", f"https://127.0.0.1:{port}", files.server_ca)
