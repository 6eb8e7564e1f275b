"""A certified relying-party library against the provider, in a real browser.

The site is panva's openid-client (OpenID Certified RP), run by ``rp.mjs``;
the user logs in through the provider's own pages in Chromium. Each scenario
of the site returns a report: one entry per library call, with what the
library returned or the error it raised, and the requests it sent. The
library validates everything a certified RP validates (RFC 9207 ``iss``,
``state``, the ID token's signature, ``iss``, ``aud``, ``exp``, ``nonce``, the
userinfo ``sub``); a step marked ``ok`` passed all of it.
"""
import pytest

from browser import screenshot
from flows import query_of

pytestmark = pytest.mark.browser


def refused(step: dict) -> dict:
    """The error the library raised for a step that had to fail."""
    assert step["ok"] is False, f"the library accepted it: {step}"
    return step["error"]


def response_error(step: dict) -> tuple[str, int]:
    """``(error, status)`` of an OAuth error body (``ResponseBodyError``)."""
    error = refused(step)
    assert error["name"] == "ResponseBodyError", error
    return error["error"], error["status"]


def succeeded(report: dict, *names: str) -> None:
    failed = {name: report["steps"].get(name) for name in names if not report["steps"].get(name, {}).get("ok")}
    assert not failed, failed


def test_openid_client_completes_the_code_flow_and_logs_out(live, page, relying_site, user):
    page.goto(relying_site.start_url("full"))
    page.get_by_label("Mot de passe").wait_for()
    screenshot(page, "login")
    relying_site.log_in(page, user)
    page.get_by_role("button", name="Autoriser").wait_for()
    heading = "Site partenaire (openid-client) demande l'accès à votre compte"
    assert page.get_by_role("heading", name=heading).is_visible()
    screenshot(page, "consent")
    relying_site.consent(page)
    report = relying_site.report(page)
    screenshot(page, "report")
    steps = report["steps"]
    succeeded(report, "discovery", "authorization_code_grant", "userinfo", "refresh", "introspection", "revocation",
              "introspection_after_revocation", "refresh_token_introspection", "refresh_token_revocation",
              "end_session_url")

    metadata = steps["discovery"]["metadata"]
    assert metadata["issuer"] == live.url
    assert metadata["authorization_response_iss_parameter_supported"] is True

    # The code flow with PKCE; the library checked iss (RFC 9207), state, and the ID token.
    grant = steps["authorization_code_grant"]
    assert grant["requests"] == ["POST /token"]
    claims = grant["id_token_claims"]
    assert claims["iss"] == live.url
    assert claims["aud"] == relying_site.client.client_id
    assert claims["sub"] == user.identifiant
    assert claims["acr"] == "eidas1"
    assert claims["amr"] == ["pwd"]
    assert claims["email"] == user.email
    assert grant["token_type"].lower() == "bearer"
    assert grant["scope"].split() == ["openid", "profile", "email"]

    # Userinfo: the library refuses an answer about anyone but the ID token's sub.
    assert steps["userinfo"]["userinfo"]["sub"] == claims["sub"]
    assert steps["userinfo"]["userinfo"]["email"] == user.email

    # Refresh rotates the refresh token; the new ID token keeps the login's facts.
    refresh = steps["refresh"]
    assert refresh["refresh_token"] and refresh["refresh_token"] != grant["refresh_token"]
    assert refresh["access_token"] != grant["access_token"]
    for claim in ("sub", "auth_time", "acr", "amr", "sid"):
        assert refresh["id_token_claims"][claim] == claims[claim]

    # Introspection (RFC 7662): active, then inactive once revoked (RFC 7009).
    introspection = steps["introspection"]["introspection"]
    assert introspection["active"] is True
    assert introspection["sub"] == claims["sub"]
    assert introspection["client_id"] == relying_site.client.client_id
    assert steps["introspection_after_revocation"]["introspection"] == {"active": False}
    challenge = refused(steps["userinfo_after_revocation"])
    assert challenge["status"] == 401
    assert challenge["challenges"][0]["scheme"] == "bearer"
    assert challenge["challenges"][0]["parameters"]["error"] == "invalid_token"

    # Revoking the refresh token ends the grant.
    assert steps["refresh_token_introspection"]["introspection"]["active"] is True
    assert response_error(steps["refresh_after_revocation"]) == ("invalid_grant", 400)

    # RP-initiated logout, with id_token_hint, back to the registered URI with the state.
    page.get_by_role("link", name="Se déconnecter").click()
    page.wait_for_url(relying_site.logged_out + "?**")
    sent_state = query_of(steps["end_session_url"]["url"])["state"]
    assert query_of(page.url) == {"state": sent_state}
    screenshot(page, "after-logout")

    # The session is over: without interaction the answer is login_required ...
    page.goto(relying_site.start_url("error", prompt="none"))
    error = refused(relying_site.report(page)["steps"]["authorization_code_grant"])
    assert (error["name"], error["error"]) == ("AuthorizationResponseError", "login_required")
    # ... and a new authorization asks for the password again.
    page.goto(relying_site.start_url("full"))
    page.get_by_label("Mot de passe").wait_for()
    assert page.url.startswith(live.url + "/login")
    screenshot(page, "login-again")


def test_logout_towards_an_unregistered_uri_stays_on_the_provider(live, page, relying_site, user):
    report = relying_site.sign_in(page, user, "full")
    page.goto(report["steps"]["end_session_url_unregistered"]["url"])
    assert page.url == live.url + "/logout/done"
    assert page.get_by_role("heading", name="Vous êtes déconnecté").is_visible()


def test_replayed_code_is_invalid_grant_and_revokes_what_it_issued(page, relying_site, user):
    steps = relying_site.sign_in(page, user, "replay")["steps"]
    assert steps["authorization_code_grant"]["ok"], steps["authorization_code_grant"]
    assert response_error(steps["code_replay"]) == ("invalid_grant", 400)
    assert steps["introspection_of_first_access_token"]["introspection"] == {"active": False}
    assert response_error(steps["refresh_with_first_refresh_token"]) == ("invalid_grant", 400)


def test_response_with_another_state_is_refused_before_any_request(page, relying_site, user):
    steps = relying_site.sign_in(page, user, "state")["steps"]
    error = refused(steps["wrong_state"])
    assert (error["name"], error["code"]) == ("ClientError", "OAUTH_INVALID_RESPONSE")
    assert error["cause"] == 'unexpected "state" response parameter value'
    assert steps["wrong_state"]["requests"] == []
    # Nothing reached the provider: the code is still good for its own session.
    assert steps["right_state"]["ok"], steps["right_state"]


def test_wrong_pkce_verifier_is_invalid_grant(page, relying_site, user):
    steps = relying_site.sign_in(page, user, "pkce")["steps"]
    assert response_error(steps["wrong_verifier"]) == ("invalid_grant", 400)
    assert refused(steps["wrong_verifier"])["error_description"] == "Code challenge failed."
    # Whoever tried the stolen code cannot spoil the real client's exchange.
    assert steps["right_verifier_after"]["ok"], steps["right_verifier_after"]


def test_reused_refresh_token_is_invalid_grant_and_revokes_the_family(page, relying_site, user):
    steps = relying_site.sign_in(page, user, "refresh_reuse")["steps"]
    assert steps["refresh"]["ok"], steps["refresh"]
    assert response_error(steps["reuse_of_rotated_refresh_token"]) == ("invalid_grant", 400)
    assert response_error(steps["refresh_with_latest_refresh_token"]) == ("invalid_grant", 400)
    assert steps["introspection_of_latest_access_token"]["introspection"] == {"active": False}


def test_another_site_cannot_use_our_code_or_tokens(page, relying_site, user):
    steps = relying_site.sign_in(page, user, "other_client")["steps"]
    assert response_error(steps["code_at_other_client"]) == ("invalid_grant", 400)
    assert steps["authorization_code_grant"]["ok"], steps["authorization_code_grant"]
    assert response_error(steps["refresh_at_other_client"]) == ("invalid_grant", 400)
    assert response_error(steps["revocation_by_other_client"]) == ("invalid_grant", 400)
    # The refused attempts changed nothing for the site that owns the tokens.
    assert steps["introspection_after_other_client"]["introspection"]["active"] is True
    assert steps["refresh_by_owner"]["ok"], steps["refresh_by_owner"]


def test_wrong_client_secret_is_invalid_client_with_a_basic_challenge(page, relying_site, user):
    steps = relying_site.sign_in(page, user, "wrong_secret")["steps"]
    # RFC 6749 §5.2: a failed Basic authentication is a 401 with a WWW-Authenticate
    # challenge, which openid-client raises as such; the body names the error.
    for name in ("code_with_wrong_secret", "introspection_with_wrong_secret", "revocation_with_wrong_secret",
                 "refresh_with_wrong_secret"):
        error = refused(steps[name])
        assert error["name"] == "WWWAuthenticateChallengeError", error
        assert error["status"] == 401
        assert error["challenges"][0]["scheme"] == "basic"
        assert error["body"]["error"] == "invalid_client"
    assert steps["authorization_code_grant"]["ok"], steps["authorization_code_grant"]
    assert steps["introspection"]["introspection"]["active"] is True, "the refused revocation revoked nothing"


def test_response_claiming_another_issuer_is_refused(page, relying_site, user):
    steps = relying_site.sign_in(page, user, "mix_up")["steps"]
    for name, cause in (("forged_iss", 'unexpected "iss" (issuer) response parameter value'),
                        ("missing_iss", 'response parameter "iss" (issuer) missing')):
        error = refused(steps[name])
        assert (error["code"], error["cause"]) == ("OAUTH_INVALID_RESPONSE", cause)
        assert steps[name]["requests"] == []
    assert steps["genuine"]["ok"], steps["genuine"]


def test_id_token_for_another_nonce_is_refused(page, relying_site, user):
    steps = relying_site.sign_in(page, user, "nonce")["steps"]
    error = refused(steps["wrong_nonce"])
    assert (error["code"], error["cause"]) == ("OAUTH_JWT_CLAIM_COMPARISON_FAILED",
                                               'unexpected ID Token "nonce" claim value')


def test_plain_pkce_is_invalid_request_on_the_redirect(page, relying_site):
    page.goto(relying_site.start_url("error", pkce="plain"))
    error = refused(relying_site.report(page)["steps"]["authorization_code_grant"])
    assert (error["name"], error["error"]) == ("AuthorizationResponseError", "invalid_request")
    assert error["error_description"] == "'code_challenge_method' must be 'S256'."


def test_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(live, page, relying_site):
    response = page.goto(relying_site.start_url("error", redirect_uri=relying_site.url + "/elsewhere"))
    assert response.status == 400
    assert page.url.startswith(live.url + "/authorize?")
    alert = page.get_by_role("alert")
    assert "La demande de connexion est invalide" in alert.inner_text()
    assert "invalid_request" in alert.inner_text()
    screenshot(page, "redirect-uri-refused")


def test_refused_consent_is_access_denied(page, relying_site, user):
    page.goto(relying_site.start_url("error"))
    relying_site.log_in(page, user)
    page.get_by_role("button", name="Refuser").click()
    error = refused(relying_site.report(page)["steps"]["authorization_code_grant"])
    assert (error["name"], error["error"]) == ("AuthorizationResponseError", "access_denied")
