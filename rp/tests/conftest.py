"""Fixtures building on each other: alg -> signing_key -> jwks_server ->
jwks -> verifier / receiver, and token factories bound to the current key.
Every test that signs something runs once per algorithm (ES256, RS256)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# The suite runs from rp/ (rp/pyproject.toml) and from the repository root,
# whose setup.cfg lists rp/tests with --import-mode=importlib, which puts
# nothing on sys.path. Make the package and the factories importable either
# way without installing anything; appended so nothing else is shadowed.
for _path in (Path(__file__).resolve().parent.parent, Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

import pytest  # noqa: E402
from rp_factories import (  # noqa: E402
    ALGORITHMS,
    AUDIENCE,
    BACKCHANNEL_LOGOUT,
    CLIENT_ID,
    EXPERT,
    ISSUER,
    SESSION_REVOKED,
    FakeClock,
    JWKSServer,
    SigningKey,
    access_claims,
    event_claims,
    make_key,
    sign,
)

from comptexpert_rp import AccessTokenVerifier, EventReceiver, JWKSCache  # noqa: E402


@pytest.fixture(params=ALGORITHMS)
def alg(request) -> str:
    return request.param


@pytest.fixture
def signing_key(alg) -> SigningKey:
    return make_key(alg, f"{alg.lower()}-2025")


@pytest.fixture
def next_key(alg) -> SigningKey:
    """The key the provider rotates to."""
    return make_key(alg, f"{alg.lower()}-2026")


@pytest.fixture
def jwks_server(signing_key):
    server = JWKSServer()
    server.publish(signing_key)
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks(jwks_server, clock) -> JWKSCache:
    return JWKSCache(jwks_server.url, min_refetch_interval=60, clock=clock)


@pytest.fixture
def verifier(jwks) -> AccessTokenVerifier:
    return AccessTokenVerifier(ISSUER, AUDIENCE, jwks)


@pytest.fixture
def issue(signing_key):
    """issue(**claim_overrides) -> a signed access token (None drops a claim)."""

    def issue(key: SigningKey | None = None, typ: str | None = "at+jwt", **overrides: Any) -> str:
        return sign(access_claims(**overrides), key or signing_key, typ=typ)

    return issue


@pytest.fixture
def issue_set(signing_key):
    """issue_set(event_uri, payload, **claim_overrides) -> a signed SET."""

    def issue_set(uri: str = SESSION_REVOKED, payload: dict | None = None, *, typ="secevent+jwt", **overrides):
        if payload is None:
            payload = {"subject": {"format": "opaque", "id": EXPERT}, "sid": "sess-1"}
        return sign(event_claims({uri: payload}, **overrides), signing_key, typ=typ)

    return issue_set


@pytest.fixture
def issue_logout(signing_key):
    """issue_logout(**claim_overrides) -> a signed Back-Channel Logout token."""

    def issue_logout(*, typ="logout+jwt", **overrides):
        claims = event_claims({BACKCHANNEL_LOGOUT: {}}, sub=EXPERT, sid="sess-1")
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        return sign(claims, signing_key, typ=typ)

    return issue_logout


@pytest.fixture
def received() -> list:
    """Events handed to on_event, in order."""
    return []


@pytest.fixture
def receiver(jwks, received) -> EventReceiver:
    return EventReceiver(ISSUER, CLIENT_ID, jwks, on_event=received.append)
