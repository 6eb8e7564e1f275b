"""Adding the authenticator app and logging in with it, in a real Chromium."""
from __future__ import annotations

import pytest

from authenticator_support import Authenticator
from browser import screenshot

pytestmark = pytest.mark.browser


def _log_in_with_password(page, user):
    page.goto("/login")
    page.get_by_label("Identifiant ou adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(user.password)
    page.get_by_role("button", name="Se connecter").click()


def test_enrol_the_app_then_log_in_with_it(page, user):
    _log_in_with_password(page, user)
    page.wait_for_url("**/compte/")
    page.get_by_role("link", name="Sécurité").click()
    page.wait_for_url("**/compte/securite/")
    page.get_by_role("button", name="Ajouter une application d'authentification").click()
    page.wait_for_url("**/compte/securite/application")

    qr = page.get_by_role("img", name="QR code")
    assert qr.is_visible() and qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.naturalWidth") > 0, "the QR code is drawn (the CSP allows data: images)"
    phone = Authenticator(page.locator("#totp-secret").inner_text())
    screenshot(page, "qr-code")

    page.get_by_label("Code affiché par l'application").fill(phone.code())
    page.get_by_role("button", name="Activer").click()
    codes = page.get_by_role("list", name="Codes de secours").get_by_role("listitem")
    assert codes.count() == 10
    screenshot(page, "recovery-codes")

    page.get_by_role("link", name="J'ai noté mes codes").click()
    page.wait_for_url("**/compte/securite/")
    assert page.get_by_text("Il vous reste 10 codes de secours.").is_visible()
    screenshot(page, "security-page")
    page.get_by_role("button", name="Se déconnecter", exact=True).first.click()
    page.wait_for_url("**/logout/done")

    _log_in_with_password(page, user)
    page.wait_for_url("**/login/code")
    code_field = page.get_by_label("Code de vérification")
    assert code_field.get_attribute("autocomplete") == "one-time-code"
    code_field.fill(phone.code())
    screenshot(page, "code-step")
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/compte/")
    assert page.get_by_text(user.identifiant).is_visible()


def test_a_wrong_code_is_announced_next_to_the_field(page, enrolled):
    _log_in_with_password(page, enrolled.user)
    page.wait_for_url("**/login/code")
    page.get_by_label("Code de vérification").fill(enrolled.authenticator.wrong_code())
    page.get_by_role("button", name="Valider").click()
    field = page.get_by_label("Code de vérification")
    assert field.get_attribute("aria-invalid") == "true"
    assert "Code incorrect ou déjà utilisé." in page.locator("#code-error").inner_text()
    screenshot(page, "code-error")
