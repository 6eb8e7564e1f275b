"""The nodes' logs: one JSON object per line, a request id passed on, and never a secret."""
from __future__ import annotations

import base64
import secrets
from urllib.parse import urlencode

import requests

from cluster_support import authorize_at, exchange_at, refresh_at
from flows import Browser, csrf_of


def _jwt_secret_parts(token: str) -> list[str]:
    # The header of our JWTs is public and alike for every token; the claims
    # and the signature are what must not leak.
    return token.split(".")[1:]


def test_no_secret_appears_in_any_log_line_after_a_full_flow(cluster):
    node1, node2 = cluster.nodes
    user = cluster.factories.user(password="Sésame, ouvre-toi ! 2026")
    rp = cluster.factories.relying_party(first_party=True)
    wrong_password = "Wrong horse battery staple 9"
    browser = Browser(node1.url)

    page = browser.get("/login")
    failed = browser.post("/login", data={"csrf_token": csrf_of(page.text), "login": user.email,
                                          "password": wrong_password, "interaction": ""})
    assert failed.status_code == 401
    code = authorize_at(node1.url, browser, rp, user)
    tokens = exchange_at(node2.url, rp, code, rp.verifier).json()
    refreshed = refresh_at(node2.url, rp, tokens["refresh_token"]).json()
    bearer = {"Authorization": "Bearer " + refreshed["access_token"]}
    assert requests.get(node1.url + "/userinfo", headers=bearer).status_code == 200
    # RFC 6750 §2.3: a token in the query string; refused or not, its value is not logged.
    requests.get(node2.url + "/userinfo?" + urlencode({"access_token": refreshed["access_token"]}))
    introspected = requests.post(node2.url + "/introspect", data={
        "token": refreshed["access_token"], "client_id": rp.client_id, "client_secret": rp.secret,
    })
    assert introspected.status_code in (200, 401)
    assert requests.post(node1.url + "/revoke", data={"token": refreshed["refresh_token"]},
                         auth=(rp.client_id, rp.secret)).status_code == 200
    logout = browser.get(node2.url + "/logout?" + urlencode({
        "id_token_hint": refreshed["id_token"], "post_logout_redirect_uri": rp.client.post_logout_redirect_uris[0],
    }))
    assert logout.status_code in (200, 302, 303)
    assert exchange_at(node1.url, rp, code, rp.verifier).status_code == 400  # a replay, with its revocations

    secret_values = [user.password, wrong_password, rp.secret, code, rp.verifier, tokens["refresh_token"],
                     refreshed["refresh_token"], csrf_of(page.text),
                     base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()]
    for token in (tokens["access_token"], tokens["id_token"], refreshed["access_token"], refreshed["id_token"]):
        secret_values.extend(_jwt_secret_parts(token))
    secret_values.extend(cookie.value for cookie in browser.http.cookies)
    for password in (user.password, wrong_password):
        secret_values.extend([password.replace(" ", "+"), requests.utils.quote(password)])

    for node in cluster.nodes:
        text = node.log_text()
        assert "idp.access" in text  # the flow was logged...
        leaked = [value for value in secret_values if value and value in text]
        assert not leaked, f"{node.name} logged secrets: {leaked}"  # ...without a secret


def test_every_log_line_is_a_json_object_with_time_level_logger_and_message(cluster):
    for node in cluster.nodes:
        records = node.log_records()
        assert records
        for record in records:
            assert {"ts", "level", "logger", "message"} <= set(record), record
        requests_logged = [r for r in records if r.get("event") == "request"]
        assert requests_logged and all(r.get("request_id") for r in requests_logged)


def test_a_request_id_is_taken_from_the_request_passed_on_and_logged(cluster):
    node = cluster.nodes[0]
    request_id = "lb-" + secrets.token_hex(8)

    response = requests.get(node.url + "/.well-known/openid-configuration", headers={"X-Request-Id": request_id})

    assert response.headers["X-Request-Id"] == request_id
    logged = [r for r in node.log_records() if r.get("request_id") == request_id]
    assert [(r["path"], r["status"]) for r in logged if r.get("event") == "request"] == [
        ("/.well-known/openid-configuration", 200)]


def test_a_malformed_request_id_is_replaced_by_a_new_one(cluster):
    node = cluster.nodes[1]
    for unusable in ("two words", "x" * 200, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"):
        response = requests.get(node.url + "/healthz", headers={"X-Request-Id": unusable})
        generated = response.headers["X-Request-Id"]
        assert generated != unusable and len(generated) == 32 and int(generated, 16) >= 0


def test_the_client_address_comes_from_the_trusted_proxy_header(cluster):
    node = cluster.nodes[0]  # IDP_TRUSTED_PROXIES=127.0.0.1, as behind nginx
    request_id = "xff-" + secrets.token_hex(8)

    requests.get(node.url + "/healthz", headers={"X-Request-Id": request_id,
                                                 "X-Forwarded-For": "198.51.100.1, 203.0.113.7"})

    (logged,) = [r for r in node.log_records() if r.get("request_id") == request_id and r.get("event") == "request"]
    # The right-most address not of a trusted proxy: the left part is whatever the client wrote.
    assert logged["remote_addr"] == "203.0.113.7"
