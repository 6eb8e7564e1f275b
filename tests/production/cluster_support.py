"""Provider nodes as real OS processes, and the servers they depend on, for the production tests.

    Node             one gunicorn (gunicorn.conf.py, wsgi:app) on its own port and log file
    PrivatePostgres  a PostgreSQL cluster of our own (initdb/pg_ctl as the postgres user),
                     which a test may stop and start without touching the machine's server
    PrivateRedis     a redis-server of our own, which a test may kill

Nothing here imports the provider: the nodes are configured through their
environment, exactly as an operator does it.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import requests

from backends import free_port
from flows import Browser, csrf_of, query_of

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_until(predicate, what: str, timeout: float = 30.0, interval: float = 0.1):
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


def new_secret_settings() -> dict[str, str]:
    """The secrets every node of one provider shares."""
    return {
        "IDP_SECRET_KEY": secrets.token_hex(32),
        "IDP_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }


def provider_environment(*, database_url: str, issuer: str, instance: Path, shared: dict[str, str],
                         **settings: str) -> dict[str, str]:
    """The environment of one provider process: ``IDP_*`` settings and nothing of ours."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("IDP_", "PROMETHEUS_"))}
    env.update(shared)
    env.update(
        PYTHONUNBUFFERED="1",
        IDP_ENV="test",
        IDP_ISSUER=issuer,
        IDP_DATABASE_URL=database_url,
        IDP_INSTANCE_PATH=str(instance),
    )
    env.update(settings)
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    """Run the ``idp`` command as an operator would; returns its output."""
    result = subprocess.run([str(BIN / "idp"), *args], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def admin_app(database_url: str, issuer: str, instance: Path, shared: dict[str, str]):
    """The provider's application in this process, for factories and direct reads of the database."""
    from idp import create_app

    return create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "IDP_ISSUER": issuer,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": shared["IDP_SECRET_KEY"],
        "IDP_KEY_ENCRYPTION_KEY": shared["IDP_KEY_ENCRYPTION_KEY"],
        "RATELIMIT_STORAGE_URI": "memory://",
        "IDP_KEYS_CACHE_SECONDS": 0,
    })


class Node:
    """One provider node: gunicorn with the repository's gunicorn.conf.py, in its own process group."""

    def __init__(self, name: str, env: dict[str, str], directory: Path, port: int | None = None,
                 workers: int = 2):
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.directory = directory
        self.log_path = directory / f"{name}.log"
        metrics_dir = directory / f"{name}-metrics"
        metrics_dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(env, IDP_BIND=f"127.0.0.1:{self.port}", IDP_WORKERS=str(workers), IDP_THREADS="4",
                        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        self.process: subprocess.Popen | None = None

    def start(self) -> "Node":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py"), "wsgi:app"],
            cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True,
        )
        log.close()
        return self

    def alive(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log_text()[-3000:]}"
            return False

    def ready(self) -> bool:
        try:
            return requests.get(self.url + "/readyz", timeout=5).status_code == 200
        except requests.RequestException:
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log_text()[-3000:]}"
            return False

    def wait_ready(self) -> "Node":
        wait_until(self.ready, f"{self.name} to be ready", timeout=60)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_records(self) -> list[dict]:
        """Every line of the node's output, each parsed as JSON (a line that is not JSON fails)."""
        records = []
        for line in self.log_text().splitlines():
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise AssertionError(f"{self.name}: a log line is not JSON: {line[:300]!r}") from exc
        return records

    def metrics(self) -> dict[str, float]:
        """``/metrics`` as ``{'name{labels}': value}``."""
        text = requests.get(self.url + "/metrics", timeout=10).text
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples


# -- the OAuth dance against a chosen node -------------------------------------------------
def authorize_at(node_url: str, browser: Browser, rp, user) -> str:
    """Run the authorization request at ``node_url`` (logging in there if needed); return the code."""
    params = rp.authorize_params()
    rp.params = params
    response = browser.follow(browser.get(node_url + "/authorize?" + urlencode(params)))
    if 'name="password"' in response.text:
        response = browser.login(user.email, user.password, response)
    if 'value="allow"' in response.text:
        response = browser.consent(response)
    assert response.status_code == 302, response.text[:500]
    location = query_of(response.headers["Location"])
    assert location["state"] == params["state"]
    return location["code"]


def exchange_at(node_url: str, rp, code: str, verifier: str) -> requests.Response:
    return requests.post(node_url + "/token", auth=(rp.client_id, rp.secret), timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri, "code_verifier": verifier,
    })


def refresh_at(node_url: str, rp, refresh_token: str) -> requests.Response:
    return requests.post(node_url + "/token", auth=(rp.client_id, rp.secret), timeout=30,
                         data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def client_credentials_at(node_url: str, client_id: str, secret: str) -> requests.Response:
    return requests.post(node_url + "/token", auth=(client_id, secret), timeout=30,
                         data={"grant_type": "client_credentials"})


def login_at(node_url: str, login: str, password: str) -> requests.Response:
    """A fresh browser logs in at ``node_url``; returns the answer to the form, redirects not followed."""
    browser = Browser(node_url)
    page = browser.get("/login")
    if page.status_code != 200:
        return page
    return browser.post("/login", data={"csrf_token": csrf_of(page.text), "login": login, "password": password,
                                        "interaction": ""})


# -- servers of our own ----------------------------------------------------------------------
def _as_postgres(*args: str, **kwargs) -> subprocess.CompletedProcess:
    # initdb and postgres refuse to run as root: everything runs as the
    # machine's postgres user, in a directory it owns.
    command = list(args)
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, on a free port, trust authentication."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="idp-pg-")))
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> "PrivatePostgres":
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        result = _as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                              "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        assert result.returncode == 0, result.stdout + result.stderr
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        result = _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "pg.log"),
                              "-o", options, "-w", "-t", "60", "start")
        assert result.returncode == 0, result.stdout + result.stderr + self.server_log()

    def stop(self, mode: str = "fast") -> None:
        result = _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        assert result.returncode == 0, result.stdout + result.stderr

    def running(self) -> bool:
        return _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status").returncode == 0

    def server_log(self) -> str:
        path = self.directory / "pg.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


class PrivateRedis:
    """A redis-server of our own on a free port, without persistence."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_until(lambda: _pings(client), "redis-server to answer")
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def _pings(client) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


# -- nginx in front -------------------------------------------------------------------------
class Nginx:
    """A real nginx in the foreground, running a server configuration in a directory of its own."""

    def __init__(self, directory: Path, site_config: str, ports: list[int]):
        self.directory = directory
        self.ports = ports
        temp = "\n".join(f"    {name}_temp_path {directory / name};"
                         for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (directory / name).mkdir(exist_ok=True)
        (directory / "site.conf").write_text(site_config)
        (directory / "nginx.conf").write_text(
            f"daemon off;\nmaster_process off;\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
            f"error_log {directory / 'error.log'} info;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n{temp}\n    include {directory / 'site.conf'};\n}}\n")
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen([binary, "-p", str(directory), "-c", str(directory / "nginx.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import socket

        def listening():
            assert self.process.poll() is None, (directory / "error.log").read_text(errors="replace")
            try:
                socket.create_connection(("127.0.0.1", ports[0]), timeout=0.5).close()
                return True
            except OSError:
                return False

        wait_until(listening, "nginx to listen")

    def access_log(self) -> str:
        path = self.directory / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
