"""Adding, using and removing the authenticator app in Sécurité."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from authenticator_support import RECOVERY_RE, SECRET_RE, Authenticator, enrol_through_pages, login_with_code
from flows import Browser, csrf_of


def _start(browser):
    security = browser.get("/compte/securite/")
    return browser.follow(browser.post("/compte/securite/application/nouvelle",
                                       data={"csrf_token": csrf_of(security.text)}))


def test_security_is_in_the_mon_espace_menu(live, logged_in):
    page = logged_in.get("/compte/")
    assert '<a href="/compte/securite/"' in page.text and ">Sécurité</a>" in page.text


def test_enrolment_shows_a_qr_code_and_the_key_grouped_by_four(live, user, logged_in):
    page = _start(logged_in)
    assert page.status_code == 200
    assert re.search(r'<img src="data:image/svg\+xml[^"]+" width="250" height="250" alt="QR code', page.text)
    grouped = SECRET_RE.search(page.text).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", grouped)
    uri = unescape(re.search(r'href="(otpauth://[^"]+)"', page.text).group(1))
    parts = urlsplit(uri)
    assert parts.netloc == "totp"
    assert unquote(parts.path) == f"/Comptexpert:{user.identifiant}"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {"secret": grouped.replace(" ", ""), "issuer": "Comptexpert"}


def test_the_app_is_enabled_only_after_one_right_code(live, user, logged_in):
    page = _start(logged_in)
    phone = Authenticator(SECRET_RE.search(page.text).group(1))

    wrong = logged_in.post("/compte/securite/application",
                           data={"csrf_token": csrf_of(page.text), "code": phone.wrong_code()})
    assert wrong.status_code == 400
    assert ("Code incorrect. Vérifiez l&#39;heure de votre téléphone et saisissez le code affiché."
            in wrong.text)
    # Not enabled yet: the password alone still logs in.
    assert Browser(live.url).login(user.email, user.password).url.endswith("/compte/")

    done = logged_in.post("/compte/securite/application", data={"csrf_token": csrf_of(page.text), "code": phone.code()})
    assert done.status_code == 200
    codes = RECOVERY_RE.findall(done.text)
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"([A-Z2-9]{4}-){3}[A-Z2-9]{4}", code) for code in codes)
    security = logged_in.get("/compte/securite/")
    assert "Activée le" in security.text and "Il vous reste 10 codes de secours." in security.text
    # The codes are shown once: nowhere on the Sécurité page.
    assert not any(code in security.text for code in codes)
    # Now the password alone is not enough.
    assert Browser(live.url).login(user.email, user.password).url.endswith("/login/code")


def test_secret_is_encrypted_and_recovery_codes_are_digests(live, app, user, logged_in):
    from idp.accounts.models import RecoveryCode, User
    from idp.db import digest
    from idp.extensions import db

    phone, codes = enrol_through_pages(logged_in)
    with app.app_context():
        account = db.session.get(User, user.id)
        assert phone.secret.encode() not in account.totp_secret_encrypted
        stored = set(db.session.scalars(db.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    assert stored == {digest(code.replace("-", "")) for code in codes}


def test_starting_again_replaces_an_unconfirmed_key(live, logged_in):
    first = SECRET_RE.search(_start(logged_in).text).group(1)
    second_page = _start(logged_in)
    assert SECRET_RE.search(second_page.text).group(1) != first
    stale = Authenticator(first)
    response = logged_in.post("/compte/securite/application",
                              data={"csrf_token": csrf_of(second_page.text), "code": stale.code()})
    assert response.status_code == 400


def test_regenerating_recovery_codes_asks_a_code_and_voids_the_old_ones(live, user, logged_in):
    phone, old_codes = enrol_through_pages(logged_in)
    security = logged_in.get("/compte/securite/")
    refused = logged_in.post("/compte/securite/codes-de-secours",
                             data={"csrf_token": csrf_of(security.text), "code": phone.wrong_code()})
    assert refused.status_code == 400
    assert '<p class="field-error" id="regenerate-code-error">Code incorrect.</p>' in refused.text
    assert 'aria-describedby="regenerate-code-error"' in refused.text

    fresh = logged_in.post("/compte/securite/codes-de-secours",
                           data={"csrf_token": csrf_of(security.text), "code": phone.code()})
    assert fresh.status_code == 200
    new_codes = RECOVERY_RE.findall(fresh.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)

    assert login_with_code(Browser(live.url), user, old_codes[0]).status_code == 401
    assert login_with_code(Browser(live.url), user, new_codes[0]).url.endswith("/compte/")


def test_disabling_asks_the_password_and_a_code(live, rp, user, logged_in):
    phone, _ = enrol_through_pages(logged_in)
    security = logged_in.get("/compte/securite/")
    token = csrf_of(security.text)

    bad_password = logged_in.post("/compte/securite/application/desactiver",
                                  data={"csrf_token": token, "password": "not my password", "code": phone.wrong_code()})
    assert bad_password.status_code == 400
    assert '<p class="field-error" id="disable-password-error">Mot de passe incorrect.</p>' in bad_password.text

    bad_code = logged_in.post("/compte/securite/application/desactiver",
                              data={"csrf_token": token, "password": user.password, "code": phone.wrong_code()})
    assert bad_code.status_code == 400
    assert '<p class="field-error" id="disable-code-error">Code incorrect.</p>' in bad_code.text

    done = logged_in.follow(logged_in.post("/compte/securite/application/desactiver",
                                           data={"csrf_token": token, "password": user.password, "code": phone.code()}))
    assert "L&#39;application d&#39;authentification est désactivée, et vos codes de secours annulés." in done.text
    assert 'action="/compte/securite/application/nouvelle"' in done.text
    # Back to the password alone, and to eidas1.
    claims = rp.verify(rp.tokens_for(Browser(live.url), user)["id_token"], audience=rp.client_id)
    assert (claims["acr"], claims["amr"]) == ("eidas1", ["pwd"])


@pytest.mark.parametrize("path", [
    "/compte/securite/application/nouvelle",
    "/compte/securite/application",
    "/compte/securite/application/desactiver",
    "/compte/securite/codes-de-secours",
    "/compte/securite/mot-de-passe",
    "/compte/securite/sessions/tout-fermer",
])
def test_every_security_form_refuses_a_forged_post(live, user, logged_in, path):
    response = logged_in.post(path, data={"code": "123456", "password": user.password,
                                          "current_password": user.password, "new_password": "x" * 20,
                                          "confirm_password": "x" * 20})
    assert response.status_code == 400
    assert "Ce formulaire a expiré ou ne vient pas de Comptexpert" in response.text
    # Nothing happened: still logged in, still no app.
    assert logged_in.get("/compte/securite/").status_code == 200
