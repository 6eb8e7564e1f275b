"""Sign-up, confirmation from the mail, login and Mes informations in a real Chromium."""
from __future__ import annotations

import re

import pytest

from account_steps import PASSWORD
from browser import screenshot
from smtp import link_in

pytestmark = pytest.mark.browser


def test_a_new_collaborator_signs_up_confirms_and_edits_his_information(page, smtp):
    page.goto("/login")
    page.get_by_role("link", name="Créer mon Comptexpert").click()
    page.wait_for_url("**/inscription")
    assert page.locator("html").get_attribute("lang") == "fr"

    page.get_by_label("Autre profil").check()
    page.get_by_label("Prénoms").fill("Cyrille")
    page.get_by_label("Nom", exact=True).fill("Bellanger")
    page.get_by_label("Adresse électronique").fill("cbellanger@lagenceeditoriale.example")
    page.get_by_label("Société").fill("SOGETES")
    page.get_by_label("Adresse principale").fill("19 rue Cognacq Jay")
    page.get_by_label("Code postal").fill("75001")
    page.get_by_label("Ville").fill("Paris")
    page.get_by_label("Téléphone").fill("01 44 15 40 00")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    screenshot(page, "signup-filled")
    page.get_by_role("button", name="Créer mon Comptexpert").click()
    page.get_by_role("heading", name="Vérifiez votre messagerie").wait_for()
    screenshot(page, "signup-sent")

    page.goto(link_in(smtp.wait_for("cbellanger@lagenceeditoriale.example")))
    screenshot(page, "confirm")
    page.get_by_role("button", name="Confirmer mon adresse").click()
    page.get_by_role("heading", name="Adresse confirmée").wait_for()
    identifiant = page.locator("dl.facts dd").first.inner_text()
    assert re.fullmatch(r"bel\d\d[A-Z0-9]{3}", identifiant)
    screenshot(page, "confirmed")

    page.get_by_role("link", name="Se connecter").click()
    page.get_by_label("Identifiant ou adresse électronique").fill(identifiant)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/compte/")
    assert page.get_by_text(identifiant).is_visible()
    assert page.get_by_text("SOGETES").is_visible()
    screenshot(page, "mes-informations")

    page.get_by_role("link", name="Modifier mes informations").click()
    page.get_by_label("Société").fill("Cabinet Bellanger")
    page.get_by_label("Téléphone").fill("+33 1 44 15 40 01")
    screenshot(page, "edit-filled")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/compte/")
    assert "Vos informations sont enregistrées." in page.get_by_role("status").first.inner_text()
    assert page.get_by_text("Cabinet Bellanger").is_visible()
    assert page.get_by_text("+33 1 44 15 40 01").is_visible()
    screenshot(page, "edited")


def test_sign_up_errors_are_announced_next_to_their_fields(page):
    page.goto("/inscription")
    page.get_by_label("Autre profil").check()
    page.get_by_label("Prénoms").fill("Cyrille")
    page.get_by_label("Nom", exact=True).fill("Bellanger")
    page.get_by_label("Adresse électronique").fill("cyrille@cabinet.example")
    page.get_by_label("Mot de passe", exact=True).fill("court")
    page.get_by_label("Confirmez le mot de passe").fill("court")
    page.get_by_role("button", name="Créer mon Comptexpert").click()
    alert = page.get_by_role("alert")
    assert "Le mot de passe doit contenir au moins 12 caractères." in alert.inner_text()
    password = page.get_by_label("Mot de passe", exact=True)
    assert password.get_attribute("aria-invalid") == "true"
    assert "password-error" in password.get_attribute("aria-describedby")
    screenshot(page, "signup-error")
