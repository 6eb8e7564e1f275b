"""PostgreSQL stopped and started under load: 503s while it is away, recovery without a restart.

The tests run their own PostgreSQL cluster (initdb/pg_ctl from Debian's
packages, as the postgres user, in a temporary directory): the machine's
server is never touched.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import jwt
import pytest

from cluster_support import (
    Node, PrivatePostgres, admin_app, client_credentials_at, login_at, new_secret_settings, provider_environment,
    run_cli, wait_until,
)
from factories import Factories


@dataclass
class Answer:
    kind: str        # "token" or "login"
    status: int
    retry_after: str | None
    content_type: str
    body: str


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """One node (two workers) on a PostgreSQL of our own, with a user and a client."""
    directory = tmp_path_factory.mktemp("faults")
    postgres = PrivatePostgres().init()
    node = None
    app = None
    try:
        postgres.start()
        shared = new_secret_settings()
        node = Node("node", {}, directory)
        env = provider_environment(
            database_url=postgres.url, issuer=node.url, instance=directory / "instance", shared=shared,
            # Throttling is not what is tested here: the load logs in many times.
            IDP_RATELIMIT_ENABLED="false",
        )
        run_cli(env, "init")
        node = Node("node", env, directory, port=node.port).start().wait_ready()
        app = admin_app(postgres.url, node.url, directory / "admin", shared)
        factories = Factories(app)
        user = factories.user()
        client, secret = factories.client(grant_types=["client_credentials"], scope="")
        yield postgres, node, app, user, client, secret
    finally:
        if node is not None:
            node.stop()
        if app is not None:
            from idp.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        postgres.destroy()


class Load:
    """Logins and token requests, one after the other, until stopped."""

    def __init__(self, node, user, client, secret):
        self.node, self.user, self.client, self.secret = node, user, client, secret
        self.answers: list[Answer] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopped.is_set():
            self.record("token", client_credentials_at(self.node.url, self.client.client_id, self.secret))
            self.record("login", login_at(self.node.url, self.user.email, self.user.password))

    def record(self, kind, response):
        self.answers.append(Answer(kind, response.status_code, response.headers.get("Retry-After"),
                                   response.headers.get("Content-Type", ""), response.text))

    def count(self, kind, status, since=0) -> int:
        return sum(1 for a in self.answers[since:] if a.kind == kind and a.status == status)


def test_the_database_stopped_and_started_under_load(provider):
    postgres, node, app, user, client, secret = provider
    load = Load(node, user, client, secret)
    load.thread.start()
    try:
        wait_until(lambda: load.count("token", 200) >= 3 and load.count("login", 303) >= 3, "answers before the fault")

        postgres.stop()
        down = len(load.answers)
        wait_until(lambda: load.count("token", 503, down) >= 3 and load.count("login", 503, down) >= 3,
                   "503 answers while the database is away")
        readiness = node.ready()
        alive = node.alive()

        postgres.start()
        up = len(load.answers)
        wait_until(lambda: load.count("token", 200, up) >= 3 and load.count("login", 303, up) >= 3,
                   "answers after the database is back")
    finally:
        load.stopped.set()
        load.thread.join(60)

    assert not readiness and alive, "/readyz says 503 while the database is away, /healthz still 200"
    answers = load.answers
    assert {a.status for a in answers if a.kind == "token"} <= {200, 503}, "never a 500"
    assert {a.status for a in answers if a.kind == "login"} <= {303, 503}, "never a 500"
    unavailable = [a for a in answers if a.status == 503]
    assert all(a.retry_after and int(a.retry_after) > 0 for a in unavailable)
    token_503 = next(a for a in unavailable if a.kind == "token")
    assert token_503.content_type.startswith("application/json")
    assert json.loads(token_503.body)["error"] == "temporarily_unavailable"
    page = next(a for a in unavailable if a.kind == "login" and a.content_type.startswith("text/html"))
    assert "Service momentanément indisponible" in page.body
    assert "Traceback" not in "".join(a.body for a in unavailable)

    # Nothing acknowledged was lost, nothing was written twice or half-written.
    issued = [jwt.decode(json.loads(a.body)["access_token"], options={"verify_signature": False})["jti"]
              for a in answers if a.kind == "token" and a.status == 200]
    sessions = sum(1 for a in answers if a.kind == "login" and a.status == 303)
    from sqlalchemy import text

    from idp.extensions import db

    with app.app_context():
        stored = set(db.session.scalars(text("SELECT jti FROM oauth_access_tokens WHERE client_id = :c"),
                                        {"c": client.client_id}))
        stored_sessions = db.session.execute(text("SELECT count(*) FROM login_sessions WHERE user_id = :u"),
                                             {"u": user.id}).scalar()
        db.session.remove()
    assert stored == set(issued) and len(issued) == len(set(issued))
    assert stored_sessions == sessions

    # The same processes recovered: no worker was restarted, none answered with a stack trace.
    records = node.log_records()
    assert sum(1 for r in records if r["message"].startswith("Booting worker")) == 2
    assert not [r for r in records if r["message"] == "unexpected error"]
    assert [r for r in records if r["message"].startswith("database unavailable")]
