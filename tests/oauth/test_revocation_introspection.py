"""Revocation (RFC 7009) and introspection (RFC 7662)."""
import base64
import json

import requests


def _introspect(live, rp, token, **extra):
    return requests.post(live.url + "/introspect", data={"token": token, **extra}, auth=(rp.client_id, rp.secret))


def _revoke(live, rp, token, **extra):
    return requests.post(live.url + "/revoke", data={"token": token, **extra}, auth=(rp.client_id, rp.secret))


def test_introspection_of_live_access_token(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    body = _introspect(live, rp, tokens["access_token"]).json()
    assert body["active"] is True
    assert body["sub"] == user.identifiant and body["client_id"] == rp.client_id
    assert body["aud"] == rp.client.resources[0] and body["token_type"] == "Bearer"


def test_introspection_of_refresh_token(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    body = _introspect(live, rp, tokens["refresh_token"], token_type_hint="refresh_token").json()
    assert body["active"] is True and body["sub"] == user.identifiant and body["token_type"] == "refresh_token"


def test_revoking_access_token_makes_it_inactive_everywhere(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    assert _revoke(live, rp, tokens["access_token"]).status_code == 200
    assert _introspect(live, rp, tokens["access_token"]).json() == {"active": False}
    userinfo = requests.get(live.url + "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 401


def test_revoking_refresh_token_revokes_its_family(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    assert _revoke(live, rp, tokens["refresh_token"], token_type_hint="refresh_token").status_code == 200
    assert rp.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert _introspect(live, rp, tokens["access_token"]).json() == {"active": False}


def test_revoking_an_unknown_token_is_200(live, rp):
    # RFC 7009 §2.2: invalid tokens do not cause an error response.
    assert _revoke(live, rp, "not-a-token").status_code == 200


def test_unsupported_token_type_hint(live, rp):
    response = _revoke(live, rp, "x", token_type_hint="id_token")
    assert response.status_code == 400 and response.json()["error"] == "unsupported_token_type"


def test_missing_token_parameter_is_invalid_request(live, rp):
    response = requests.post(live.url + "/introspect", data={}, auth=(rp.client_id, rp.secret))
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_introspection_requires_client_authentication(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    response = requests.post(live.url + "/introspect", data={"token": tokens["access_token"]})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_other_client_learns_nothing(live, rp, factories, user, browser):
    tokens = rp.tokens_for(browser, user)
    other = factories.relying_party()
    assert _introspect(live, other, tokens["access_token"]).json() == {"active": False}


def test_resource_server_may_introspect_tokens_meant_for_it(live, rp, factories, user, browser):
    tokens = rp.tokens_for(browser, user)
    api = factories.relying_party(grant_types=["client_credentials"], redirect_uris=[], scope="openid",
                                  resources=rp.client.resources)
    assert _introspect(live, api, tokens["access_token"]).json()["active"] is True


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _alg_none(token: str) -> str:
    _, payload, _ = token.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode()
    return f"{header}.{payload}."


def test_tampered_and_alg_none_tokens_are_inactive_and_refused(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    for forged in (_tamper(tokens["access_token"]), _alg_none(tokens["access_token"])):
        assert _introspect(live, rp, forged).json() == {"active": False}
        answer = requests.get(live.url + "/userinfo", headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_id_token_is_not_an_access_token(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    answer = requests.get(live.url + "/userinfo", headers={"Authorization": f"Bearer {tokens['id_token']}"})
    assert answer.status_code == 401
