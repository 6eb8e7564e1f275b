"""The second login step: a code from the authenticator app, or a recovery code."""
from __future__ import annotations

from authenticator_support import enrol_through_pages, login_with_code, submit_code
from flows import Browser, csrf_of, query_of

WRONG = "Code incorrect ou déjà utilisé."


def _authorize_to_code_step(rp, browser, user):
    """A relying site sends the browser to log in; the password is given; the code step shows."""
    page = browser.follow(browser.get(rp.authorize_url()))
    second = browser.login(user.email, user.password, page)
    assert second.status_code == 200 and 'name="code"' in second.text
    return second


def _finish_authorization(rp, browser, response) -> dict:
    if 'value="allow"' in response.text:
        response = browser.consent(response)
    assert response.status_code == 302, response.text[:300]
    params = query_of(response.headers["Location"])
    assert params["state"] == rp.params["state"]
    tokens = rp.exchange(params["code"])
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def test_enrol_logout_and_log_in_with_the_app_gives_eidas2(live, rp, user):
    browser = Browser(live.url)
    browser.login(user.email, user.password)
    phone, codes = enrol_through_pages(browser)
    assert len(codes) == 10
    browser.follow(browser.post("/logout/local", data={"csrf_token": csrf_of(browser.get("/compte/").text)}))

    second = _authorize_to_code_step(rp, browser, user)
    tokens = _finish_authorization(rp, browser, submit_code(browser, second, phone.code()))

    claims = rp.verify(tokens["id_token"], audience=rp.client_id)
    assert claims["acr"] == "eidas2"
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["sub"] == user.identifiant


def test_password_only_account_gets_eidas1(live, rp, user, browser):
    tokens = rp.tokens_for(browser, user)
    claims = rp.verify(tokens["id_token"], audience=rp.client_id)
    assert claims["acr"] == "eidas1"
    assert claims["amr"] == ["pwd"]


def test_the_password_alone_opens_no_session(live, enrolled, browser):
    second = browser.login(enrolled.user.email, enrolled.user.password)
    assert second.url.endswith("/login/code")
    assert "idp_session" not in browser.http.cookies
    mon_espace = browser.get("/compte/")
    assert mon_espace.status_code == 302 and "/login" in mon_espace.headers["Location"]


def test_code_step_without_a_password_first_goes_back_to_login(live, browser):
    response = browser.get("/login/code")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/login")


def test_a_code_is_accepted_once(live, enrolled, authenticator):
    first = Browser(live.url)
    assert login_with_code(first, enrolled.user, authenticator.code()).url.endswith("/compte/")

    replay = Browser(live.url)
    refused = login_with_code(replay, enrolled.user, authenticator.spent_code())
    assert refused.status_code == 401
    assert WRONG in refused.text
    assert "idp_session" not in replay.http.cookies


def test_a_wrong_code_is_refused_and_the_form_says_why(live, enrolled, authenticator, browser):
    refused = login_with_code(browser, enrolled.user, authenticator.wrong_code())
    assert refused.status_code == 401
    assert f'<p class="field-error" id="code-error">{WRONG}</p>' in refused.text
    assert 'aria-describedby="code-hint code-error"' in refused.text
    # The pending state survives a typo: the right code still completes the login.
    assert submit_code(browser, refused, authenticator.code()).url.endswith("/compte/")


def test_a_recovery_code_works_once_and_says_how_many_remain(live, enrolled, browser):
    code = enrolled.recovery_codes[0]
    home = login_with_code(browser, enrolled.user, code.lower().replace("-", " "))
    assert home.url.endswith("/compte/")
    assert "Code de secours accepté. Il vous en reste 9." in home.text

    again = login_with_code(Browser(live.url), enrolled.user, code)
    assert again.status_code == 401 and WRONG in again.text


def test_a_recovery_code_gives_eidas2_too(live, rp, enrolled, browser):
    second = _authorize_to_code_step(rp, browser, enrolled.user)
    tokens = _finish_authorization(rp, browser, submit_code(browser, second, enrolled.recovery_codes[3]))
    claims = rp.verify(tokens["id_token"], audience=rp.client_id)
    assert (claims["acr"], claims["amr"]) == ("eidas2", ["pwd", "otp", "mfa"])


def test_the_pending_step_expires(live, app, enrolled, authenticator, browser):
    second = browser.login(enrolled.user.email, enrolled.user.password)
    app.config["IDP_MFA_PENDING_TTL"] = 0
    try:
        response = browser.post("/login/code", data={"csrf_token": csrf_of(second.text), "code": authenticator.code()})
    finally:
        app.config["IDP_MFA_PENDING_TTL"] = 300
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    page = browser.get("/login")
    assert "Le délai pour saisir le code est dépassé : reconnectez-vous." in page.text
    assert "idp_session" not in browser.http.cookies


def test_the_pending_step_belongs_to_the_browser_that_gave_the_password(live, enrolled, authenticator, browser):
    second = browser.login(enrolled.user.email, enrolled.user.password)
    other = Browser(live.url)
    other_page = other.get("/login")
    response = other.post("/login/code", data={"csrf_token": csrf_of(other_page.text), "code": authenticator.code()})
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert "idp_session" not in other.http.cookies
    assert second.status_code == 200


def test_code_step_refuses_a_forged_post(live, enrolled, authenticator, browser):
    browser.login(enrolled.user.email, enrolled.user.password)
    response = browser.post("/login/code", data={"code": authenticator.code()})
    assert response.status_code == 400
    assert "idp_session" not in browser.http.cookies
