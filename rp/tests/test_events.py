"""EventReceiver: SETs (RFC 8417/8935) and Back-Channel Logout tokens,
through ``handle`` and through the Flask blueprint."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse

import flask
import pytest
from rp_factories import (CLIENT_ID, EXPERT, ISSUER, SESSION_REVOKED, TOKEN_CLAIMS_CHANGE, FromNow, access_claims,
                          at_run_time, sign)

from comptexpert_rp import EventError, EventReceiver, SecurityEvent
from comptexpert_rp.events import MemoryReplayCache

SET = "application/secevent+jwt"
FORM = "application/x-www-form-urlencoded"


def form(token: str) -> bytes:
    return urllib.parse.urlencode({"logout_token": token}).encode()


def body_of(response) -> dict:
    return json.loads(response.body)


# -- SETs ---------------------------------------------------------------------------


def test_session_revoked(receiver, received, issue_set):
    response = receiver.handle(issue_set().encode(), SET)
    assert (response.status, response.body) == (202, b"")
    assert response.headers == {"Cache-Control": "no-store"}
    [event] = received
    assert isinstance(event, SecurityEvent)
    assert (event.kind, event.sub, event.sid, event.replayed) == ("session-revoked", EXPERT, "sess-1", False)
    assert event.raw["iss"] == ISSUER
    assert event.jti == event.raw["jti"]


def test_token_claims_change(receiver, received, issue_set):
    payload = {"subject": {"format": "iss_sub", "iss": ISSUER, "sub": EXPERT}, "claims": {"authorization_details": []}}
    response = receiver.handle(issue_set(TOKEN_CLAIMS_CHANGE, payload).encode(), "application/secevent+jwt; charset=utf-8")
    assert response.status == 202
    [event] = received
    assert (event.kind, event.sub, event.sid) == ("token-claims-change", EXPERT, None)
    assert event.payload["claims"] == {"authorization_details": []}


def test_replayed_set_is_ignored_and_reported(receiver, received, issue_set):
    token = issue_set()
    first = receiver.receive(token)
    again = receiver.receive(token)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.jti == first.jti
    assert received == [first]
    # Over HTTP a replay is still acknowledged: the provider may be
    # resending a SET whose 202 it never got.
    assert receiver.handle(token.encode(), SET).status == 202
    assert len(received) == 1


def test_concurrent_replays_are_processed_once(receiver, received, issue_set):
    token = issue_set()
    threads = [threading.Thread(target=receiver.receive, args=(token,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(received) == 1


def test_failed_processing_lets_the_retry_through(jwks, issue_set):
    calls = []

    def on_event(event):
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("database down")

    receiver = EventReceiver(ISSUER, CLIENT_ID, jwks, on_event=on_event)
    token = issue_set().encode()
    response = receiver.handle(token, SET)
    assert response.status == 500
    assert body_of(response) == {"err": "server_error", "description": "The event could not be processed"}
    assert receiver.handle(token, SET).status == 202
    assert len(calls) == 2


def test_replay_cache_expires():
    now = [0.0]
    cache = MemoryReplayCache(clock=lambda: now[0])
    assert cache.add("jti-1", ttl=360)
    assert not cache.add("jti-1", ttl=360)
    now[0] = 361
    assert cache.add("jti-1", ttl=360)
    assert len(cache) == 1


@pytest.mark.parametrize(
    ("overrides", "err", "description"),
    [
        ({"aud": "jefacture"}, "invalid_audience", "The token is not intended for this audience"),
        ({"iss": "https://evil.example"}, "invalid_issuer", "The token was not issued by the expected issuer"),
        ({"iat": FromNow(-331)}, "invalid_request", "The token was issued too long ago"),
        ({"iat": FromNow(300)}, "invalid_request", "The token is not yet valid"),
        ({"jti": None}, "invalid_request", "The token lacks a required claim"),
        ({"iat": None}, "invalid_request", "The token lacks a required claim"),
    ],
    ids=["wrong-aud", "wrong-iss", "too-old", "future-iat", "no-jti", "no-iat"],
)
def test_set_refused(receiver, received, issue_set, overrides, err, description):
    response = receiver.handle(issue_set(**at_run_time(overrides)).encode(), SET)
    assert response.status == 400
    assert response.headers == {"Cache-Control": "no-store", "Content-Type": "application/json"}
    assert body_of(response) == {"err": err, "description": description}
    assert received == []


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", "logout+jwt", None])
def test_set_with_wrong_typ_refused(receiver, received, issue_set, typ):
    response = receiver.handle(issue_set(typ=typ).encode(), SET)
    assert response.status == 400
    assert body_of(response) == {"err": "invalid_request", "description": "The token is not of the expected type"}
    assert received == []


def test_access_token_is_not_an_event(receiver, received, signing_key):
    token = sign(access_claims(aud=CLIENT_ID, events={SESSION_REVOKED: {}}), signing_key, typ="at+jwt")
    assert receiver.handle(token.encode(), SET).status == 400
    assert received == []


def test_set_signed_by_unknown_key(receiver, issue_set, next_key):
    token = sign(
        {"iss": ISSUER, "aud": CLIENT_ID, "iat": int(time.time()), "jti": "j1", "events": {SESSION_REVOKED: {"sid": "s"}}},
        next_key,
        typ="secevent+jwt",
    )
    response = receiver.handle(token.encode(), SET)
    assert body_of(response) == {"err": "invalid_key", "description": "The token is signed with an unknown key"}


@pytest.mark.parametrize(
    ("payload", "description"),
    [
        ({"subject": {"format": "email", "email": "expert@cabinet.fr"}}, "The event subject is not supported"),
        ({"subject": {"format": "iss_sub", "iss": "https://other.example", "sub": EXPERT}}, "The event subject is not supported"),
        ({}, "The event names no subject"),
        ({"sid": 12}, "The event sid is not a string"),
    ],
)
def test_set_with_unusable_subject_refused(receiver, issue_set, payload, description):
    response = receiver.handle(issue_set(SESSION_REVOKED, payload).encode(), SET)
    assert body_of(response) == {"err": "invalid_request", "description": description}


def test_set_with_several_events_refused(receiver, signing_key):
    events = {SESSION_REVOKED: {"sid": "a"}, TOKEN_CLAIMS_CHANGE: {"sid": "a"}}
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "iat": int(time.time()), "jti": "j2", "events": events}
    response = receiver.handle(sign(claims, signing_key, typ="secevent+jwt").encode(), SET)
    assert body_of(response)["description"] == "The SET must carry exactly one event"


def test_unsupported_event_type_is_acknowledged_and_ignored(receiver, received, issue_set):
    token = issue_set("https://schemas.openid.net/secevent/caep/event-type/credential-change", {"sid": "x"})
    assert receiver.receive(token) is None
    assert receiver.handle(token.encode(), SET).status == 202
    assert received == []


def test_unsupported_content_type(receiver, issue_set):
    response = receiver.handle(issue_set().encode(), "application/json")
    assert response.status == 415


def test_receive_raises_event_error(receiver, issue_set):
    with pytest.raises(EventError) as excinfo:
        receiver.receive(issue_set(aud="other"))
    assert excinfo.value.err == "invalid_audience"


# -- Back-Channel Logout ----------------------------------------------------------------


def test_logout(receiver, received, issue_logout):
    response = receiver.handle(form(issue_logout()), FORM)
    assert (response.status, response.body) == (200, b"")
    assert response.headers == {"Cache-Control": "no-store"}
    [event] = received
    assert (event.kind, event.sub, event.sid) == ("backchannel-logout", EXPERT, "sess-1")


def test_logout_with_sid_only(receiver, received, issue_logout):
    assert receiver.handle(form(issue_logout(sub=None)), FORM).status == 200
    assert (received[0].sub, received[0].sid) == (None, "sess-1")


def test_replayed_logout_token_refused(receiver, received, issue_logout):
    token = issue_logout()
    assert receiver.handle(form(token), FORM).status == 200
    response = receiver.handle(form(token), FORM)
    assert response.status == 400
    assert body_of(response) == {"error": "invalid_request", "error_description": "The logout token was already received"}
    assert len(received) == 1


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"nonce": "n-0S6"}, "A logout token must not contain a nonce"),
        ({"sub": None, "sid": None}, "A logout token needs a sub or a sid"),
        ({"events": {SESSION_REVOKED: {}}}, "The token is not a logout token"),
        ({"events": {"http://schemas.openid.net/event/backchannel-logout": "yes"}}, "The token is not a logout token"),
        ({"aud": "jefacture"}, "The token is not intended for this audience"),
        ({"typ": "JWT"}, "The token is not of the expected type"),
        ({"typ": "secevent+jwt"}, "The token is not of the expected type"),
    ],
    ids=["nonce", "no-sub-no-sid", "wrong-event", "event-not-object", "wrong-aud", "id-token-typ", "set-typ"],
)
def test_logout_token_refused(receiver, received, issue_logout, overrides, description):
    response = receiver.handle(form(issue_logout(**overrides)), FORM)
    assert response.status == 400
    assert body_of(response) == {"error": "invalid_request", "error_description": description}
    assert received == []


@pytest.mark.parametrize(
    "body",
    [b"", b"logout_token=", b"token=abc", b"logout_token=a&logout_token=b", "logout_token=é".encode()],
)
def test_malformed_logout_request(receiver, body):
    assert receiver.handle(body, FORM).status == 400


# -- Flask ----------------------------------------------------------------------------------


@pytest.fixture
def events_client(receiver):
    app = flask.Flask(__name__)
    app.register_blueprint(receiver.flask_blueprint(path="/events"))
    return app.test_client()


def test_blueprint_set(events_client, received, issue_set):
    response = events_client.post("/events", data=issue_set(), content_type=SET)
    assert response.status_code == 202
    assert response.headers["Cache-Control"] == "no-store"
    assert received[0].kind == "session-revoked"


def test_blueprint_set_wrong_audience(events_client, issue_set):
    response = events_client.post("/events", data=issue_set(aud="jefacture"), content_type=SET)
    assert response.status_code == 400
    assert response.content_type == "application/json"
    assert response.json == {"err": "invalid_audience", "description": "The token is not intended for this audience"}


def test_blueprint_logout(events_client, received, issue_logout):
    response = events_client.post("/events", data={"logout_token": issue_logout()})
    assert response.status_code == 200
    assert received[0].kind == "backchannel-logout"


def test_blueprint_only_accepts_post(events_client):
    assert events_client.get("/events").status_code == 405
