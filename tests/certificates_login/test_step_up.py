"""Assurance levels and step-up: a relying site asks for a level, the provider has the user reach it.

``acr_values`` and an essential ``acr`` in the ``claims`` parameter are
honoured; a weaker session means a new login with a method strong enough,
then the flow goes on; ``prompt=none`` gets ``login_required`` instead.
"""
from __future__ import annotations

import json

import pytest

from flows import csrf_of, query_of
from signexpert_support import certificate_login, holder, interaction_of, text_of

ASKS_EIDAS3 = "Ce site demande une connexion avec votre certificat SIGNEXPERT."
ASKS_EIDAS2 = ("Ce site demande une connexion renforcée : votre mot de passe puis le code de votre application "
               "d'authentification, ou votre certificat SIGNEXPERT.")
TOO_WEAK = ("Votre connexion actuelle ne suffit pas pour ce site : authentifiez-vous de nouveau avec l'une de ces "
            "méthodes.")
ESSENTIAL_EIDAS3 = json.dumps({"id_token": {"acr": {"essential": True, "values": ["eidas3"]}}})


def finish(rp, browser, response) -> dict:
    """Consent if asked, redeem the code; the ID token's claims."""
    response = browser.follow(response)
    if 'value="allow"' in response.text:
        response = browser.consent(response)
    assert response.status_code == 302, text_of(response)[:500]
    params = query_of(response.headers["Location"])
    assert "code" in params, params
    tokens = rp.exchange(params["code"])
    assert tokens.status_code == 200, tokens.text
    return rp.verify(tokens.json()["id_token"], audience=rp.client_id)


@pytest.fixture
def password_session(live, nginx, user, bind, signexpert_pki, leaf_files):
    """``user`` (with a bound certificate) logged in with the password only: eidas1."""
    bind(user, signexpert_pki.leaves["valid"])
    browser = holder(live, nginx, leaf_files["valid"])
    assert browser.login(user.email, user.password).url.endswith("/compte/")
    return browser


@pytest.mark.parametrize("request_params", [{"acr_values": "eidas3"}, {"claims": ESSENTIAL_EIDAS3}],
                         ids=["acr_values", "essential_acr_claim"])
def test_eidas3_asked_of_a_password_session_gets_a_certificate_login_and_an_eidas3_id_token(
        live, rp, password_session, request_params):
    browser = password_session
    page = browser.follow(browser.get(rp.authorize_url(**request_params)))
    assert page.url.startswith(live.url + "/login?interaction=")
    text = text_of(page)
    assert ASKS_EIDAS3 in text and TOO_WEAK in text
    assert 'name="password"' not in page.text, "a password cannot reach eidas3: no form for it"
    assert "Se connecter avec SIGNEXPERT" in text

    answer = certificate_login(browser, interaction_of(page))
    assert answer.status_code == 303
    claims = finish(rp, browser, answer)
    assert claims["acr"] == "eidas3"
    assert claims["amr"] == ["hwk", "sc", "mfa"]


def test_prompt_none_with_a_session_too_weak_is_login_required(live, rp, password_session):
    response = password_session.get(rp.authorize_url(acr_values="eidas3", prompt="none"))
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert params["error"] == "login_required"
    assert params["state"] == rp.params["state"] and params["iss"] == live.url


def test_a_strong_session_answers_a_weaker_request_and_says_its_own_level(live, rp, nginx, user, bind,
                                                                         signexpert_pki, leaf_files):
    bind(user, signexpert_pki.leaves["valid"])
    browser = holder(live, nginx, leaf_files["valid"])
    assert certificate_login(browser).status_code == 303
    claims = finish(rp, browser, browser.get(rp.authorize_url(acr_values="eidas2 eidas1")))
    assert claims["acr"] == "eidas3"


def test_eidas2_asked_of_a_password_session_gets_the_authenticator_step(live, rp, password_session, user, enrol):
    browser = password_session
    totp = enrol(user)  # enrolled after this session was opened with the password alone
    page = browser.follow(browser.get(rp.authorize_url(acr_values="eidas2")))
    assert ASKS_EIDAS2 in text_of(page)
    assert 'name="password"' in page.text, "password and code reach eidas2"

    second = browser.login(user.email, user.password, page)
    assert 'name="code"' in second.text
    answer = browser.post("/login/code", data={"csrf_token": csrf_of(second.text), "code": totp.now()})
    claims = finish(rp, browser, answer)
    assert (claims["acr"], claims["amr"]) == ("eidas2", ["pwd", "otp", "mfa"])


def test_a_new_password_login_does_not_answer_a_request_for_eidas3(live, rp, password_session, user):
    browser = password_session
    page = browser.follow(browser.get(rp.authorize_url(acr_values="eidas3")))
    interaction = interaction_of(page)
    # The form is not offered; a hand-made POST logs in, at eidas1 only.
    answer = browser.follow(browser.post("/login", data={
        "csrf_token": csrf_of(browser.get("/compte/").text), "login": user.email, "password": user.password,
        "interaction": interaction}))
    assert answer.url.startswith(live.url + "/login?interaction="), "back to the login page, no code"
    assert ASKS_EIDAS3 in text_of(answer) and TOO_WEAK in text_of(answer)


def test_max_age_zero_forces_a_new_certificate_login(live, rp, nginx, user, bind, signexpert_pki, leaf_files):
    bind(user, signexpert_pki.leaves["valid"])
    browser = holder(live, nginx, leaf_files["valid"])
    first = finish(rp, browser, certificate_login(browser, interaction_of(
        browser.follow(browser.get(rp.authorize_url(acr_values="eidas3"))))))

    page = browser.follow(browser.get(rp.authorize_url(max_age="0", acr_values="eidas3")))
    assert page.url.startswith(live.url + "/login?interaction="), "max_age=0: the session is not enough"
    second = finish(rp, browser, certificate_login(browser, interaction_of(page)))
    assert second["acr"] == "eidas3"
    assert second["auth_time"] >= first["auth_time"]
    assert second["sid"] != first["sid"], "a new login, a new session"


def test_prompt_login_asks_again_even_at_eidas3(live, rp, nginx, user, bind, signexpert_pki, leaf_files):
    bind(user, signexpert_pki.leaves["valid"])
    browser = holder(live, nginx, leaf_files["valid"])
    assert certificate_login(browser).status_code == 303
    page = browser.follow(browser.get(rp.authorize_url(prompt="login")))
    assert page.url.startswith(live.url + "/login?interaction=")
    assert 'name="password"' in page.text  # nothing asked beyond a new login


@pytest.mark.parametrize("claims, error", [
    ("{not json", "invalid_request"),
    (json.dumps(["acr"]), "invalid_request"),
    (json.dumps({"id_token": {"acr": "eidas3"}}), "invalid_request"),
    (json.dumps({"id_token": {"acr": {"essential": True, "values": ["urn:other:loa:4"]}}}),
     "unmet_authentication_requirements"),
])
def test_malformed_or_unmeetable_acr_requests_are_refused_to_the_site(live, rp, browser, claims, error):
    response = browser.get(rp.authorize_url(claims=claims))
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert params["error"] == error
    assert params["state"] == rp.params["state"] and params["iss"] == live.url


def test_unknown_acr_values_are_ignored(live, rp, user, browser):
    # acr_values is voluntary: values the provider does not know ask nothing.
    assert browser.login(user.email, user.password).url.endswith("/compte/")
    claims = finish(rp, browser, browser.get(rp.authorize_url(acr_values="urn:other:loa:4")))
    assert claims["acr"] == "eidas1"
