"""A relying site's event endpoint and the delivery loop as a process, for the events tests.

    SiteEndpoint     a real HTTP server on 127.0.0.1 whose only route is the
                     relying-party library's EventReceiver; it can be down
                     (nothing listens on its port) and come back up
    DeliveryProcess  ``idp events deliver`` in a process of its own, pointed
                     at the live provider's database, killed and restarted at will
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# The relying-party library is imported from the source tree, as its own
# tests do: the provider's tests must not need it installed.
if str(REPO / "rp") not in sys.path:
    sys.path.append(str(REPO / "rp"))

from comptexpert_rp import EventReceiver, JWKSCache, SecurityEvent  # noqa: E402


def wait_until(predicate, what: str, timeout: float = 30.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout``.

    The bound only keeps a broken run from hanging: tests never assert on it.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


@dataclass
class Delivery:
    """One POST the site received, and what it answered."""

    content_type: str
    body: bytes
    status: int


@dataclass
class SiteEndpoint:
    """The event endpoint of one relying site (``client_id``), on a port fixed in advance."""

    issuer: str
    client_id: str
    port: int
    path: str = "/comptexpert/events"
    events: list[SecurityEvent] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def __post_init__(self):
        self.receiver = EventReceiver(self.issuer, self.client_id, JWKSCache(self.issuer + "/jwks.json"),
                                      on_event=self.events.append)
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def start(self) -> "SiteEndpoint":
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                content_type = self.headers.get("Content-Type", "")
                if self.path != endpoint.path:
                    answer = (404, b"", {})
                else:
                    response = endpoint.receiver.handle(body, content_type)
                    answer = (response.status, response.body, response.headers)
                endpoint.deliveries.append(Delivery(content_type, body, answer[0]))
                self.send_response(answer[0])
                for name, value in answer[2].items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer[1])))
                self.end_headers()
                self.wfile.write(answer[1])

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name=f"site-{self.port}").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def post(self, body: bytes, content_type: str):
        """POST to this endpoint as anyone on the network could (replays, forgeries)."""
        import requests

        return requests.post(self.url, data=body, headers={"Content-Type": content_type}, timeout=10)

    def of_kind(self, kind: str) -> list[SecurityEvent]:
        return [event for event in self.events if event.kind == kind]


class DeliveryProcess:
    """``idp events deliver`` as an operator runs it, on the live provider's database."""

    def __init__(self, app, issuer: str, directory: Path, *extra: str):
        config = app.config
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
        self.env.update(
            PYTHONUNBUFFERED="1",
            IDP_ENV="test",
            IDP_ISSUER=issuer,
            IDP_DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
            IDP_SECRET_KEY=config["SECRET_KEY"],
            IDP_KEY_ENCRYPTION_KEY=config["IDP_KEY_ENCRYPTION_KEY"],
            IDP_INSTANCE_PATH=str(directory),
            IDP_LOG_FORMAT="text",
        )
        self.args = [str(BIN / "idp"), "events", "deliver", *extra]
        self.log_path = directory / "deliver.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "DeliveryProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdout=log, stderr=log,
                                        start_new_session=True)
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything, as when a node dies."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> int:
        """SIGTERM: the loop finishes the attempt in progress and exits."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(30)

    def spawn_once(self) -> subprocess.Popen:
        """``--once --json`` without waiting: several passes may then run at the same time."""
        self.process = subprocess.Popen(self.args + ["--once", "--json"], cwd=REPO, env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        return self.process

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
