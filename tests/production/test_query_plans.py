"""Token issuance stays flat as the database grows: every query it runs is served by an index.

A PostgreSQL database is filled by ``benchmarks/generate.py`` (accounts,
firms, the register, delegations) and with tokens and sessions; the SQL
the provider runs while it answers ``/token`` is recorded, then each
statement is explained. A sequential scan of a table that has more than a
few hundred rows fails: it is the query that would slow down at 200,000
accounts and a million delegations.
"""
from __future__ import annotations

import importlib.util
import itertools
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, text

from backends import POSTGRES_URL, start_live_server
from cluster_support import authorize_at, client_credentials_at, exchange_at, refresh_at
from flows import Browser

GENERATOR = Path(__file__).resolve().parents[2] / "benchmarks" / "generate.py"
# Below this many rows, PostgreSQL rightly prefers reading the whole table.
SMALL_TABLE = 500


def load_generator():
    spec = importlib.util.spec_from_file_location("idp_benchmarks_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


class Recorder:
    """The statements the provider runs while ``recording`` is set (from any thread)."""

    def __init__(self):
        self.recording = threading.Event()
        self.statements: list[tuple[str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.recording.is_set() and not executemany:
            self.statements.append((statement, parameters))


def add_tokens_and_sessions(app, generator, client_id: str, users: int, per_table: int = 20_000) -> None:
    """Fill the token and session tables as a busy morning would, in bulk."""
    from idp.db import new_secret, utcnow
    from idp.extensions import db

    now = utcnow()
    ids = itertools.cycle(range(1, users + 1))
    tables = db.metadata.tables
    rows = {
        "oauth_refresh_tokens": ({"token_hash": new_secret(), "family_id": new_secret(8), "client_id": client_id,
                                  "user_id": next(ids), "scope": "openid", "sid": new_secret(8),
                                  "auth_time": now, "acr": "eidas1", "amr": '["pwd"]', "code_hash": new_secret(),
                                  "created_at": now, "expires_at": now + timedelta(days=30)}
                                 for _ in range(per_table)),
        "oauth_access_tokens": ({"jti": new_secret(), "client_id": client_id, "user_id": next(ids),
                                 "family_id": new_secret(8), "code_hash": new_secret(), "sid": new_secret(8),
                                 "expires_at": now + timedelta(minutes=5)} for _ in range(per_table)),
        "oauth_codes": ({"code_hash": new_secret(), "client_id": client_id, "user_id": next(ids),
                         "redirect_uri": "http://127.0.0.1:9/cb", "scope": "openid", "code_challenge": "x" * 43,
                         "code_challenge_method": "S256", "sid": new_secret(8), "auth_time": now, "acr": "eidas1",
                         "amr": '["pwd"]', "expires_at": now - timedelta(minutes=1), "used_at": now}
                        for _ in range(per_table)),
        "login_sessions": ({"id": new_secret(), "sid": new_secret(), "user_id": next(ids), "created_at": now,
                            "auth_time": now, "acr": "eidas1", "amr": '["pwd"]', "expires_at": now + timedelta(hours=8)}
                           for _ in range(per_table)),
    }
    with app.app_context():
        with db.engine.begin() as connection:
            for name, generated in rows.items():
                generator.Writer(connection, tables[name]).write(generated)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def sequential_scans(plan: dict) -> list[str]:
    """Relations read whole by a plan (``Seq Scan`` nodes), walking every sub-plan."""
    found = [plan["Relation Name"]] if plan.get("Node Type") == "Seq Scan" else []
    for child in plan.get("Plans", []):
        found.extend(sequential_scans(child))
    return found


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """A live provider on PostgreSQL with a profession's data, scaled down tenfold."""
    assert POSTGRES_URL, "the query-plan test needs PostgreSQL"
    live = start_live_server("postgresql", tmp_path_factory.mktemp("plans"))
    try:
        generator = load_generator()
        generator.generate(live.app, accounts=20_000, firms=2_000, delegations=100_000,
                           password=generator.DEFAULT_PASSWORD, log=lambda _: None)
        yield live, generator
    finally:
        live.stop()


def test_token_requests_use_an_index_for_every_large_table(populated):
    from factories import Factories
    from idp.extensions import db

    live, generator = populated
    population = generator.Population.of(20_000, 2_000)
    factories = Factories(live.app)
    rp = factories.relying_party(first_party=True, grant_types=["authorization_code", "refresh_token",
                                                                 "client_credentials"], scope="openid profile email")
    add_tokens_and_sessions(live.app, generator, rp.client_id, population.accounts)

    # The collaborator with delegations from 50 firms: the heaviest token to build.
    index = population.experts + 2
    given, family = generator.person(index)

    class Collaborator:
        email = generator.email_of(index, given, family, "cabinet.example")
        password = generator.DEFAULT_PASSWORD

    code = authorize_at(live.url, Browser(live.url), rp, Collaborator)
    recorder = Recorder()
    with live.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", recorder)
    recorder.recording.set()
    try:
        tokens = exchange_at(live.url, rp, code, rp.verifier)
        assert tokens.status_code == 200, tokens.text
        refreshed = refresh_at(live.url, rp, tokens.json()["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        assert client_credentials_at(live.url, rp.client_id, rp.secret).status_code == 200
    finally:
        recorder.recording.clear()
        event.remove(engine, "before_cursor_execute", recorder)

    queries = [(s, p) for s, p in recorder.statements if s.lstrip().upper().startswith(("SELECT", "UPDATE",
                                                                                          "DELETE", "WITH"))]
    assert len(queries) >= 5, recorder.statements
    with engine.connect() as connection:
        sizes = {name: rows for name, rows in connection.execute(text(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"))}
        slow = []
        for statement, parameters in queries:
            plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]
            large = [name for name in sequential_scans(plan) if sizes.get(name, 0) > SMALL_TABLE]
            if large:
                slow.append((large, " ".join(statement.split())[:300]))
    assert sizes["delegations"] >= 100_000 and sizes["users"] >= 20_000
    assert slow == [], "statements reading a large table whole:\n" + "\n".join(map(str, slow))
