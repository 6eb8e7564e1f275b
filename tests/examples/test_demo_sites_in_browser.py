"""The two demo relying sites in a real Chromium: single sign-on, rights from the token, a change pushed.

A collaborator logs in on the site de l'Ordre, opens jesignexpert without
typing his password again, and sees on each the rights his expert gave
him. The expert deactivates the delegation; once the event is delivered,
each site drops the right at the very next page, long before the access
token it held would have expired.
"""
from __future__ import annotations

import re

import pytest

from browser import screenshot

pytestmark = pytest.mark.browser


def firm_card(page, siret: str):
    return page.locator(f"#firm-{siret}")


def test_single_sign_on_rights_and_a_deactivation_pushed_to_both_sites(
        page, live, site_ordre, jesignexpert, expert, collaborator, delegation_id, deliver_events, app):
    # Site de l'Ordre: not logged in, it sends the browser to Comptexpert.
    page.goto(site_ordre.url + "/")
    page.get_by_role("main").get_by_role("link", name="Se connecter avec Comptexpert").click()
    page.wait_for_url(re.compile(re.escape(live.url) + r"/login\?"))
    page.get_by_label("Identifiant ou adresse électronique").fill(collaborator.email)
    page.get_by_label("Mot de passe").fill(collaborator.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(site_ordre.url + "/")

    card = firm_card(page, expert.siret)
    assert card.get_by_role("heading", name=re.compile("SOGETES")).is_visible()
    assert card.get_by_role("link", name="Documents du site privé").is_visible()
    assert card.get_by_role("link", name="Clubs et événements").is_visible()
    screenshot(page, "site-ordre-rights")

    page.goto(site_ordre.url + "/droits")
    rights = page.get_by_role("table", name="Droits, cabinet par cabinet")
    assert rights.get_by_role("row").filter(has_text="ordre:site_prive").filter(
        has_text=f"délégué par {expert.identifiant}").count() == 1
    assert rights.get_by_role("row").filter(has_text="ordre:droits_administratifs").count() == 1
    page.goto(site_ordre.url + f"/cabinets/{expert.siret}/documents")
    assert page.get_by_role("heading", name="Documents du site privé").is_visible()

    # jesignexpert: the provider's session answers, no password asked (single sign-on).
    page.goto(jesignexpert.url + "/")
    page.get_by_role("main").get_by_role("link", name="Se connecter avec Comptexpert").click()
    page.wait_for_url(jesignexpert.url + "/")
    card = firm_card(page, expert.siret)
    assert card.get_by_role("link", name="Préparer une collecte").is_visible()
    # Signing needs a SIGNEXPERT login (eidas3): the page says so instead of refusing outright.
    assert card.get_by_text("connexion par carte SIGNEXPERT (eidas3) requise").is_visible()
    screenshot(page, "jesignexpert-sso-rights")

    # The expert deactivates the delegation (Consulter/Modifier, through the service).
    from idp.accounts.models import User
    from idp.delegations.services import deactivate
    from idp.extensions import db

    with app.app_context():
        deactivate(db.session.get(User, expert.id), delegation_id)
        db.session.commit()
        db.session.remove()

    # Until the event arrives, the site trusts the access token it holds.
    page.goto(site_ordre.url + "/")
    assert firm_card(page, expert.siret).get_by_role("link", name="Documents du site privé").is_visible()

    assert deliver_events() == 2, "one token-claims-change to each site"

    page.goto(site_ordre.url + "/")
    card = firm_card(page, expert.siret)
    assert card.get_by_text("Documents du site privé : pas ce droit").is_visible()
    assert card.get_by_text("Clubs et événements : pas de droits administratifs").is_visible()
    assert page.locator("#events").get_by_text("token-claims-change").is_visible()
    screenshot(page, "site-ordre-after-deactivation")
    page.goto(site_ordre.url + f"/cabinets/{expert.siret}/documents")
    assert page.get_by_role("heading", name="Accès refusé").is_visible()

    page.goto(jesignexpert.url + "/")
    assert firm_card(page, expert.siret).get_by_text("Préparer une collecte : pas ce droit").is_visible()
    screenshot(page, "jesignexpert-after-deactivation")


def test_signing_asks_for_a_signexpert_login(page, live, jesignexpert, expert, collaborator, delegation_id):
    page.goto(jesignexpert.url + "/login")
    page.get_by_label("Identifiant ou adresse électronique").fill(collaborator.email)
    page.get_by_label("Mot de passe").fill(collaborator.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(jesignexpert.url + "/")

    firm_card(page, expert.siret).get_by_role("button", name="Signer un document").click()

    assert page.get_by_role("heading", name="Connexion plus forte requise").is_visible()
    challenge = page.locator("#challenge").inner_text()
    assert ('WWW-Authenticate: Bearer realm="https://jesignexpert.com", error="insufficient_user_authentication", '
            'error_description="A stronger authentication is required", acr_values="eidas3"') in challenge
    screenshot(page, "jesignexpert-step-up")
    page.get_by_role("link", name="Se connecter par carte SIGNEXPERT").click()
    # Back at Comptexpert, which asks for the certificate the password login cannot replace.
    page.wait_for_url(re.compile(re.escape(live.url) + r"/login\?"))
    assert page.get_by_text("Ce site demande une connexion avec votre certificat SIGNEXPERT.").is_visible()
    screenshot(page, "provider-step-up")


def test_logging_out_at_the_provider_ends_the_session_on_both_sites(
        page, live, site_ordre, jesignexpert, collaborator, deliver_events):
    for site in (site_ordre, jesignexpert):
        page.goto(site.url + "/login")
        if page.url.startswith(live.url):
            page.get_by_label("Identifiant ou adresse électronique").fill(collaborator.email)
            page.get_by_label("Mot de passe").fill(collaborator.password)
            page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(site.url + "/")
        assert page.get_by_role("heading", name="Bonjour Benjamin Dossat").is_visible()

    # RP-initiated logout from jesignexpert: Comptexpert ends its session and tells both sites.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(jesignexpert.url + "/")
    assert deliver_events() == 4, "session-revoked and a logout token to each site"

    page.goto(site_ordre.url + "/")
    assert page.get_by_role("main").get_by_role("link", name="Se connecter avec Comptexpert").is_visible()
    assert page.locator("#events").get_by_text("backchannel-logout").is_visible()
    screenshot(page, "site-ordre-after-logout")
