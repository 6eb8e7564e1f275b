"""Two provider nodes, one PostgreSQL database, one Redis: any node answers any request."""
from __future__ import annotations

import json
import os
import re
import signal
import threading

import jwt
import pytest
import requests

from cluster_support import (
    authorize_at, client_credentials_at, exchange_at, refresh_at, run_cli, wait_until,
)
from flows import Browser, csrf_of


@pytest.fixture
def nodes(cluster):
    return cluster.nodes


@pytest.fixture
def user(cluster):
    return cluster.factories.user()


@pytest.fixture
def rp(cluster):
    return cluster.factories.relying_party(first_party=True)


def simultaneously(*calls):
    """Run the calls in threads released together; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_session_opened_on_node_1_is_used_on_node_2(nodes, rp, user):
    node1, node2 = nodes
    on_node1 = Browser(node1.url)
    assert on_node1.login(user.email, user.password).status_code == 200  # Mon Espace, after the redirect
    on_node2 = Browser(node2.url)
    on_node2.http.cookies = on_node1.http.cookies  # the same browser, sent elsewhere by the load balancer

    code = authorize_at(node2.url, on_node2, rp, user)  # fails on a login form: it must not show one

    response = exchange_at(node2.url, rp, code, rp.verifier)
    assert response.status_code == 200, response.text
    claims = rp.verify(response.json()["id_token"], audience=rp.client_id)
    assert claims["sub"] == user.identifiant


def test_a_code_from_node_1_is_redeemed_once_across_both_nodes(nodes, rp, user):
    node1, node2 = nodes
    code = authorize_at(node1.url, Browser(node1.url), rp, user)

    answers = simultaneously(
        lambda: exchange_at(node1.url, rp, code, rp.verifier),
        lambda: exchange_at(node2.url, rp, code, rp.verifier),
    )

    assert sorted(a.status_code for a in answers) == [200, 400], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()
    loser = next(a for a in answers if a.status_code == 400).json()
    assert loser["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: a code used twice revokes what it issued, whoever came first.
    introspected = requests.post(node2.url + "/introspect", data={"token": winner["access_token"]},
                                 auth=(rp.client_id, rp.secret)).json()
    assert introspected == {"active": False}


def test_simultaneous_refreshes_on_two_nodes_give_one_winner_and_revoke_the_family(nodes, rp, user):
    node1, node2 = nodes
    code = authorize_at(node1.url, Browser(node1.url), rp, user)
    tokens = exchange_at(node1.url, rp, code, rp.verifier).json()

    answers = simultaneously(
        lambda: refresh_at(node1.url, rp, tokens["refresh_token"]),
        lambda: refresh_at(node2.url, rp, tokens["refresh_token"]),
    )

    assert sorted(a.status_code for a in answers) == [200, 400], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()
    assert next(a for a in answers if a.status_code == 400).json()["error"] == "invalid_grant"
    # The second use is a reuse: the whole family is revoked (RFC 9700 §4.14.2),
    # the winner's new refresh token included, on every node.
    for node in nodes:
        again = refresh_at(node.url, rp, winner["refresh_token"])
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_rate_limit_counters_are_shared_by_the_nodes(nodes):
    # Redis holds the counters: attempts made on node 1 count on node 2. The
    # cluster allows 5 attempts a minute per login name; 11 is above any
    # default too.
    node1, node2 = nodes
    login = "nobody-shared-counter@cabinet.example"
    on_node1 = [_failed_login(node1.url, login).status_code for _ in range(11)]
    assert on_node1[-1] == 429, on_node1

    assert _failed_login(node2.url, login).status_code == 429


def _failed_login(url, login):
    page = requests.get(url + "/login")
    return requests.post(url + "/login", cookies=page.cookies, allow_redirects=False,
                         data={"csrf_token": csrf_of(page.text), "login": login, "password": "wrong password 1",
                               "interaction": ""})


def test_a_rotation_made_with_the_cli_is_used_by_node_2_and_published_by_both(cluster, nodes):
    node1, node2 = nodes
    client, secret = cluster.factories.client(grant_types=["client_credentials"], scope="")
    published_before = {k["kid"] for k in requests.get(node2.url + "/jwks.json").json()["keys"]}
    signing_before = jwt.get_unverified_header(client_credentials_at(node2.url, client.client_id, secret)
                                               .json()["access_token"])["kid"]

    run_cli(cluster.env, "keys", "rotate", "--alg", "ES256")

    kids_seen = []

    def node2_signs_with_a_new_key():
        token = client_credentials_at(node2.url, client.client_id, secret).json()["access_token"]
        kids_seen.append(jwt.get_unverified_header(token)["kid"])
        return kids_seen[-1] != signing_before

    wait_until(node2_signs_with_a_new_key, "node 2 to sign with the rotated key")
    new_kid = kids_seen[-1]
    assert set(kids_seen) <= published_before, "every token was signed by a key published before the rotation"

    def published_by(node):
        return {k["kid"] for k in requests.get(node.url + "/jwks.json").json()["keys"]}

    for node in nodes:
        # The retired key stays (its tokens live on), the promoted one signs,
        # and a new next key is published ahead of the following rotation.
        wait_until(lambda: published_by(node) - published_before, f"{node.name} to publish the new next key")
        assert {new_kid, signing_before} <= published_by(node)


def test_a_worker_killed_under_load_loses_no_acknowledged_token(cluster, nodes):
    node = nodes[1]
    client, secret = cluster.factories.client(grant_types=["client_credentials"], scope="")
    booted = [int(pid) for record in node.log_records()
              for pid in re.findall(r"Booting worker with pid: (\d+)", record["message"])]
    victim = next(pid for pid in reversed(booted) if _alive(pid))
    answers: list = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            try:
                answers.append(client_credentials_at(node.url, client.client_id, secret))
            except requests.ConnectionError:
                answers.append(None)  # the request the killed worker was answering

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(answers) >= 10, "answers before the kill")
        os.kill(victim, signal.SIGKILL)
        killed_at = len(answers)
        wait_until(lambda: sum(1 for a in answers[killed_at:] if a is not None and a.status_code == 200) >= 10,
                   "answers after the kill")
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)

    assert {a.status_code for a in answers if a is not None} == {200}
    acknowledged = {jwt.decode(json.loads(a.text)["access_token"], options={"verify_signature": False})["jti"]
                    for a in answers if a is not None}
    stored = set(cluster.rows("SELECT jti FROM oauth_access_tokens WHERE client_id = :c", c=client.client_id))
    assert acknowledged <= stored, "every token answered is stored"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
