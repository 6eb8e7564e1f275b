"""The authorization code flow end to end over HTTP, verified with PyJWT."""
import jwt
import pytest
import requests

from flows import Browser, query_of


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_code_flow_issues_verifiable_id_and_access_tokens(live, factories, user, alg):
    rp = factories.relying_party(signing_alg=alg)
    browser = Browser(live.url)
    tokens = rp.tokens_for(browser, user)

    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300
    id_token = rp.verify(tokens["id_token"], audience=rp.client_id, algorithms=[alg])
    assert jwt.get_unverified_header(tokens["id_token"])["alg"] == alg
    assert id_token["sub"] == user.identifiant
    assert id_token["nonce"] == rp.params["nonce"]
    assert id_token["acr"] == "eidas1" and id_token["amr"] == ["pwd"]
    assert id_token["email"] == user.email and id_token["given_name"] == "Philippe"
    assert id_token["sid"] and id_token["at_hash"] and id_token["auth_time"] <= id_token["iat"]

    access = rp.verify(tokens["access_token"], audience=rp.client.resources[0], typ="at+jwt", algorithms=[alg])
    assert access["client_id"] == rp.client_id
    assert access["sub"] == user.identifiant
    assert access["scope"] == "openid profile email"
    assert access["jti"] and access["exp"] - access["iat"] == 300
    assert tokens["refresh_token"] and "." not in tokens["refresh_token"]


def test_sso_second_site_needs_no_password(live, factories, user, browser):
    first, second = factories.relying_party(), factories.relying_party()
    first.tokens_for(browser, user)
    response = browser.follow(browser.get(second.authorize_url()))
    # Consent for the new site, but no login form: the session is shared.
    assert 'name="password"' not in response.text
    response = browser.consent(response)
    assert "code" in query_of(response.headers["Location"])


def test_first_party_site_skips_consent(live, factories, user, browser):
    rp = factories.relying_party(first_party=True)
    response = browser.follow(browser.get(rp.authorize_url()))
    response = browser.login(user.email, user.password, response)
    assert response.status_code == 302 and "code" in query_of(response.headers["Location"])


def test_remembered_consent_is_not_asked_twice(live, rp, user, browser):
    rp.tokens_for(browser, user)
    response = browser.follow(browser.get(rp.authorize_url()))
    assert response.status_code == 302 and "code" in query_of(response.headers["Location"])


def test_refusing_consent_returns_access_denied_with_iss(live, rp, user, browser):
    response = browser.follow(browser.get(rp.authorize_url()))
    response = browser.login(user.email, user.password, response)
    response = browser.consent(response, decision="deny")
    params = query_of(response.headers["Location"])
    assert params["error"] == "access_denied"
    assert params["iss"] == live.url and params["state"] == rp.params["state"]


def test_login_by_identifiant_works_too(live, rp, user, browser):
    response = browser.follow(browser.get(rp.authorize_url()))
    response = browser.login(user.identifiant, user.password, response)
    assert 'value="allow"' in response.text


def test_wrong_password_gets_one_generic_message(live, rp, user, browser):
    response = browser.follow(browser.get(rp.authorize_url()))
    wrong = browser.login(user.email, "not the password at all", response)
    unknown = browser.login("nobody@nowhere.example", "not the password at all", browser.get("/login"))
    assert wrong.status_code == unknown.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in wrong.text
    assert "Identifiant ou mot de passe incorrect." in unknown.text


def test_userinfo_get_and_post(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user, scope="openid email")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    got = requests.get(live.url + "/userinfo", headers=headers)
    posted = requests.post(live.url + "/userinfo", headers=headers)
    assert got.status_code == posted.status_code == 200
    assert got.json() == posted.json() == {"sub": user.identifiant, "email": user.email, "email_verified": True}


def test_userinfo_refuses_missing_and_bad_tokens(live):
    missing = requests.get(live.url + "/userinfo")
    assert missing.status_code == 401
    bad = requests.get(live.url + "/userinfo", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
