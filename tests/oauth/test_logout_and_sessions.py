"""SSO session cookie, RP-initiated logout, and the consents page."""
import re

import requests

from flows import Browser, csrf_of, query_of


def test_session_cookie_is_httponly_lax_and_renewed_at_login(live, user, browser):
    browser.login(user.email, user.password)
    first = browser.http.cookies.get("idp_session")
    browser.login(user.email, user.password)
    assert browser.http.cookies.get("idp_session") != first, "a new key at every login"


def test_cookie_flags(app, user, client):
    page = client.get("/login")
    response = client.post("/login", data={"login": user.email, "password": user.password,
                                           "csrf_token": csrf_of(page.get_data(as_text=True))})
    set_cookie = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("idp_session=")][0]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/" in set_cookie


def test_secure_cookie_when_issuer_is_https(app, user):
    app.config["IDP_COOKIE_SECURE"] = True
    try:
        client = app.test_client()
        page = client.get("/login")
        response = client.post("/login", data={"login": user.email, "password": user.password,
                                               "csrf_token": csrf_of(page.get_data(as_text=True))})
        set_cookie = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("idp_session=")][0]
        assert "Secure" in set_cookie
    finally:
        app.config["IDP_COOKIE_SECURE"] = False


def test_logout_with_id_token_hint_redirects_to_registered_uri(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    target = rp.client.post_logout_redirect_uris[0]
    response = browser.get("/logout", params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": target,
                                               "state": "bye"})
    assert response.status_code == 302
    assert response.headers["Location"] == target + "?state=bye"
    # The session is over: the next authorization asks for the password again.
    again = browser.follow(browser.get(rp.authorize_url()))
    assert 'name="password"' in again.text


def test_logout_to_unregistered_uri_does_not_redirect(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    response = browser.get("/logout", params={"id_token_hint": tokens["id_token"],
                                               "post_logout_redirect_uri": "https://evil.example/"})
    assert response.status_code in (200, 302)
    assert "evil.example" not in response.headers.get("Location", "")


def test_logout_without_hint_asks_confirmation_then_redirects(live, rp, user, browser):
    rp.tokens_for(browser, user)
    target = rp.client.post_logout_redirect_uris[0]
    page = browser.get("/logout", params={"client_id": rp.client_id, "post_logout_redirect_uri": target})
    assert page.status_code == 200 and "Se déconnecter" in page.text
    assert browser.http.cookies.get("idp_session"), "nothing ended before confirmation"
    response = browser.post("/logout", data={"csrf_token": csrf_of(page.text), "client_id": rp.client_id,
                                             "post_logout_redirect_uri": target})
    assert response.status_code == 302 and response.headers["Location"] == target


def test_logout_confirmation_refuses_forged_post(live, rp, user, browser):
    rp.tokens_for(browser, user)
    response = browser.post("/logout", data={"client_id": rp.client_id})
    assert response.status_code == 400
    again = browser.follow(browser.get(rp.authorize_url()))
    assert 'name="password"' not in again.text, "a forged POST did not end the session"


def test_consents_are_listed_and_can_be_withdrawn(live, rp, user, browser):
    rp.tokens_for(browser, user)
    page = browser.get("/compte/applications")
    assert rp.client.name in page.text
    action = re.search(r'action="(/compte/applications/\d+/retirer)"', page.text).group(1)
    browser.post(action, data={"csrf_token": csrf_of(page.text)})
    assert rp.client.name not in browser.get("/compte/applications").text
    response = browser.follow(browser.get(rp.authorize_url()))
    assert 'value="allow"' in response.text, "consent is asked again"


def test_withdrawing_someone_elses_consent_is_not_found(live, rp, factories, user, browser):
    rp.tokens_for(browser, user)
    page = browser.get("/compte/applications")
    action = re.search(r'action="(/compte/applications/\d+/retirer)"', page.text).group(1)
    intruder = Browser(live.url)
    other = factories.user()
    intruder.login(other.email, other.password)
    intruder_page = intruder.get("/compte/applications")
    intruder.post(action, data={"csrf_token": csrf_of(intruder_page.text)})
    assert rp.client.name in browser.get("/compte/applications").text


def test_account_pages_need_a_session(live, browser):
    response = browser.get("/compte/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_form_without_csrf_token_is_refused(live, user, browser):
    response = browser.post("/login", data={"login": user.email, "password": user.password})
    assert response.status_code == 400
    assert not browser.http.cookies.get("idp_session")


def test_logout_revokes_the_tokens_of_the_session(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    browser.get("/logout", params={"id_token_hint": tokens["id_token"]})
    assert rp.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    introspected = requests.post(live.url + "/introspect", data={"token": tokens["access_token"]},
                                 auth=(rp.client_id, rp.secret)).json()
    assert introspected == {"active": False}


def test_tokens_of_another_session_survive_a_logout(live, rp, user):
    first, second = Browser(live.url), Browser(live.url)
    kept = rp.tokens_for(first, user)
    ended = rp.tokens_for(second, user)
    second.get("/logout", params={"id_token_hint": ended["id_token"]})
    assert rp.refresh(kept["refresh_token"]).status_code == 200
