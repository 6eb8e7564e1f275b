"""Logging in with a SIGNEXPERT certificate, through nginx as in production and through the direct TLS listener.

Every certificate is presented by a real TLS client (requests with
``cert=(cert, key)``) in a real handshake; nothing is mocked.
"""
from __future__ import annotations

import datetime
import urllib.parse
from zoneinfo import ZoneInfo

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from flows import Browser, csrf_of, query_of
from signexpert_support import certificate_login, holder, interaction_of, open_certificate_page, text_of

NO_CERTIFICATE = "Aucun certificat n'a été présenté."
UNBOUND = "Ce certificat SIGNEXPERT est valide, mais il n'est associé à aucun compte Comptexpert."
REFUSALS = {
    "revoked": "Ce certificat a été révoqué par l'autorité de certification.",
    "wrong_usage": ("Ce certificat ne permet pas l'authentification d'un client "
                    "(usage étendu clientAuth absent)."),
    "foreign": "Ce certificat n'a pas été émis par l'autorité de certification de la profession.",
}


def paris_date(moment: datetime.datetime) -> str:
    return moment.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y")


def expected_refusal(pki, name: str) -> str:
    cert = pki.leaves[name].cert
    if name == "expired":
        return f"Ce certificat a expiré le {paris_date(cert.not_valid_after_utc)}."
    if name == "not_yet_valid":
        return f"Ce certificat n'est valable qu'à partir du {paris_date(cert.not_valid_before_utc)}."
    return REFUSALS[name]


def assert_refused(page, reason: str) -> None:
    assert page.status_code == 403, text_of(page)[:600]
    assert f'<span id="refusal-reason">{reason}</span>' in text_of(page)


def post_login_without_form(browser, front, csrf_token: str) -> requests.Response:
    """Press the login button as if the page had offered it: what a refused certificate gets on POST."""
    return browser.post(front.login_url, data={"csrf_token": csrf_token, "interaction": ""},
                        headers={"Referer": front.login_url})


# -- the way in -------------------------------------------------------------------------------

def test_a_bound_certificate_logs_in_at_eidas3_and_returns_to_the_relying_site(live, front, rp, user, bind,
                                                                                signexpert_pki, leaf_files):
    valid = signexpert_pki.leaves["valid"]
    bind(user, valid)
    browser = holder(live, front, leaf_files["valid"])

    login_page = browser.follow(browser.get(rp.authorize_url()))
    interaction = interaction_of(login_page)
    button = f'href="{front.login_url}?interaction={interaction}"'
    assert "Se connecter avec SIGNEXPERT" in login_page.text and button in login_page.text

    page = open_certificate_page(browser, interaction)
    assert page.status_code == 200
    assert "<dd>Philippe DURANT</dd>" in page.text
    assert f'<dd class="technical">{valid.cert.serial_number:x}</dd>' in page.text

    answer = browser.post_form(page, front.login_url, {"interaction": interaction})
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{live.url}/authorize/resume?interaction={interaction}"
    consent = browser.follow(answer)
    redirect = browser.consent(consent)
    params = query_of(redirect.headers["Location"])
    tokens = rp.exchange(params["code"]).json()

    claims = rp.verify(tokens["id_token"], audience=rp.client_id)
    assert claims["sub"] == user.identifiant
    assert claims["acr"] == "eidas3"
    assert claims["amr"] == ["hwk", "sc", "mfa"]
    assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= claims["iat"]
    access = rp.verify(tokens["access_token"], audience=rp.client.resources[0], typ="at+jwt")
    assert (access["acr"], access["amr"]) == ("eidas3", ["hwk", "sc", "mfa"])


def test_a_certificate_login_outside_any_authorization_opens_mon_espace(live, front, user, bind, signexpert_pki,
                                                                         leaf_files):
    bind(user, signexpert_pki.leaves["valid"])
    browser = holder(live, front, leaf_files["valid"])
    answer = certificate_login(browser)
    assert answer.status_code == 303 and answer.headers["Location"] == f"{live.url}/compte/"
    home = browser.follow(answer)
    assert home.status_code == 200
    security = browser.get("/compte/securite/")
    assert "Certificat SIGNEXPERT" in security.text  # the session's method, in the sessions table


# -- refusals -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["expired", "not_yet_valid", "revoked", "wrong_usage", "foreign"])
def test_through_nginx_every_bad_certificate_is_refused_with_its_reason(live, nginx, user, bind, signexpert_pki,
                                                                        leaf_files, name):
    browser = holder(live, nginx, leaf_files[name])
    page = open_certificate_page(browser)
    assert_refused(page, expected_refusal(signexpert_pki, name))
    assert 'action="/login/certificat"' not in page.text, "no login button for a refused certificate"

    answer = post_login_without_form(browser, nginx, csrf_of(browser.get("/login").text))
    assert_refused(answer, expected_refusal(signexpert_pki, name))
    assert "idp_session" not in browser.http.cookies


@pytest.mark.parametrize("name", ["expired", "not_yet_valid", "revoked"])
def test_through_the_direct_listener_dates_and_revocation_are_refused_with_their_reason(
        live, tls, signexpert_pki, leaf_files, name):
    browser = holder(live, tls, leaf_files[name])
    page = open_certificate_page(browser)
    assert_refused(page, expected_refusal(signexpert_pki, name))
    answer = post_login_without_form(browser, tls, csrf_of(browser.get("/login").text))
    assert_refused(answer, expected_refusal(signexpert_pki, name))
    assert "idp_session" not in browser.http.cookies


@pytest.mark.parametrize("name", ["wrong_usage", "foreign"])
def test_through_the_direct_listener_a_foreign_or_wrong_usage_certificate_fails_the_handshake(live, tls, leaf_files,
                                                                                              name):
    # The standard library's TLS cannot accept a certificate it cannot verify
    # (see idp/certificates/tls_server.py): OpenSSL refuses these two itself.
    browser = holder(live, tls, leaf_files[name])
    with pytest.raises(requests.exceptions.SSLError):
        open_certificate_page(browser)
    assert "idp_session" not in browser.http.cookies


def test_without_a_certificate_the_page_says_how_to_present_one(live, front):
    browser = holder(live, front)
    page = open_certificate_page(browser)
    assert page.status_code == 401
    assert NO_CERTIFICATE in text_of(page)
    answer = post_login_without_form(browser, front, csrf_of(browser.get("/login").text))
    assert answer.status_code == 401 and NO_CERTIFICATE in text_of(answer)
    assert "idp_session" not in browser.http.cookies


def test_a_valid_unbound_certificate_is_told_how_to_bind_it(live, front, user, leaf_files):
    browser = holder(live, front, leaf_files["valid"])
    page = open_certificate_page(browser)
    assert page.status_code == 403
    text = text_of(page)
    assert UNBOUND in text
    assert ("Connectez-vous avec votre identifiant et votre mot de passe, puis le code de votre application "
            "d'authentification.") in text
    assert "Choisissez « Associer mon certificat » et présentez ce certificat." in text
    answer = post_login_without_form(browser, front, csrf_of(browser.get("/login").text))
    assert answer.status_code == 403 and UNBOUND in text_of(answer)
    assert "idp_session" not in browser.http.cookies


def test_the_certificate_of_a_disabled_account_opens_nothing(live, app, front, user, bind, signexpert_pki,
                                                             leaf_files):
    bind(user, signexpert_pki.leaves["valid"])
    from idp.accounts.models import User
    from idp.db import utcnow
    from idp.extensions import db

    with app.app_context():
        db.session.get(User, user.id).disabled_at = utcnow()
        db.session.commit()
        db.session.remove()
    page = open_certificate_page(holder(live, front, leaf_files["valid"]))
    assert page.status_code == 403
    assert "Le compte associé à ce certificat est désactivé : contactez le support." in text_of(page)


# -- the forwarded header ---------------------------------------------------------------------------

def _forwarded(issued) -> str:
    """The header nginx would write: URL-encoded PEM ($ssl_client_escaped_cert)."""
    return urllib.parse.quote(issued.cert.public_bytes(serialization.Encoding.PEM).decode())


def test_the_forwarded_header_from_an_untrusted_address_is_ignored(live, signexpert, configure, user, bind,
                                                                   signexpert_pki):
    bind(user, signexpert_pki.leaves["valid"])
    # The live server sees this test at 127.0.0.1; the trusted proxy is elsewhere.
    configure(IDP_TRUSTED_PROXIES=["10.9.8.7"])
    forged = Browser(live.url)
    page = forged.get("/login/certificat", headers={"X-SSL-Client-Cert": _forwarded(signexpert_pki.leaves["valid"])})
    assert page.status_code == 401
    assert NO_CERTIFICATE in text_of(page)
    answer = forged.post("/login/certificat", data={"csrf_token": csrf_of(forged.get("/login").text)},
                         headers={"X-SSL-Client-Cert": _forwarded(signexpert_pki.leaves["valid"])})
    assert answer.status_code == 401 and "idp_session" not in forged.http.cookies

    # The same request from the trusted address is read: the address is what decides.
    configure(IDP_TRUSTED_PROXIES=["127.0.0.1"])
    trusted = forged.get("/login/certificat",
                         headers={"X-SSL-Client-Cert": _forwarded(signexpert_pki.leaves["valid"])})
    assert trusted.status_code == 200 and "<dd>Philippe DURANT</dd>" in trusted.text


def test_nginx_replaces_a_certificate_header_sent_by_the_client(live, nginx, user, bind, signexpert_pki):
    bind(user, signexpert_pki.leaves["valid"])
    browser = holder(live, nginx)  # no client certificate in the handshake
    page = browser.get(nginx.login_url, headers={"X-SSL-Client-Cert": _forwarded(signexpert_pki.leaves["valid"])})
    assert page.status_code == 401
    assert NO_CERTIFICATE in text_of(page)


def test_a_trusted_proxy_forwarding_garbage_gets_a_malformed_refusal(live, signexpert, configure):
    configure(IDP_TRUSTED_PROXIES=["127.0.0.0/8"])
    page = Browser(live.url).get("/login/certificat", headers={"X-SSL-Client-Cert": "not%20a%20certificate"})
    assert_refused(page, "Le certificat transmis est illisible.")


# -- trust follows the files -------------------------------------------------------------------------

def test_a_new_crl_is_honoured_without_a_restart(live, nginx, user, bind, signexpert, signexpert_pki, leaf_files):
    bind(user, signexpert_pki.leaves["valid"])
    assert certificate_login(holder(live, nginx, leaf_files["valid"])).status_code == 303

    crl = signexpert_pki.make_crl(signexpert_pki.intermediate,
                                  revoked=[signexpert_pki.leaves["revoked"].cert, signexpert_pki.leaves["valid"].cert])
    signexpert.crl_intermediate.write_bytes(crl.public_bytes(serialization.Encoding.PEM))

    page = open_certificate_page(holder(live, nginx, leaf_files["valid"]))
    assert_refused(page, REFUSALS["revoked"])


def test_without_a_ca_bundle_there_is_no_certificate_login(live, browser):
    page = browser.get("/login")
    assert "Se connecter avec SIGNEXPERT" not in page.text
    assert browser.get("/login/certificat").status_code == 404


def test_discovery_lists_the_assurance_levels(live):
    metadata = requests.get(live.url + "/.well-known/openid-configuration").json()
    assert metadata["acr_values_supported"] == ["eidas1", "eidas2", "eidas3"]
    assert metadata["claims_parameter_supported"] is True
    assert {"acr", "amr", "auth_time"} <= set(metadata["claims_supported"])
