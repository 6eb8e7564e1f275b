"""Redis gone: rate limiting falls back to the node's memory, says so once, and logins go on."""
from __future__ import annotations

import pytest
import requests

from cluster_support import (
    Node, PrivateRedis, admin_app, login_at, new_secret_settings, provider_environment, run_cli,
)
from backends import create_pg_database, drop_pg_database
from factories import Factories
from flows import csrf_of

FALLBACK = "Rate limit storage unreachable - falling back to in-memory storage"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """One node with one worker (its memory is the fallback) on a Redis of our own."""
    directory = tmp_path_factory.mktemp("redis-faults")
    database_url, database_name = create_pg_database()
    redis = PrivateRedis().start()
    node = None
    app = None
    try:
        shared = new_secret_settings()
        node = Node("node", {}, directory, workers=1)
        env = provider_environment(
            database_url=database_url, issuer=node.url, instance=directory / "instance", shared=shared,
            IDP_RATELIMIT_STORAGE_URL=redis.url, IDP_LOGIN_LIMIT_PER_ACCOUNT="5/minute",
        )
        run_cli(env, "init")
        node = Node("node", env, directory, port=node.port, workers=1).start().wait_ready()
        app = admin_app(database_url, node.url, directory / "admin", shared)
        user = Factories(app).user()
        yield node, redis, user
    finally:
        if node is not None:
            node.stop()
        redis.kill()
        if app is not None:
            from idp.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        drop_pg_database(database_name)


def _failed_login(url, login):
    page = requests.get(url + "/login")
    return requests.post(url + "/login", cookies=page.cookies, allow_redirects=False,
                         data={"csrf_token": csrf_of(page.text), "login": login, "password": "not the password",
                               "interaction": ""})


def test_logins_go_on_when_redis_goes_away_and_throttling_falls_back_to_memory(provider):
    node, redis, user = provider
    assert login_at(node.url, user.email, user.password).status_code == 303

    redis.kill()

    assert [login_at(node.url, user.email, user.password).status_code for _ in range(3)] == [303] * 3
    # Throttling still holds, counted in this node's memory.
    statuses = [_failed_login(node.url, "someone-else@cabinet.example").status_code for _ in range(7)]
    assert statuses[-1] == 429, statuses
    # Said once in the log, not once per request.
    records = node.log_records()
    assert [r["level"] for r in records if r["message"] == FALLBACK] == ["warning"]
    assert not [r for r in records if r["level"] == "error"]
    throttled = node.metrics()
    assert throttled['idp_throttled_requests_total{endpoint="/login"}'] >= 1
