"""Mes sociétés d'exercice in a real Chromium: reached from the Mon Espace menu."""
import pytest

from browser import screenshot
from register_files import make_siret, row

pytestmark = pytest.mark.browser

S1, S2 = make_siret(44523611), make_siret(73282932)


def test_an_expert_opens_his_firms_from_the_menu(page, make_user, load_register):
    expert = make_user(email="philippe.durant@sogetes.example", profile="expert_comptable", expert_status="pending")
    load_register([
        row("75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", S1, "SOGETES", "Paris"),
        row("75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", S2, "Durant Conseil", "Versailles"),
    ])
    page.goto("/login")
    page.get_by_label("Identifiant ou adresse électronique").fill(expert.email)
    page.get_by_label("Mot de passe").fill(expert.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/compte/")
    page.get_by_role("navigation", name="Mon Espace").get_by_role("link", name="Mes sociétés d'exercice").click()
    page.wait_for_url("**/compte/societes")
    table = page.get_by_role("table", name="Sociétés d'exercice dans lesquelles vous exercez")
    assert table.get_by_role("row").count() == 3, "a header and two firms"
    assert table.get_by_role("cell", name=f"{S1[:3]}.{S1[3:6]}.{S1[6:9]}.{S1[9:]}").is_visible()
    screenshot(page, "societes-expert")


def test_a_collaborator_sees_the_explanation(page, make_user):
    collaborator = make_user(email="benjamin.dossat@sogetes.example")
    page.goto("/login")
    page.get_by_label("Identifiant ou adresse électronique").fill(collaborator.email)
    page.get_by_label("Mot de passe").fill(collaborator.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/compte/")
    page.goto("/compte/societes")
    assert page.get_by_text("grâce aux délégations que votre expert-comptable vous donne").is_visible()
    screenshot(page, "societes-collaborateur")
