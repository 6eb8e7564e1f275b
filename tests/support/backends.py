"""Database backends for the suite and the live server that runs on them."""
from __future__ import annotations

import base64
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import text
from werkzeug.serving import make_server

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_url() -> str | None:
    explicit = os.environ.get("IDP_TEST_POSTGRES_URL")
    if os.environ.get("IDP_TEST_SKIP_POSTGRES"):
        return None
    url = explicit or DEFAULT_PG
    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=2).close()
    except psycopg.OperationalError:
        if explicit:
            raise  # asked for PostgreSQL and it does not answer: that is a failure, not a skip
        return None
    return url


POSTGRES_URL = _postgres_url()
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin_url() -> str:
    return POSTGRES_URL.replace("+psycopg", "")


def create_pg_database() -> tuple[str, str]:
    """A fresh database for this test process; returns ``(sqlalchemy_url, name)``."""
    name = f"idp_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def drop_pg_database(name: str) -> None:
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_config(backend: str, instance: Path, port: int, database_url: str) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "IDP_ISSUER": f"http://127.0.0.1:{port}",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": secrets.token_hex(16),
        "IDP_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "RATELIMIT_STORAGE_URI": "memory://",
        "IDP_KEYS_CACHE_SECONDS": 0,
        "IDP_CLIENTS_CACHE_SECONDS": 0,
    }


@dataclass
class LiveServer:
    backend: str
    app: object
    url: str
    _server: object
    _thread: threading.Thread
    _pg_name: str | None

    def reset(self) -> None:
        """Delete every row but the signing keys; forget rate-limit counters."""
        from idp.extensions import db, limiter

        with self.app.app_context():
            db.session.remove()
            tables = [t for t in db.metadata.sorted_tables if t.name != "signing_keys"]
            if self.backend == "postgresql":
                db.session.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " CASCADE"))
            else:
                for table in reversed(tables):
                    db.session.execute(table.delete())
            db.session.commit()
            limiter.reset()

    def stop(self) -> None:
        from idp.extensions import db

        self._server.shutdown()
        self._thread.join(5)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        if self._pg_name:
            drop_pg_database(self._pg_name)


def start_live_server(backend: str, instance: Path) -> LiveServer:
    from flask_migrate import upgrade

    from idp import create_app
    from idp.extensions import db
    from idp.signing.services import ensure_keys

    port = free_port()
    pg_name = None
    if backend == "postgresql":
        database_url, pg_name = create_pg_database()
    else:
        database_url = f"sqlite:///{instance / 'idp.sqlite3'}"
    app = create_app(test_config(backend, instance, port, database_url))
    with app.app_context():
        upgrade()
        ensure_keys()
        db.session.remove()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"idp-{backend}", daemon=True)
    thread.start()
    return LiveServer(backend, app, f"http://127.0.0.1:{port}", server, thread, pg_name)
