"""JWKSCache against a real JWKS endpoint on 127.0.0.1."""

from __future__ import annotations

import threading

import pytest

from comptexpert_rp import JWKSCache, KeySetUnavailable, UnknownKeyError
from comptexpert_rp.jwks import parse_jwks

from rp_factories import make_key


def test_fetches_once_and_caches_by_kid(jwks, jwks_server, signing_key):
    key = jwks.get_key(signing_key.kid)
    assert key.key_id == signing_key.kid
    assert key.algorithm_name == signing_key.alg
    assert jwks.get_key(signing_key.kid) is key
    assert jwks_server.fetches == 1


def test_unknown_kid_after_rotation_refetches(jwks, jwks_server, clock, signing_key, next_key):
    jwks.get_key(signing_key.kid)
    jwks_server.publish(signing_key, next_key)
    clock.advance(61)

    assert jwks.get_key(next_key.kid).key_id == next_key.kid
    assert jwks_server.fetches == 2
    # The old key is still there while the provider still publishes it.
    assert jwks.get_key(signing_key.kid).key_id == signing_key.kid
    assert jwks_server.fetches == 2


def test_unknown_kid_within_interval_fails_without_network(jwks, jwks_server, clock, signing_key, next_key):
    jwks.get_key(signing_key.kid)
    jwks_server.publish(signing_key, next_key)
    clock.advance(59)

    with pytest.raises(UnknownKeyError) as excinfo:
        jwks.get_key(next_key.kid)
    assert excinfo.value.error == "invalid_token"
    assert excinfo.value.description == "The token is signed with an unknown key"
    assert "throttled" in excinfo.value.detail
    assert jwks_server.fetches == 1


def test_made_up_kids_cause_one_fetch_per_interval(jwks, jwks_server, clock, signing_key):
    jwks.get_key(signing_key.kid)
    clock.advance(60)
    for n in range(20):
        with pytest.raises(UnknownKeyError):
            jwks.get_key(f"forged-{n}")
    assert jwks_server.fetches == 2


def test_withdrawn_key_is_dropped_after_max_age(jwks_server, clock, signing_key, next_key):
    jwks = JWKSCache(jwks_server.url, min_refetch_interval=60, max_age=3600, clock=clock)
    jwks.get_key(signing_key.kid)
    jwks_server.publish(next_key)
    clock.advance(3600)

    with pytest.raises(UnknownKeyError):
        jwks.get_key(signing_key.kid)
    assert jwks_server.fetches == 2


def test_cached_keys_survive_a_provider_outage(jwks, jwks_server, clock, signing_key):
    jwks.get_key(signing_key.kid)
    jwks_server.status = 500
    clock.advance(3600)
    assert jwks.get_key(signing_key.kid).key_id == signing_key.kid
    assert jwks_server.fetches == 2


def test_unreachable_jwks_is_not_a_token_error(jwks_server, clock, signing_key):
    jwks_server.status = 500
    jwks = JWKSCache(jwks_server.url, clock=clock)
    with pytest.raises(KeySetUnavailable) as excinfo:
        jwks.get_key(signing_key.kid)
    assert excinfo.value.status_code == 503
    # Failed attempts are throttled too.
    with pytest.raises(KeySetUnavailable):
        jwks.get_key(signing_key.kid)
    assert jwks_server.fetches == 1


def test_concurrent_lookups_share_one_fetch(jwks_server, clock, signing_key):
    jwks_server.delay = 0.2
    jwks = JWKSCache(jwks_server.url, clock=clock)
    results, errors = [], []

    def lookup():
        try:
            results.append(jwks.get_key(signing_key.kid))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=lookup) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 16 and len({id(key) for key in results}) == 1
    assert jwks_server.fetches == 1


def test_custom_http_get(signing_key):
    calls = []

    def http_get(url, timeout):
        calls.append((url, timeout))
        return ('{"keys": [%s]}' % __import__("json").dumps(signing_key.public_jwk)).encode()

    jwks = JWKSCache("https://comptexpert.example/jwks", http_get=http_get, timeout=2)
    assert jwks.get_key(signing_key.kid).key_id == signing_key.kid
    assert calls == [("https://comptexpert.example/jwks", 2)]


@pytest.mark.parametrize(
    "uri",
    ["http://comptexpert.example/jwks", "ftp://127.0.0.1/jwks", "file:///etc/jwks.json", "jwks.json"],
)
def test_refuses_jwks_uri_open_to_substitution(uri):
    with pytest.raises(ValueError):
        JWKSCache(uri)


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8080/jwks", "http://localhost/jwks", "http://[::1]/jwks"])
def test_allows_http_on_loopback(uri):
    JWKSCache(uri)


def test_parse_jwks_keeps_only_asymmetric_signing_keys(signing_key, next_key):
    other_alg = make_key("RS256" if signing_key.alg == "ES256" else "ES256", "other")
    document = {
        "keys": [
            signing_key.public_jwk,
            {**next_key.public_jwk, "use": "enc"},
            {"kty": "oct", "kid": "shared", "k": "c2VjcmV0"},
            {k: v for k, v in other_alg.public_jwk.items() if k != "kid"},
            {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AA", "y": "AA"},
            "not a key",
        ]
    }
    assert list(parse_jwks(document)) == [signing_key.kid]


def test_parse_jwks_drops_duplicate_kids(signing_key, next_key):
    document = {"keys": [signing_key.public_jwk, {**next_key.public_jwk, "kid": signing_key.kid}]}
    assert parse_jwks(document) == {}


def test_parse_jwks_refuses_a_document_without_keys():
    with pytest.raises(KeySetUnavailable):
        parse_jwks({"kty": "EC"})
