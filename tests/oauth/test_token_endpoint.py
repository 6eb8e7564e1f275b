"""Token endpoint: codes, refresh rotation, client credentials, client authentication."""
import base64
import json
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec


def _error(response, status=400):
    assert response.status_code == status, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


# -- authorization_code ---------------------------------------------------------

def test_code_is_single_use_and_replay_revokes_what_it_issued(live, rp, user, browser):
    code = rp.login_and_get_code(browser, user)
    first = rp.exchange(code)
    assert first.status_code == 200
    tokens = first.json()
    replay = rp.exchange(code)
    assert _error(replay)["error"] == "invalid_grant"
    # What the code issued is dead now: the access token and the refresh token.
    introspected = requests.post(live.url + "/introspect", data={"token": tokens["access_token"]},
                                 auth=(rp.client_id, rp.secret)).json()
    assert introspected == {"active": False}
    assert _error(rp.refresh(tokens["refresh_token"]))["error"] == "invalid_grant"


def test_code_expires_after_its_lifetime(live, rp, user, browser):
    code = rp.login_and_get_code(browser, user)
    with live.app.app_context():
        from idp.db import digest
        from idp.extensions import db
        from idp.oauth.models import AuthorizationCode

        row = db.session.get(AuthorizationCode, digest(code))
        assert (row.expires_at - row.auth_time).total_seconds() <= 61
        row.expires_at = row.expires_at.replace(year=2000)
        db.session.commit()
    assert _error(rp.exchange(code))["error"] == "invalid_grant"


def test_wrong_code_verifier_is_invalid_grant(live, rp, user, browser):
    code = rp.login_and_get_code(browser, user)
    body = _error(rp.exchange(code, verifier="x" * 43))
    assert body == {"error": "invalid_grant", "error_description": "Code challenge failed."}


def test_missing_code_verifier_is_invalid_request(live, rp, user, browser):
    code = rp.login_and_get_code(browser, user)
    response = rp.token({"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri})
    assert _error(response) == {"error": "invalid_request", "error_description": "Missing 'code_verifier'."}


def test_redirect_uri_must_match_the_authorization_request(live, rp, user, browser):
    code = rp.login_and_get_code(browser, user)
    response = rp.token({"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:9/x",
                         "code_verifier": rp.verifier})
    assert _error(response)["error"] == "invalid_grant"


def test_code_of_another_client_is_invalid_grant(live, rp, factories, user, browser):
    code = rp.login_and_get_code(browser, user)
    thief = factories.relying_party()
    response = thief.token({"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
                            "code_verifier": rp.verifier})
    assert _error(response)["error"] == "invalid_grant"
    assert rp.exchange(code).status_code == 200, "the rightful client can still redeem it"


def test_resource_at_token_endpoint_must_be_the_authorized_one(live, factories, user, browser):
    rp = factories.relying_party(resources=["https://a.example", "https://b.example"])
    code = rp.login_and_get_code(browser, user, resource="https://a.example")
    body = _error(rp.exchange(code, resource="https://b.example"))
    assert body["error"] == "invalid_target"


def test_resource_selects_the_audience(live, factories, user, browser):
    rp = factories.relying_party(resources=["https://a.example", "https://b.example"])
    tokens = rp.tokens_for(browser, user, resource="https://b.example")
    assert rp.verify(tokens["access_token"], audience="https://b.example")["aud"] == "https://b.example"


# -- refresh_token ------------------------------------------------------------

def test_refresh_rotates_and_reuse_revokes_the_family(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    first = rp.refresh(tokens["refresh_token"])
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rp.verify(rotated["id_token"], audience=rp.client_id)["sub"] == user.identifiant

    reuse = rp.refresh(tokens["refresh_token"])
    assert _error(reuse)["error"] == "invalid_grant"
    # The whole family is gone, including the newest refresh token and its access token.
    assert _error(rp.refresh(rotated["refresh_token"]))["error"] == "invalid_grant"
    introspected = requests.post(live.url + "/introspect", data={"token": rotated["access_token"]},
                                 auth=(rp.client_id, rp.secret)).json()
    assert introspected == {"active": False}


def test_refresh_keeps_acr_and_auth_time(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    before = rp.verify(tokens["id_token"], audience=rp.client_id)
    after = rp.verify(rp.refresh(tokens["refresh_token"]).json()["id_token"], audience=rp.client_id)
    assert (after["auth_time"], after["acr"], after["amr"], after["sid"]) == (
        before["auth_time"], before["acr"], before["amr"], before["sid"])


def test_refresh_cannot_widen_scope(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user, scope="openid email")
    assert _error(rp.refresh(tokens["refresh_token"], scope="openid email profile"))["error"] == "invalid_scope"


def test_refresh_token_of_another_client_is_invalid_grant(live, rp, factories, user, browser):
    tokens = rp.tokens_for(browser, user)
    other = factories.relying_party()
    assert _error(other.refresh(tokens["refresh_token"]))["error"] == "invalid_grant"
    assert rp.refresh(tokens["refresh_token"]).status_code == 200, "a stolen token tried elsewhere stays valid"


def test_unknown_refresh_token_is_invalid_grant(live, rp):
    assert _error(rp.refresh("made-up"))["error"] == "invalid_grant"


# -- client_credentials ---------------------------------------------------------

def test_client_credentials_token_for_the_default_resource(live, factories):
    rp = factories.relying_party(grant_types=["client_credentials"], redirect_uris=[], scope="openid")
    response = rp.token({"grant_type": "client_credentials"})
    assert response.status_code == 200
    body = response.json()
    assert "refresh_token" not in body and "id_token" not in body
    claims = rp.verify(body["access_token"], audience=rp.client.resources[0], typ="at+jwt")
    assert claims["sub"] == rp.client_id and claims["client_id"] == rp.client_id


def test_client_credentials_cannot_ask_user_scopes(live, factories):
    rp = factories.relying_party(grant_types=["client_credentials"], redirect_uris=[], scope="openid")
    assert _error(rp.token({"grant_type": "client_credentials", "scope": "openid"}))["error"] == "invalid_scope"


def test_grant_type_not_registered_is_unauthorized_client(live, rp):
    assert _error(rp.token({"grant_type": "client_credentials"}))["error"] == "unauthorized_client"


@pytest.mark.parametrize("grant_type", ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code", ""])
def test_unsupported_grant_types(live, rp, grant_type):
    response = rp.token({"grant_type": grant_type, "username": "a", "password": "b"})
    assert _error(response)["error"] == "unsupported_grant_type"


# -- client authentication ------------------------------------------------------

def test_wrong_secret_is_invalid_client_401(live, rp):
    rp.secret = "wrong-secret"
    response = rp.token({"grant_type": "refresh_token", "refresh_token": "x"})
    assert _error(response, 401)["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_client_is_invalid_client_401(live):
    response = requests.post(live.url + "/token", data={"grant_type": "client_credentials"}, auth=("ghost", "x" * 40))
    assert _error(response, 401)["error"] == "invalid_client"


def test_client_secret_post(live, factories, user, browser):
    rp = factories.relying_party(auth_method="client_secret_post")
    code = rp.login_and_get_code(browser, user)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": rp.verifier}
    assert rp.token(data, auth="basic").status_code == 401, "registered for post, basic is refused"
    assert rp.token(data, auth="post").status_code == 200


def test_client_secrets_are_stored_hashed(live, rp):
    with live.app.app_context():
        from idp.extensions import db
        from idp.oauth.models import Client

        stored = db.session.get(Client, rp.client_id).client_secret_hash
    assert rp.secret not in stored and len(stored) == 64


@pytest.fixture
def key_client(factories):
    private = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    public.update(kid="k1", alg="ES256", use="sig")
    client, _ = factories.client(grant_types=["client_credentials"], redirect_uris=[], scope="openid",
                                 auth_method="private_key_jwt", jwks={"keys": [public]})
    return client, private


def _assertion(live, client, private, **overrides):
    now = int(time.time())
    claims = {"iss": client.client_id, "sub": client.client_id, "aud": live.url + "/token",
              "iat": now, "exp": now + 60, "jti": str(uuid.uuid4()), **overrides}
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": "k1"})


def _with_assertion(live, assertion):
    return requests.post(live.url + "/token", data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})


def test_private_key_jwt_authenticates(live, key_client):
    client, private = key_client
    assert _with_assertion(live, _assertion(live, client, private)).status_code == 200


def test_private_key_jwt_assertion_replay_is_refused(live, key_client):
    client, private = key_client
    assertion = _assertion(live, client, private)
    assert _with_assertion(live, assertion).status_code == 200
    body = _error(_with_assertion(live, assertion), 401)
    assert body == {"error": "invalid_client", "error_description": "JWT ID is used before."}


@pytest.mark.parametrize("overrides", [{"aud": "https://elsewhere.example"}, {"exp": 1000}, {"sub": "someone"}])
def test_private_key_jwt_bad_claims_are_invalid_client(live, key_client, overrides):
    client, private = key_client
    assert _error(_with_assertion(live, _assertion(live, client, private, **overrides)), 401)["error"] == "invalid_client"


def test_private_key_jwt_signed_by_another_key_is_invalid_client(live, key_client):
    client, _ = key_client
    other = ec.generate_private_key(ec.SECP256R1())
    assert _error(_with_assertion(live, _assertion(live, client, other)), 401)["error"] == "invalid_client"


def test_private_key_jwt_alg_none_is_invalid_client(live, key_client):
    client, _ = key_client
    now = int(time.time())
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps({
        "iss": client.client_id, "sub": client.client_id, "aud": live.url + "/token", "exp": now + 60,
        "jti": "n"}).encode()).rstrip(b"=").decode()
    assert _error(_with_assertion(live, f"{header}.{payload}."), 401)["error"] == "invalid_client"


# -- malformed input ------------------------------------------------------------

def test_oversized_parameter_is_invalid_request(live, rp):
    assert _error(rp.token({"grant_type": "refresh_token", "refresh_token": "x" * 5000}))["error"] == "invalid_request"


def test_json_body_is_not_a_token_request(live, rp):
    response = requests.post(live.url + "/token", json={"grant_type": "client_credentials"},
                             auth=(rp.client_id, rp.secret))
    assert _error(response)["error"] == "unsupported_grant_type"


def test_get_is_not_allowed_on_token_endpoint(live):
    assert requests.get(live.url + "/token").status_code == 405
