"""Mes délégations in a real Chromium: create in three steps, a request for more rights, its approval."""
import pytest

from browser import screenshot

pytestmark = pytest.mark.browser

SIGN = "jesignexpert.com : signer électroniquement"
SEAL = "jesignexpert.com : sceller électroniquement"
SITE = "Site de l'Ordre : contenu et documents du site privé (lettres de mission, rapports, fiches marketing)"
SIMULATORS = "Outils connectés : simulateurs"


def log_in(page, user):
    page.goto("/login")
    page.get_by_label("Identifiant ou adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(user.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/compte/")


def test_an_expert_delegates_to_two_collaborators_then_approves_a_request(page, chromium, live, expert,
                                                                          make_collaborator):
    benjamin = make_collaborator(email="bdossat@reulant.example")
    cyrille = make_collaborator(email="cbellanger@agence.example", given_name="Cyrille", family_name="Bellanger")

    log_in(page, expert)
    page.get_by_role("link", name="Mes délégations").click()
    page.get_by_role("link", name="Créer/Ajouter des délégations").first.click()
    page.get_by_label("Société d'exercice").select_option(label=f"SOGETES - PARIS - {expert.firm.siret[:3]}."
                                                             f"{expert.firm.siret[3:6]}.{expert.firm.siret[6:9]}."
                                                             f"{expert.firm.siret[9:]}")
    screenshot(page, "1-firm")
    page.get_by_role("button", name="Continuer").click()

    page.get_by_label("Adresses électroniques des collaborateurs, une par ligne").fill(
        f"{benjamin.email}\n{cyrille.email}")
    screenshot(page, "2-collaborators")
    page.get_by_role("button", name="Vérifier la liste").click()

    assert page.get_by_text("2 collaborateur(s), liste vérifiée").is_visible()
    for label in (SIGN, SEAL, SITE):
        page.get_by_label(label).check()
    screenshot(page, "3-rights")
    page.get_by_role("button", name="Déléguer").click()

    page.wait_for_url("**/compte/delegations/consulter**")
    assert page.get_by_role("status").filter(has_text="2 délégation(s) créée(s)").is_visible()
    assert page.get_by_text("Benjamin DOSSAT (bdossat@reulant.example)").is_visible()
    assert page.get_by_text("Cyrille BELLANGER (cbellanger@agence.example)").is_visible()
    screenshot(page, "4-given")

    # Benjamin asks for one more right, in his own browser.
    context = chromium.new_context(locale="fr-FR", base_url=live.url)
    theirs = context.new_page()
    theirs.set_default_timeout(15000)
    log_in(theirs, benjamin)
    theirs.get_by_role("link", name="Mes délégations").click()
    theirs.get_by_role("link", name="Demander des délégations ou consulter mes délégations reçues").first.click()
    assert theirs.get_by_text(SIGN).first.is_visible()
    theirs.get_by_label("Expert-comptable (adresse électronique ou identifiant)").fill(expert.identifiant)
    theirs.get_by_label("SIRET de la société d'exercice").fill(expert.firm.siret)
    theirs.get_by_label(SIMULATORS).check()
    theirs.get_by_label("Message à l'expert-comptable").fill("Pour préparer les prévisionnels des clients")
    screenshot(theirs, "5-request")
    theirs.get_by_role("button", name="Envoyer la demande").click()
    assert theirs.get_by_role("status").filter(has_text="Demande envoyée").is_visible()

    # The expert approves it.
    page.get_by_role("link", name="Consulter les délégations en attente").first.click()
    assert page.get_by_text("Pour préparer les prévisionnels des clients").is_visible()
    screenshot(page, "6-pending")
    page.get_by_role("link", name="Répondre à la demande de bdossat@reulant.example").click()
    assert page.get_by_label(SIMULATORS).is_checked()
    page.get_by_role("button", name="Accepter").click()
    assert page.get_by_role("status").filter(has_text="Demande acceptée").is_visible()
    screenshot(page, "7-approved")

    theirs.reload()
    assert theirs.get_by_text(SIMULATORS).first.is_visible()
    screenshot(theirs, "8-received")
    theirs.get_by_role("link", name="Ma messagerie").click()
    assert theirs.get_by_text("Demande de délégation acceptée").is_visible()
    screenshot(theirs, "9-messagerie")
    context.close()
