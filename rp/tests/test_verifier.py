"""AccessTokenVerifier: every refusal asserts the exact reason and the
public description a caller would see."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from rp_factories import (
    FromNow,
    at_run_time,
    AUDIENCE,
    EXPERT,
    ISSUER,
    SIRET,
    access_claims,
    b64url,
    craft,
    make_key,
    sign,
)

from comptexpert_rp import AccessToken, AccessTokenVerifier, KeySetUnavailable, TokenError, UnknownKeyError


def refusal(verifier, token) -> TokenError:
    with pytest.raises(TokenError) as excinfo:
        verifier.verify(token)
    assert excinfo.value.error == "invalid_token"
    assert excinfo.value.status_code == 401
    return excinfo.value


def test_valid_token(verifier, issue, signing_key):
    token = verifier.verify(issue())
    assert isinstance(token, AccessToken)
    assert token.sub == EXPERT
    assert token.client_id == "jesignexpert"
    assert token.scopes == {"openid", "jesignexpert"}
    assert token.header["alg"] == signing_key.alg
    assert token.has_right("jesignexpert:signer", firm=SIRET)


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_typ_variants_accepted(verifier, issue, typ):
    assert verifier.verify(issue(typ=typ)).sub == EXPERT


def test_bytes_token_accepted(verifier, issue):
    assert verifier.verify(issue().encode()).sub == EXPERT


@pytest.mark.parametrize(
    ("overrides", "reason", "description"),
    [
        ({"aud": "https://jefacture.com"}, "audience", "The token is not intended for this audience"),
        # Several audiences: one of them ours is not enough (strict audience).
        ({"aud": [AUDIENCE, "https://jefacture.com"]}, "audience", "The token is not intended for this audience"),
        ({"iss": "https://evil.example"}, "issuer", "The token was not issued by the expected issuer"),
        ({"exp": FromNow(-31)}, "expired", "The token expired"),
        ({"iat": FromNow(120)}, "not_yet_valid", "The token is not yet valid"),
        ({"nbf": FromNow(120)}, "not_yet_valid", "The token is not yet valid"),
        ({"jti": None}, "missing_claim", "The token lacks a required claim"),
        ({"client_id": None}, "missing_claim", "The token lacks a required claim"),
        ({"sub": None}, "missing_claim", "The token lacks a required claim"),
        ({"exp": None}, "missing_claim", "The token lacks a required claim"),
        ({"sub": 42}, "claims", "The token has an invalid claim"),
        ({"authorization_details": {"type": "jesignexpert"}}, "claims", "The token has an invalid claim"),
    ],
    ids=[
        "wrong-audience",
        "audience-list",
        "wrong-issuer",
        "expired",
        "issued-in-future",
        "not-before",
        "no-jti",
        "no-client-id",
        "no-sub",
        "no-exp",
        "sub-not-string",
        "rights-not-a-list",
    ],
)
def test_claims_refused(verifier, issue, overrides, reason, description):
    error = refusal(verifier, issue(**at_run_time(overrides)))
    assert (error.reason, error.description) == (reason, description)


def test_expiry_within_leeway_accepted(verifier, issue):
    assert verifier.verify(issue(exp=int(time.time()) - 10)).sub == EXPERT


def test_pyjwt_error_is_chained(verifier, issue):
    error = refusal(verifier, issue(exp=int(time.time()) - 3600))
    assert isinstance(error.__cause__, jwt.ExpiredSignatureError)


def test_tampered_payload(verifier, issue):
    header, payload, signature = issue().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["authorization_details"][0]["firms"].append({"siret": "12345678900011"})
    error = refusal(verifier, f"{header}.{b64url(claims)}.{signature}")
    assert (error.reason, error.description) == ("signature", "The token signature is invalid")


def test_alg_none_refused_before_touching_keys(verifier, jwks_server, signing_key):
    for alg in ("none", "None", "NONE", ""):
        token = craft({"alg": alg, "typ": "at+jwt", "kid": signing_key.kid}, access_claims())
        error = refusal(verifier, token)
        assert error.reason == "algorithm"
        assert error.description == "The token is signed with an algorithm that is not accepted"
    assert jwks_server.fetches == 0


def test_hs256_with_public_key_as_secret_refused(verifier, jwks_server, signing_key):
    # The classic algorithm confusion: an HMAC keyed with the public key,
    # which anyone can read from the JWKS.
    header = b64url({"alg": "HS256", "typ": "at+jwt", "kid": signing_key.kid})
    payload = b64url(access_claims())
    for secret in (signing_key.public_pem, json.dumps(signing_key.public_jwk).encode()):
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        error = refusal(verifier, f"{header}.{payload}.{b64url(mac)}")
        assert error.reason == "algorithm"
    assert jwks_server.fetches == 0


def test_algorithm_not_configured_refused(jwks, issue, signing_key):
    other = "RS256" if signing_key.alg == "ES256" else "ES256"
    verifier = AccessTokenVerifier(ISSUER, AUDIENCE, jwks, algorithms=[other])
    assert refusal(verifier, issue()).reason == "algorithm"


def test_header_alg_must_match_the_key(verifier, jwks_server, signing_key):
    # A token signed by another key type, presenting our kid: the key
    # decides the algorithm, not the header.
    other = make_key("RS256" if signing_key.alg == "ES256" else "ES256", signing_key.kid)
    error = refusal(verifier, sign(access_claims(), other))
    assert error.reason == "algorithm"
    assert "but key" in error.detail


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt+x", "application/jwt", "logout+jwt", "secevent+jwt", None])
def test_wrong_typ_refused(verifier, issue, typ, jwks_server):
    error = refusal(verifier, issue(typ=typ))
    assert (error.reason, error.description) == ("typ", "The token is not of the expected type")
    assert jwks_server.fetches == 0


def test_id_token_refused(verifier, signing_key):
    # An ID token for the same person has typ JWT and aud = client_id.
    id_token = sign(access_claims(aud="jesignexpert", nonce="n-0S6"), signing_key, typ="JWT")
    assert refusal(verifier, id_token).reason == "typ"


def test_missing_kid_refused(verifier, signing_key):
    token = jwt.encode(access_claims(), signing_key.private_key, algorithm=signing_key.alg, headers={"typ": "at+jwt"})
    assert refusal(verifier, token).reason == "malformed"


def test_unknown_kid_after_rotation_is_refetched(verifier, jwks_server, clock, issue, signing_key, next_key):
    verifier.verify(issue())
    jwks_server.publish(signing_key, next_key)
    clock.advance(61)
    assert verifier.verify(issue(key=next_key)).sub == EXPERT
    assert jwks_server.fetches == 2


def test_unknown_kid_within_interval_is_refused_without_fetch(verifier, jwks_server, issue, signing_key, next_key):
    verifier.verify(issue())
    jwks_server.publish(signing_key, next_key)
    with pytest.raises(UnknownKeyError) as excinfo:
        verifier.verify(issue(key=next_key))
    assert excinfo.value.description == "The token is signed with an unknown key"
    assert jwks_server.fetches == 1


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_short_rsa_key_refused(jwks_server, verifier):
    weak = make_key("RS256", "weak-1024", rsa_bits=1024)
    jwks_server.publish(weak)
    error = refusal(verifier, sign(access_claims(), weak))
    assert (error.reason, error.description) == ("key", "The token is signed with an unacceptable key")


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "x" * 70_000, "é.é.é"])
def test_garbage_refused(verifier, token, jwks_server):
    assert refusal(verifier, token).reason == "malformed"
    assert jwks_server.fetches == 0


def test_jwks_outage_is_not_invalid_token(verifier, jwks_server, issue):
    jwks_server.status = 500
    with pytest.raises(KeySetUnavailable):
        verifier.verify(issue())


@pytest.mark.parametrize("algorithms", [("HS256",), ("none",), ("ES256", "HS512"), ()])
def test_symmetric_or_no_algorithms_refused_at_configuration(jwks, algorithms):
    with pytest.raises(ValueError):
        AccessTokenVerifier(ISSUER, AUDIENCE, jwks, algorithms=algorithms)


def test_audience_list_refused_at_configuration(jwks):
    with pytest.raises(ValueError):
        AccessTokenVerifier(ISSUER, [AUDIENCE], jwks)
