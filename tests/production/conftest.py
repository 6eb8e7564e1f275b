"""Fixtures of the production tests: provider nodes as OS processes on PostgreSQL and Redis.

    cluster (per session): one PostgreSQL database, the machine's Redis (under a
        key prefix of its own), two gunicorn nodes of one provider, and an
        ``admin`` application in this process for factories and row counts
"""
from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from backends import POSTGRES_URL, create_pg_database, drop_pg_database  # noqa: E402
from cluster_support import Node, admin_app, new_secret_settings, provider_environment, run_cli  # noqa: E402
from factories import Factories  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/0"
# Small, so that a rotation done elsewhere is seen quickly by every node.
KEYS_CACHE_SECONDS = 1


@dataclass
class Cluster:
    nodes: list[Node]
    app: object
    factories: Factories
    env: dict[str, str]
    issuer: str

    def rows(self, sql: str, **params) -> list:
        """The first column of a query's rows, read through the admin application."""
        from sqlalchemy import text

        from idp.extensions import db

        with self.app.app_context():
            values = list(db.session.scalars(text(sql), params))
            db.session.remove()
            return values


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """Two provider nodes sharing one PostgreSQL database and Redis."""
    assert POSTGRES_URL, "the production tests need PostgreSQL (IDP_TEST_POSTGRES_URL or 127.0.0.1:5432)"
    directory = tmp_path_factory.mktemp("cluster")
    database_url, database_name = create_pg_database()
    shared = new_secret_settings()
    prefix = "idp-test-" + secrets.token_hex(4)
    nodes: list[Node] = []
    app = None
    try:
        first = Node("node1", {}, directory)
        issuer = first.url  # what a load balancer's address would be
        env = provider_environment(
            database_url=database_url, issuer=issuer, instance=directory / "instance", shared=shared,
            IDP_RATELIMIT_STORAGE_URL=REDIS_URL, IDP_RATELIMIT_KEY_PREFIX=prefix,
            IDP_KEYS_CACHE_SECONDS=str(KEYS_CACHE_SECONDS), IDP_LOG_LEVEL="DEBUG",
            IDP_LOGIN_LIMIT_PER_ACCOUNT="5/minute", IDP_LOGIN_LIMIT_PER_ADDRESS="1000/minute",
            IDP_TRUSTED_PROXIES="127.0.0.1",  # as behind nginx on the same machine
        )
        run_cli(env, "init")
        nodes = [Node("node1", env, directory, port=first.port), Node("node2", env, directory)]
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        app = admin_app(database_url, issuer, directory / "admin", shared)
        yield Cluster(nodes, app, Factories(app), env, issuer)
    finally:
        for node in nodes:
            node.stop()
        if app is not None:
            from idp.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        drop_pg_database(database_name)
        _forget_redis_keys(prefix)


def _forget_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
