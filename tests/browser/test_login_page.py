"""The login page in a real Chromium."""
import pytest

from browser import screenshot

pytestmark = pytest.mark.browser


def test_login_page_logs_in_and_opens_mon_espace(page, user):
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_label("Identifiant ou adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(user.password)
    screenshot(page, "login-filled")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/compte/")
    assert page.get_by_text(user.identifiant).is_visible()
    screenshot(page, "mon-espace")


def test_wrong_password_message_is_announced(page, user):
    page.goto("/login")
    page.get_by_label("Identifiant ou adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill("wrong password!!")
    page.get_by_role("button", name="Se connecter").click()
    alert = page.get_by_role("alert")
    assert "Identifiant ou mot de passe incorrect." in alert.inner_text()
    screenshot(page, "login-error")
