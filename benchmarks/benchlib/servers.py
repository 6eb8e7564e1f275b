"""The two providers under test, each started the way it runs in production.

Ours: ``gunicorn wsgi:app`` with several workers (the repository's gunicorn
configuration when there is one), ``IDP_ENV=production``, on a database made
for the run (PostgreSQL when it answers, dropped at the end; else SQLite).

The peer: panva's ``oidc-provider`` (node), installed with ``npm ci`` from the
pinned ``benchmarks/peer/package-lock.json`` into a cache folder outside the
repository, run as a node cluster of as many workers sharing Redis (else one
process with its memory adapter).

Both listen on 127.0.0.1 only. Every process is started here, in a session of
its own, and stopped here by its id.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests

REPO = Path(__file__).resolve().parents[2]
PEER_SOURCE = REPO / "benchmarks" / "peer"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "comptexpert-bench"

# What both providers are configured with, so the tokens carry the same things.
RESOURCE = "https://www.experts-comptables.fr"
REDIRECT_URI = "http://127.0.0.1:9/callback"
CLIENT_SCOPE = "openid profile email"
ACCESS_TOKEN_TTL = 300
BENCH_EMAIL = "bench.utilisateur@sogetes.example"
BENCH_GIVEN_NAME = "Bench"
BENCH_FAMILY_NAME = "Utilisateur"

# Where gunicorn settings may live, first found wins (the production set-up
# owns them; flags below are the fallback).
GUNICORN_CONFIGS = ("gunicorn.conf.py", "deploy/gunicorn.conf.py", "deploy/gunicorn/gunicorn.conf.py")


class SetupError(RuntimeError):
    """Something the benchmark needs could not be set up; the message says what."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_checked(cmd: list[str], *, env=None, cwd=None, what: str, timeout: float = 600) -> str:
    """Run a set-up command; its output on failure, in the error."""
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise SetupError(f"{what} failed ({' '.join(map(str, cmd))}):\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
    return result.stdout


# -- processes ----------------------------------------------------------------------

def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn workers, node cluster workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: split after the last ")".
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def process_memory(pid: int) -> dict:
    """Resident set size and proportional set size of one process, in MiB.

    RSS counts every page the process maps, shared ones included (what
    ``ps`` and most targets mean); PSS splits shared pages among the
    processes sharing them (what the machine actually spends per worker).
    """
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                values["rss_mib"] = round(int(line.split()[1]) / 1024, 1)
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                values["pss_mib"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return values


@dataclass
class Server:
    """A provider under test: its URL, its master process, what was set up in it."""

    name: str
    url: str
    issuer: str
    process: subprocess.Popen
    log_path: Path
    facts: dict = field(default_factory=dict)

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) or [self.process.pid]

    def memory(self) -> dict:
        workers = [process_memory(pid) for pid in self.worker_pids()]
        workers = [w for w in workers if w]
        return {"master": process_memory(self.process.pid), "workers": workers}

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            # The group is this server's own session (start_new_session=True).
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def wait_ready(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupError(f"{url}: the server exited with {process.returncode}:\n{tail(log_path)}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SetupError(f"{url}: not ready after {timeout:.0f} s:\n{tail(log_path)}")


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def wait_idle(server: "Server", timeout: float = 120, quiet: float = 1.0) -> None:
    """Wait until every worker has finished booting (no CPU used for ``quiet`` seconds).

    A server answers as soon as one worker is up; the others may still be
    importing the application, which would be measured (and profiled) as
    if it were work done for requests.
    """
    deadline = time.monotonic() + timeout
    pids = server.worker_pids()
    before = cpu_ticks(pids)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        pids = server.worker_pids()
        after = cpu_ticks(pids)
        # A booted worker still wakes up now and then (heartbeats): a tick
        # (10 ms) per worker and per second is idle.
        if after - before <= len(pids) * quiet:
            return
        before = after


def spawn(cmd: list[str], *, env: dict, cwd: Path, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


# -- databases ------------------------------------------------------------------------

class Database:
    """A database made for this run: a new PostgreSQL database, or a SQLite file."""

    def __init__(self, url: str, kind: str, admin_url: str | None = None, name: str | None = None):
        self.url, self.kind, self.admin_url, self.name = url, kind, admin_url, name

    @classmethod
    def create(cls, admin_url: str | None, workdir: Path, label: str = "main") -> "Database":
        if admin_url:
            try:
                return cls._create_postgres(admin_url, label)
            except Exception as error:  # noqa: BLE001 - any failure means: no PostgreSQL here
                print(f"  PostgreSQL unavailable ({str(error).splitlines()[0]}); using SQLite", file=sys.stderr)
        path = workdir / f"bench-{label}.sqlite3"
        return cls(f"sqlite:///{path}", "sqlite")

    @classmethod
    def _create_postgres(cls, admin_url: str, label: str) -> "Database":
        import psycopg
        from sqlalchemy.engine import make_url

        name = f"comptexpert_bench_{label}_{secrets.token_hex(4)}"
        with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        return cls(url, "postgresql", admin_url, name)

    def version(self) -> str:
        if self.kind != "postgresql":
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version}"
        import psycopg

        with psycopg.connect(_libpq(self.url), connect_timeout=3) as connection:
            return connection.execute("SHOW server_version").fetchone()[0].split()[0]

    def drop(self) -> None:
        if self.kind != "postgresql":
            return
        import psycopg

        with psycopg.connect(_libpq(self.admin_url), autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _libpq(sqlalchemy_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- ours -------------------------------------------------------------------------------

def gunicorn_config() -> Path | None:
    for candidate in GUNICORN_CONFIGS:
        path = REPO / candidate
        if path.is_file():
            return path
    return None


def ours_environment(database: Database, instance: Path, issuer: str) -> dict:
    """Production settings, with fresh secrets and the rate limits off (a load test is not an attack)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
    env.update(
        IDP_ENV="production",
        IDP_ISSUER=issuer,
        IDP_SECRET_KEY=secrets.token_urlsafe(32),
        IDP_KEY_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        IDP_DATABASE_URL=database.url,
        IDP_INSTANCE_PATH=str(instance),
        # Served over plain http on loopback: Secure cookies would never come back.
        IDP_COOKIE_SECURE="false",
        IDP_RATELIMIT_ENABLED="false",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def idp_command() -> list[str]:
    return [sys.executable, "-c", "from idp.cli import main; main()"]


def prepare_ours(database: Database, workdir: Path, issuer: str, password: str) -> dict:
    """Schema, keys, the benchmark client and account, through the ``idp`` command."""
    instance = workdir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    env = ours_environment(database, instance, issuer)
    run_checked(idp_command() + ["init"], env=env, cwd=workdir, what="idp init")
    client = json.loads(run_checked(
        idp_command() + [
            "clients", "create", "--name", "Benchmark", "--client-id", "bench-rp",
            "--redirect-uri", REDIRECT_URI, "--grant-type", "authorization_code", "--grant-type", "refresh_token",
            "--grant-type", "client_credentials", "--scope", CLIENT_SCOPE, "--resource", RESOURCE,
            "--first-party", "--json",
        ],
        env=env, cwd=workdir, what="idp clients create",
    ))
    user = json.loads(run_checked(
        idp_command() + [
            "users", "create", "--email", BENCH_EMAIL, "--password", password,
            "--given-name", BENCH_GIVEN_NAME, "--family-name", BENCH_FAMILY_NAME, "--json",
        ],
        env=env, cwd=workdir, what="idp users create",
    ))
    return {"env": env, "client_id": client["client_id"], "client_secret": client["client_secret"],
            "email": BENCH_EMAIL, "password": password, "identifiant": user.get("identifiant")}


def start_ours(prepared: dict, workdir: Path, workers: int, port: int, use_config: bool = True,
               extra_args: list[str] | None = None) -> Server:
    """gunicorn with ``workers`` workers on 127.0.0.1:``port`` (``extra_args`` last, so they win)."""
    config = gunicorn_config() if use_config else None
    cmd = [sys.executable, "-m", "gunicorn", "--chdir", str(REPO), "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers)]
    if config is not None:
        cmd += ["--config", str(config)]
    else:
        # gunicorn's default worker: one request at a time per process, which
        # is what a CPU-bound Python application gets out of a core anyway.
        cmd += ["--worker-class", "sync", "--timeout", "60", "--graceful-timeout", "10"]
    cmd += list(extra_args or [])
    cmd.append("wsgi:app")
    log_path = workdir / f"ours-{port}.log"
    # cwd is the work folder, so gunicorn never picks up a gunicorn.conf.py by accident.
    process = spawn(cmd, env=prepared["env"], cwd=workdir, log_path=log_path)
    url = f"http://127.0.0.1:{port}"
    server = Server("ours", url, prepared["env"]["IDP_ISSUER"], process, log_path,
                    facts={**prepared, "gunicorn_config": str(config.relative_to(REPO)) if config else None,
                           "gunicorn_command": " ".join(cmd[1:])})
    try:
        wait_ready(url + "/jwks.json", process, log_path)
        wait_idle(server)
    except SetupError:
        server.stop()
        if config is not None:
            print(f"  gunicorn with {config.relative_to(REPO)} did not start; retrying with flags:\n"
                  f"{tail(log_path, 10)}", file=sys.stderr)
            return start_ours(prepared, workdir, workers, port, use_config=False, extra_args=extra_args)
        raise
    return server


# -- the peer -----------------------------------------------------------------------------

def install_peer(npm: str) -> Path:
    """``npm ci`` of the pinned peer into the cache (once per lock file), our scripts copied beside."""
    package, lock = PEER_SOURCE / "package.json", PEER_SOURCE / "package-lock.json"
    tag = hashlib.sha256(package.read_bytes() + lock.read_bytes()).hexdigest()[:12]
    target = CACHE / f"peer-{tag}"
    if not (target / "node_modules" / "oidc-provider" / "package.json").is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(package, target)
        shutil.copy2(lock, target)
        print(f"  installing the peer from the npm registry into {target}", file=sys.stderr)
        run_checked([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target, what="npm ci")
    for script in PEER_SOURCE.glob("*.js"):
        shutil.copy2(script, target / script.name)
    return target


def installed_version(peer_dir: Path, package: str) -> str:
    try:
        return json.loads((peer_dir / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, KeyError, ValueError):
        return "?"


def _b64(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


def ec_private_jwk() -> dict:
    """A fresh P-256 key as a private JWK (ES256), its kid the RFC 7638 thumbprint."""
    from cryptography.hazmat.primitives.asymmetric import ec

    numbers = ec.generate_private_key(ec.SECP256R1()).private_numbers()
    public = {"crv": "P-256", "kty": "EC", "x": _b64(numbers.public_numbers.x), "y": _b64(numbers.public_numbers.y)}
    thumbprint = hashlib.sha256(json.dumps(public, separators=(",", ":"), sort_keys=True).encode()).digest()
    return {**public, "d": _b64(numbers.private_value), "alg": "ES256", "use": "sig",
            "kid": base64.urlsafe_b64encode(thumbprint).rstrip(b"=").decode()}


def redis_available(url: str | None) -> bool:
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - unreachable, refused, wrong password: all mean "no Redis"
        return False


def redis_cleanup(url: str, prefix: str) -> None:
    """Delete this run's keys (only those under its own prefix)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    batch = []
    for key in client.scan_iter(match=prefix + "*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.delete(*batch)
            batch.clear()
    if batch:
        client.delete(*batch)


def start_peer(peer_dir: Path, workdir: Path, workers: int, port: int, redis_url: str | None, node: str) -> Server:
    """The node provider: a cluster of ``workers`` on Redis, or one process on memory."""
    shared = redis_available(redis_url)
    prefix = f"comptexpert-bench:{secrets.token_hex(4)}:"
    issuer = f"http://127.0.0.1:{port}"
    secret = secrets.token_urlsafe(36)
    config = {
        "issuer": issuer,
        "port": port,
        "workers": workers if shared else 1,
        "redis_url": redis_url if shared else None,
        "redis_prefix": prefix,
        "jwk": ec_private_jwk(),
        "cookie_keys": [secrets.token_urlsafe(32)],
        "client": {
            "client_id": "bench-peer",
            "client_secret": secret,
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "response_types": ["code"],
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "client_secret_basic",
            "id_token_signed_response_alg": "ES256",
        },
        "client_scope": CLIENT_SCOPE,
        "resource": RESOURCE,
        "resource_scope": "api",
        "account_id": "pubBENCH1",
        "account": {
            "name": f"{BENCH_GIVEN_NAME} {BENCH_FAMILY_NAME}", "given_name": BENCH_GIVEN_NAME,
            "family_name": BENCH_FAMILY_NAME, "preferred_username": "pubBENCH1", "locale": "fr",
            "email": BENCH_EMAIL, "email_verified": True,
        },
        "ttl": {"AccessToken": ACCESS_TOKEN_TTL, "ClientCredentials": ACCESS_TOKEN_TTL, "AuthorizationCode": 60,
                "IdToken": 3600, "RefreshToken": 30 * 24 * 3600, "Session": 12 * 3600, "Interaction": 1800,
                "Grant": 30 * 24 * 3600},
    }
    config_path = workdir / "peer-config.json"
    config_path.write_text(json.dumps(config))
    config_path.chmod(0o600)
    env = {**os.environ, "NODE_ENV": "production", "PEER_CONFIG": str(config_path)}
    log_path = workdir / f"peer-{port}.log"
    process = spawn([node, "server.js"], env=env, cwd=peer_dir, log_path=log_path)
    server = Server("peer", issuer, issuer, process, log_path, facts={
        "client_id": "bench-peer", "client_secret": secret, "redis_url": config["redis_url"], "redis_prefix": prefix,
        "workers": config["workers"], "store": "Redis" if shared else "memory (one process: no shared store)",
        "jwk": {k: v for k, v in config["jwk"].items() if k != "d"},
    })
    try:
        wait_ready(issuer + "/.well-known/openid-configuration", process, log_path)
        wait_idle(server)
    except SetupError:
        server.stop()
        raise
    return server


def basic_auth(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: both parts form-encoded before base64."""
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()
