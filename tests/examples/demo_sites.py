"""The two demo relying sites of examples/ as real processes, pointed at the live provider."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


@dataclass
class DemoSite:
    """One site of examples/ (``directory``) running as ``client_id`` for ``resource`` on ``port``."""

    directory: str
    client_id: str
    resource: str
    port: int
    issuer: str
    log_path: Path
    process: subprocess.Popen | None = None
    client: object = None  # the registered client, once registered

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_uri(self) -> str:
        return self.url + "/comptexpert/events"

    @property
    def client_secret(self) -> str:
        return f"test-secret-{self.client_id}-0123456789abcdefghijklmnop"

    def start(self) -> "DemoSite":
        env = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
        env.update(
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "rp"), env.get("PYTHONPATH")])),
            COMPTEXPERT_ISSUER=self.issuer, CLIENT_ID=self.client_id, CLIENT_SECRET=self.client_secret,
            RESOURCE=self.resource, SITE_URL=self.url, PORT=str(self.port),
        )
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, str(REPO / "examples" / self.directory / "app.py")],
                                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + 60  # only keeps a broken start from hanging the run
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.directory} stopped at start-up:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.directory} did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
