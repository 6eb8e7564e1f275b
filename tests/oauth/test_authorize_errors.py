"""Authorization endpoint: every refusal, with its exact error."""
import pytest

from flows import query_of


def _redirected_error(browser, rp, **overrides):
    response = browser.follow(browser.get(rp.authorize_url(**overrides)))
    assert response.status_code == 302, response.text[:300]
    location = response.headers["Location"]
    assert location.startswith(rp.redirect_uri + "?")
    return query_of(location)


@pytest.mark.parametrize("redirect_uri", [
    "http://127.0.0.1:9/evil",                # not registered
    "http://127.0.0.1:9/cb1/",                # prefix of a registered one is not enough
    None,                                     # OIDC requires it
])
def test_unregistered_redirect_uri_gets_a_page_never_a_redirect(live, rp, browser, redirect_uri):
    if redirect_uri == "http://127.0.0.1:9/cb1/":
        redirect_uri = rp.redirect_uri + "/"
    response = browser.get(rp.authorize_url(redirect_uri=redirect_uri or None) if redirect_uri else
                           rp.authorize_url(redirect_uri=None))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "invalid_request" in response.text


def test_unknown_client_gets_a_page(live, rp, browser):
    response = browser.get(rp.authorize_url(client_id="nope"))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_client" in response.text


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token"])
def test_only_code_response_type(live, rp, browser, response_type):
    params = _redirected_error(browser, rp, response_type=response_type)
    assert params["error"] == "unsupported_response_type"
    assert params["iss"] == live.url and params["state"] == rp.params["state"]


def test_pkce_is_required(live, rp, browser):
    params = _redirected_error(browser, rp, code_challenge=None, code_challenge_method=None)
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "PKCE is required: missing 'code_challenge'."


@pytest.mark.parametrize("method", ["plain", None, "S512"])
def test_pkce_plain_or_missing_method_refused(live, rp, browser, method):
    params = _redirected_error(browser, rp, code_challenge_method=method)
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "'code_challenge_method' must be 'S256'."


def test_malformed_code_challenge_refused(live, rp, browser):
    params = _redirected_error(browser, rp, code_challenge="short")
    assert params["error"] == "invalid_request"


def test_unknown_scope_is_invalid_scope(live, rp, browser):
    params = _redirected_error(browser, rp, scope="openid admin")
    assert params["error"] == "invalid_scope"


def test_resource_not_allowed_is_invalid_target(live, rp, browser):
    params = _redirected_error(browser, rp, resource="https://other.example")
    assert params["error"] == "invalid_target"


def test_relative_resource_is_invalid_target(live, rp, browser):
    params = _redirected_error(browser, rp, resource="/relative")
    assert params["error"] == "invalid_target"


def test_prompt_none_without_session_is_login_required(live, rp, browser):
    params = _redirected_error(browser, rp, prompt="none")
    assert params["error"] == "login_required"
    assert params["iss"] == live.url and params["state"] == rp.params["state"]


def test_prompt_none_without_consent_is_consent_required(live, rp, user, browser):
    browser.login(user.email, user.password)
    params = _redirected_error(browser, rp, prompt="none")
    assert params["error"] == "consent_required"


def test_prompt_none_with_other_values_is_invalid_request(live, rp, user, browser):
    browser.login(user.email, user.password)
    params = _redirected_error(browser, rp, prompt="none login")
    assert params["error"] == "invalid_request"


def test_prompt_none_with_session_and_consent_answers_silently(live, rp, user, browser):
    rp.tokens_for(browser, user)
    response = browser.get(rp.authorize_url(prompt="none"))
    assert response.status_code == 302 and "code" in query_of(response.headers["Location"])


def test_prompt_login_forces_a_new_login(live, rp, user, browser):
    rp.tokens_for(browser, user)
    response = browser.follow(browser.get(rp.authorize_url(prompt="login")))
    assert 'name="password"' in response.text
    response = browser.login(user.email, user.password, response)
    assert response.status_code == 302 and "code" in query_of(response.headers["Location"])


def test_prompt_consent_asks_again(live, rp, user, browser):
    rp.tokens_for(browser, user)
    response = browser.follow(browser.get(rp.authorize_url(prompt="consent")))
    assert 'value="allow"' in response.text
    response = browser.consent(response)
    assert "code" in query_of(response.headers["Location"])


def test_max_age_zero_forces_login_then_auth_time_is_fresh(live, rp, user, browser):
    rp.tokens_for(browser, user)
    response = browser.follow(browser.get(rp.authorize_url(max_age="0")))
    assert 'name="password"' in response.text
    browser.login(user.email, user.password, response)


def test_max_age_not_a_number_is_invalid_request(live, rp, user, browser):
    rp.tokens_for(browser, user)
    params = _redirected_error(browser, rp, max_age="soon")
    assert params["error"] == "invalid_request"


def test_oversized_parameter_gets_a_page(live, rp, browser):
    response = browser.get(rp.authorize_url(state="x" * 5000))
    assert response.status_code == 400 and "Location" not in response.headers


def test_login_hint_prefills_the_login_form(live, rp, browser):
    response = browser.follow(browser.get(rp.authorize_url(login_hint="someone@cabinet.example")))
    assert 'value="someone@cabinet.example"' in response.text


def test_ui_locales_en_shows_english_login(live, rp, browser):
    response = browser.follow(browser.get(rp.authorize_url(ui_locales="en")))
    assert '<html lang="en">' in response.text
