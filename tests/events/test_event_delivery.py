"""Pushed security events: at-least-once delivery from the outbox to a relying site's endpoint.

The site's endpoint is the relying-party library's EventReceiver behind a
real HTTP server: it checks the signature against the provider's JWKS,
``typ``, ``iss``, ``aud`` and ``iat``, and drops a ``jti`` it has seen.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

import jwt
import pytest

from event_sites import wait_until

RIGHTS = ["jesignexpert:preparer_collecte", "jesignexpert:signer"]


@pytest.fixture
def collaborator_with_rights(make_expert, make_collaborator, delegate):
    """An expert, his collaborator, and the delegation between them (two jesignexpert rights)."""
    expert = make_expert()
    collaborator = make_collaborator()
    delegation_id = delegate(expert, collaborator, RIGHTS)
    return expert, collaborator, delegation_id


def test_a_site_that_was_down_gets_the_event_once_back_even_after_the_delivery_loop_died(
        collaborator_with_rights, make_site, browser_of, as_expert, outbox, delivery_process):
    expert, collaborator, delegation_id = collaborator_with_rights
    site = make_site(up=False)
    site.tokens(browser_of(collaborator), collaborator)

    as_expert(expert, "deactivate", delegation_id)
    (event,) = outbox(site.client_id)
    assert event["kind"] == "set" and event["delivered_at"] is None

    # The loop retries against the closed port, with backoff...
    options = ("--interval", "0.05", "--backoff-base", "0.1", "--backoff-cap", "0.3", "--timeout", "1")
    first = delivery_process(*options).start()
    wait_until(lambda: outbox(site.client_id)[0]["attempts"] >= 3, "three failed attempts")
    # ...and dies, as a node does, before the site comes back (perhaps in the middle of an
    # attempt: that event is then left to its lease, and taken again when the lease runs out).
    first.kill()
    failed = outbox(site.client_id)[0]
    assert failed["delivered_at"] is None
    assert "Connection refused" in failed["last_error"] or "ConnectionRefused" in failed["last_error"]
    assert site.events == []

    site.start()
    second = delivery_process(*options).start()
    wait_until(lambda: outbox(site.client_id)[0]["delivered_at"], "delivery once the site is back", timeout=60)
    assert second.stop() == 0

    (received,) = site.events
    assert received.kind == "token-claims-change" and not received.replayed
    assert received.sub == collaborator.identifiant
    assert received.jti == event["jti"], "the jti of the outbox row, whatever the attempt"
    assert received.raw["aud"] == site.client_id
    change = received.payload
    assert change["subject"] == {"format": "opaque", "id": collaborator.identifiant}
    assert change["initiating_entity"] == "admin"
    assert change["reason_admin"]["fr"] == "Délégation désactivée par l'expert-comptable"
    assert change["claims"] == {"authorization_details": []}, "the deactivated rights are gone"
    assert [d.status for d in site.deliveries] == [202]
    assert outbox(site.client_id)[0]["last_error"] is None


def test_every_event_waiting_for_a_site_arrives_once_when_it_comes_back(
        collaborator_with_rights, make_site, browser_of, as_expert, outbox, deliver_once):
    from flows import csrf_of

    expert, collaborator, delegation_id = collaborator_with_rights
    site = make_site(up=False)
    browser = browser_of(collaborator)
    site.tokens(browser, collaborator)
    as_expert(expert, "remove", delegation_id)
    browser.post("/logout/local", data={"csrf_token": csrf_of(browser.get("/compte/securite/").text)})
    waiting = outbox(site.client_id)
    assert [row["kind"] for row in waiting] == ["set", "set", "logout"]

    assert deliver_once().failed == 3
    site.start()
    wait_until(lambda: deliver_once() and all(row["delivered_at"] for row in outbox(site.client_id)),
               "every event delivered once the site is back")

    assert sorted(event.jti for event in site.events) == sorted(row["jti"] for row in waiting)
    # Retries come back in their own order (jittered backoff): sets, not sequences.
    assert sorted(event.kind for event in site.events) == [
        "backchannel-logout", "session-revoked", "token-claims-change"]
    assert not any(event.replayed for event in site.events)
    assert sorted(d.status for d in site.deliveries) == [200, 202, 202]


def test_two_delivery_processes_deliver_every_event_exactly_once(
        live, collaborator_with_rights, make_site, browser_of, as_expert, outbox, delivery_process, app):
    expert, collaborator, delegation_id = collaborator_with_rights
    site = make_site()
    site.tokens(browser_of(collaborator), collaborator)
    from idp.accounts.models import User
    from idp.events.services import token_claims_changed
    from idp.extensions import db

    with app.app_context():
        user = db.session.get(User, collaborator.id)
        for _ in range(30):
            token_claims_changed(user, "change_rights")
        db.session.commit()
        db.session.remove()

    runs = [delivery_process().spawn_once() for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    totals = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]

    assert sum(t["delivered"] for t in totals) == 30 and sum(t["failed"] for t in totals) == 0
    assert len({event.jti for event in site.events}) == 30
    assert not any(event.replayed for event in site.events)
    assert all(row["delivered_at"] and row["attempts"] == 1 for row in outbox(site.client_id))


def test_a_replayed_event_is_acknowledged_and_ignored(collaborator_with_rights, make_site, browser_of,
                                                      as_expert, deliver_once):
    expert, collaborator, delegation_id = collaborator_with_rights
    site = make_site()
    site.tokens(browser_of(collaborator), collaborator)
    as_expert(expert, "remove", delegation_id)
    assert deliver_once().delivered == 1

    (delivery,) = site.deliveries
    again = site.post(delivery.body, delivery.content_type)

    # RFC 8935: 202 again (the provider may resend a SET whose answer it lost), processed once.
    assert again.status_code == 202
    assert len(site.events) == 1


def test_a_replayed_logout_token_is_refused(make_collaborator, make_site, browser_of, deliver_once, live):
    collaborator = make_collaborator()
    site = make_site(events=False)
    browser = browser_of(collaborator)
    site.tokens(browser, collaborator)
    page = browser.get("/compte/securite/")
    from flows import csrf_of

    browser.post("/compte/securite/sessions/tout-fermer", data={"csrf_token": csrf_of(page.text)})
    assert deliver_once().delivered == 1
    (delivery,) = site.deliveries
    assert delivery.status == 200

    again = site.post(delivery.body, delivery.content_type)

    # Back-Channel Logout §2.6: a jti seen before fails validation.
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_request", "error_description": "The logout token was already received"}
    assert len(site.events) == 1


def test_a_tampered_event_is_refused_by_its_signature(collaborator_with_rights, make_site, browser_of, as_expert,
                                                      deliver_once):
    expert, collaborator, delegation_id = collaborator_with_rights
    site = make_site(up=False)
    site.tokens(browser_of(collaborator), collaborator)
    as_expert(expert, "deactivate", delegation_id)
    # Capture the signed token as the provider sends it, then alter its claims.
    site.start()
    site.receiver.on_event = None
    deliver_once()
    (delivery,) = site.deliveries
    header, payload, signature = delivery.body.decode().split(".")
    claims = jwt.utils.base64url_decode(payload)
    forged = json.loads(claims)
    forged["sub_id"]["id"] = forged["events"][next(iter(forged["events"]))]["subject"]["id"] = "someone-else"
    body = ".".join([header, jwt.utils.base64url_encode(json.dumps(forged).encode()).decode(), signature])
    site.receiver.on_event = site.events.append

    refused = site.post(body.encode(), "application/secevent+jwt")

    assert refused.status_code == 400
    assert refused.json()["err"] == "invalid_key"
    assert site.events == []


def test_rights_given_or_time_added_send_nothing(make_expert, make_collaborator, delegate, make_site, browser_of,
                                                  as_expert, outbox):
    from datetime import timedelta

    from idp.db import utcnow

    expert, collaborator = make_expert(), make_collaborator()
    delegation_id = delegate(expert, collaborator, RIGHTS, utcnow() + timedelta(days=100))
    site = make_site()
    site.tokens(browser_of(collaborator), collaborator)

    as_expert(expert, "change_rights", delegation_id, RIGHTS + ["jesignexpert:sceller"])
    as_expert(expert, "extend", delegation_id, utcnow() + timedelta(days=300))
    assert outbox() == []

    as_expert(expert, "extend", delegation_id, utcnow() + timedelta(days=30))
    as_expert(expert, "change_rights", delegation_id, ["jesignexpert:sceller"])
    reasons = [row["payload"]["events"][next(iter(row["payload"]["events"]))]["reason_admin"]["en"]
               for row in outbox(site.client_id)]
    assert reasons == ["Delegation shortened by the expert-comptable",
                       "Rights of the delegation withdrawn by the expert-comptable"]


def test_the_collaborator_giving_a_right_up_is_a_user_initiated_change(
        collaborator_with_rights, make_site, browser_of, app, outbox):
    expert, collaborator, delegation_id = collaborator_with_rights
    site = make_site()
    site.tokens(browser_of(collaborator), collaborator)
    from idp.accounts.models import User
    from idp.delegations.services import give_up
    from idp.extensions import db

    with app.app_context():
        give_up(db.session.get(User, collaborator.id), delegation_id, "jesignexpert:signer")
        db.session.commit()
        db.session.remove()

    (row,) = outbox(site.client_id)
    change = row["payload"]["events"]["https://schemas.openid.net/secevent/caep/event-type/token-claims-change"]
    assert change["initiating_entity"] == "user"
    assert change["reason_admin"]["en"] == "Right given up by the collaborator"


def test_only_sites_holding_live_tokens_of_the_person_are_told(
        collaborator_with_rights, make_site, make_collaborator, browser_of, as_expert, outbox, app):
    expert, collaborator, delegation_id = collaborator_with_rights
    holding = make_site()
    holding.tokens(browser_of(collaborator), collaborator)
    revoked = make_site()
    tokens = revoked.tokens(browser_of(collaborator), collaborator)
    import requests

    for kind in ("refresh_token", "access_token"):
        requests.post(revoked.rp.issuer + "/revoke", data={"token": tokens[kind], "token_type_hint": kind},
                      auth=(revoked.client_id, revoked.rp.secret))
    someone_else = make_site()
    other = make_collaborator()
    someone_else.tokens(browser_of(other), other)
    make_site()  # registered, never used

    as_expert(expert, "deactivate", delegation_id)

    assert [row["client_id"] for row in outbox()] == [holding.client_id]


def test_unknown_endpoint_answers_are_recorded_and_retried(collaborator_with_rights, make_site, browser_of,
                                                           as_expert, deliver_once, outbox, runner):
    expert, collaborator, delegation_id = collaborator_with_rights
    site = make_site()
    site.tokens(browser_of(collaborator), collaborator)
    site.path = "/moved"  # the site now serves its endpoint elsewhere: our POSTs get 404
    as_expert(expert, "deactivate", delegation_id)

    result = deliver_once()

    assert (result.delivered, result.failed) == (0, 1)
    (row,) = outbox(site.client_id)
    assert row["last_error"] == "HTTP 404" and row["attempts"] == 1 and row["delivered_at"] is None
    status = json.loads(runner.invoke(args=["events", "status", "--json"]).output)
    assert status["pending"] == 1 and status["clients"][0]["client_id"] == site.client_id
    assert status["clients"][0]["last_error"] == "HTTP 404"


def test_the_logout_token_follows_back_channel_logout(make_collaborator, make_site, browser_of, deliver_once, live):
    collaborator = make_collaborator()
    site = make_site(events=False)
    browser = browser_of(collaborator)
    tokens = site.tokens(browser, collaborator)
    sid = site.rp.verify(tokens["id_token"], audience=site.client_id)["sid"]
    from flows import csrf_of

    page = browser.get("/compte/securite/")
    browser.post("/logout/local", data={"csrf_token": csrf_of(page.text)})
    deliver_once()

    (delivery,) = site.deliveries
    assert delivery.content_type == "application/x-www-form-urlencoded"
    token = dict(p.split("=", 1) for p in delivery.body.decode().split("&"))["logout_token"]
    assert urlencode({"logout_token": token}) == delivery.body.decode()
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "logout+jwt" and header["alg"] == "ES256"
    claims = site.rp.verify(token, audience=site.client_id)
    assert claims["sub"] == collaborator.identifiant and claims["sid"] == sid
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert "nonce" not in claims and claims["exp"] > claims["iat"] and claims["jti"]


def test_the_change_carries_the_rights_that_remain(collaborator_with_rights, make_site, browser_of, as_expert,
                                                   deliver_once):
    expert, collaborator, delegation_id = collaborator_with_rights
    site = make_site()
    site.tokens(browser_of(collaborator), collaborator)

    as_expert(expert, "change_rights", delegation_id, ["jesignexpert:preparer_collecte"])
    deliver_once()

    (event,) = site.events
    (detail,) = event.payload["claims"]["authorization_details"]
    assert (detail["type"], detail["actions"]) == ("jesignexpert", ["preparer_collecte"])
    (firm,) = detail["firms"]
    assert {key: firm[key] for key in ("siret", "by")} == {"siret": expert.siret, "by": expert.identifiant}
    assert isinstance(firm["exp"], int)
