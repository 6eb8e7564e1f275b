"""The rate-limit storage: Redis when configured, and logins that survive Redis going down."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests

from backends import free_port
from flows import Browser, csrf_of

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FALLBACK_LOG = "Rate limit storage unreachable - falling back to in-memory storage"
EMAIL = "limiter@cabinet.example"
PASSWORD = "correct horse battery staple"


def _wait_for(predicate, what: str, timeout: float = 60.0):
    """Poll until ``predicate`` holds; the bound only keeps a broken run from hanging."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class RedisServer:
    """A redis-server of this test's own, so that it can be killed."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_for(self._pings, "redis-server to answer")

    def _pings(self) -> bool:
        try:
            return self.client.ping()
        except redis.RedisError:
            return False

    def keys(self) -> list[str]:
        return [key.decode() for key in self.client.scan_iter(count=1000)]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class Provider:
    """A provider process set up and served with the ``idp`` command, as an operator does.

    Flask-Limiter's ``limiter`` is one per process: a storage other than the
    suite's (Redis, or a Redis that dies) is tried in a process of its own,
    configured only through ``IDP_*`` variables.
    """

    def __init__(self, directory: Path, **settings: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "provider.log"
        env = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
        env.update(
            IDP_ENV="test", IDP_ISSUER=self.url, IDP_INSTANCE_PATH=str(directory / "instance"),
            IDP_DATABASE_URL=f"sqlite:///{directory / 'idp.sqlite3'}", IDP_LOG_FORMAT="text", **settings,
        )
        self.env = env
        for command in (["init"], ["users", "create", "--email", EMAIL, "--password", PASSWORD,
                                   "--given-name", "Louise", "--family-name", "Limiter"]):
            done = subprocess.run([str(BIN / "idp"), *command], cwd=REPO, env=env, capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "idp"), "run", "--host", "127.0.0.1", "--port", str(self.port), "--no-reload"],
                cwd=REPO, env=env, stdout=log, stderr=log)
        _wait_for(self._answers, "the provider to answer")

    def _answers(self) -> bool:
        assert self.process.poll() is None, self.log_text()[-3000:]
        try:
            return requests.get(self.url + "/login", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def _attempt(url: str, login: str, password: str) -> requests.Response:
    browser = Browser(url)
    page = browser.get("/login")
    return browser.post("/login", data={"csrf_token": csrf_of(page.text), "login": login, "password": password})


@pytest.fixture
def redis_server():
    server = RedisServer()
    yield server
    server.kill()


@pytest.fixture
def provider(tmp_path, redis_server):
    """A provider counting in ``redis_server``: 4 login attempts a minute per address."""
    started = Provider(tmp_path, IDP_RATELIMIT_STORAGE_URL=redis_server.url,
                       IDP_RATELIMIT_KEY_PREFIX="idp-test-" + secrets.token_hex(4),
                       IDP_LOGIN_LIMIT_PER_ADDRESS="4/minute")
    yield started
    started.stop()


def test_redis_holds_the_counters_and_logins_survive_its_loss(redis_server, provider):
    assert _attempt(provider.url, EMAIL, PASSWORD).status_code == 303
    for n in range(3):
        assert _attempt(provider.url, f"inconnu{n}@cabinet.example", "wrong password!").status_code == 401
    refused = _attempt(provider.url, EMAIL, PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # The counters are in Redis, under the configured prefix: every node shares them.
    keys = redis_server.keys()
    prefix = provider.env["IDP_RATELIMIT_KEY_PREFIX"]
    assert any(prefix in key and "address:127.0.0.1" in key and "login-address" in key for key in keys), keys
    assert sum(f"{prefix}/login-failures/count/" in key for key in keys) == 3, keys

    redis_server.kill()

    # Redis is gone: the login answers at once, counting in memory from now on, and says so in the log...
    assert _attempt(provider.url, EMAIL, PASSWORD).status_code == 303
    assert FALLBACK_LOG in provider.log_text()
    # ...and the limits still hold there.
    statuses = [_attempt(provider.url, f"autre{n}@cabinet.example", "wrong password!").status_code for n in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429, statuses
