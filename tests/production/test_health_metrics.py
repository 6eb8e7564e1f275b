"""``/healthz``, ``/readyz`` and ``/metrics``: what a load balancer and Prometheus are told."""
from __future__ import annotations

import requests

from cluster_support import client_credentials_at


def test_healthz_says_the_process_answers(live):
    response = requests.get(live.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_checks_the_database_and_the_signing_keys(live):
    response = requests.get(live.url + "/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "signing_keys": "ok"}}


def test_readyz_is_503_without_a_current_key_for_the_signing_algorithm(live):
    configured = live.app.config["IDP_SIGNING_ALG"]
    live.app.config["IDP_SIGNING_ALG"] = "EdDSA"  # an algorithm the ring has no key for
    try:
        response = requests.get(live.url + "/readyz")
    finally:
        live.app.config["IDP_SIGNING_ALG"] = configured
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {"status": "unavailable",
                               "checks": {"database": "ok", "signing_keys": "no current signing key"}}


def test_metrics_are_in_prometheus_text_format(live):
    requests.get(live.url + "/.well-known/openid-configuration")
    response = requests.get(live.url + "/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert "# TYPE idp_http_requests_total counter" in response.text
    assert 'idp_http_requests_total{endpoint="/.well-known/openid-configuration",method="GET",status="200"}' in (
        response.text)
    assert "# TYPE idp_http_request_duration_seconds histogram" in response.text


def _value(samples: dict, name: str) -> float:
    return samples.get(name, 0.0)


def test_a_node_adds_up_the_counts_of_all_its_workers(cluster):
    node = cluster.nodes[0]
    client, secret = cluster.factories.client(grant_types=["client_credentials"], scope="")
    healthz = 'idp_http_requests_total{endpoint="/healthz",method="GET",status="200"}'
    issued = 'idp_tokens_issued_total{grant_type="client_credentials"}'
    before = node.metrics()

    for _ in range(20):
        requests.get(node.url + "/healthz")  # spread over the node's two workers
    for _ in range(3):
        assert client_credentials_at(node.url, client.client_id, secret).status_code == 200
    assert client_credentials_at(node.url, client.client_id, "wrong secret").status_code == 401

    after = node.metrics()
    assert _value(after, healthz) - _value(before, healthz) == 20
    assert _value(after, issued) - _value(before, issued) == 3
    token_latencies = 'idp_http_request_duration_seconds_count{endpoint="/token"}'
    assert _value(after, token_latencies) - _value(before, token_latencies) == 4
    assert 'idp_db_pool_connections{state="idle"}' in after
    assert after['idp_db_pool_connections{state="checked_out"}'] >= 0


def test_throttled_requests_are_counted(cluster):
    node = cluster.nodes[1]
    before = node.metrics()
    login = "throttled-metric@cabinet.example"
    from flows import csrf_of

    statuses = []
    for _ in range(8):  # the cluster allows 5 attempts a minute per login name
        page = requests.get(node.url + "/login")
        statuses.append(requests.post(node.url + "/login", cookies=page.cookies, allow_redirects=False, data={
            "csrf_token": csrf_of(page.text), "login": login, "password": "nope nope nope", "interaction": ""},
        ).status_code)

    after = node.metrics()
    throttled = 'idp_throttled_requests_total{endpoint="/login"}'
    assert _value(after, throttled) - _value(before, throttled) == statuses.count(429) > 0


def test_the_events_waiting_in_the_outbox_are_reported(live, rp):
    from datetime import timedelta

    from idp.db import new_secret, utcnow
    from idp.events.models import OutboxEvent
    from idp.extensions import db

    now = utcnow()
    with live.app.app_context():
        for created, delivered in ((now - timedelta(minutes=10), None), (now - timedelta(minutes=1), None),
                                   (now - timedelta(hours=2), now - timedelta(hours=1))):
            db.session.add(OutboxEvent(client_id=rp.client_id, kind="set", jti=new_secret(), payload={},
                                       created_at=created, next_attempt_at=created, delivered_at=delivered))
        db.session.commit()
        db.session.remove()

    samples = {}
    for line in requests.get(live.url + "/metrics").text.splitlines():
        if line.startswith("idp_events_"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)

    assert samples["idp_events_pending"] == 2
    assert samples["idp_events_oldest_pending_seconds"] >= 600


def test_logins_are_counted_by_method_and_result(cluster):
    from cluster_support import login_at

    node = cluster.nodes[0]
    user = cluster.factories.user()
    success = 'idp_logins_total{method="password",result="success"}'
    failure = 'idp_logins_total{method="password",result="failure"}'
    before = node.metrics()

    assert login_at(node.url, user.email, user.password).status_code == 303
    assert login_at(node.url, user.email, "not the password at all").status_code == 401

    after = node.metrics()
    assert _value(after, success) - _value(before, success) == 1
    assert _value(after, failure) - _value(before, failure) == 1


def test_what_a_login_page_answer_says_of_the_attempt():
    from idp.observability.metrics import login_result

    assert login_result("auth.login", 303, "/authorize/resume?interaction=x") == "success"
    assert login_result("auth.login", 303, "/login/code") == "second_factor_required"
    assert login_result("auth.login", 401, "") == "failure"
    assert login_result("auth.login", 429, "") == "throttled"
    assert login_result("auth.login", 400, "") == "rejected"
    assert login_result("auth.login_code", 303, "/compte/") == "success"
    assert login_result("auth.login_code", 303, "/login?interaction=x") == "expired"
    assert login_result("certificates.login_submit", 403, "") == "refused"
