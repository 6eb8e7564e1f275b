"""A delegation to an address without an account waits, and applies once that address is confirmed."""
from account_steps import PASSWORD, open_link, sign_up
from flows import Browser
from smtp import link_in, text_of

from deleg_steps import logged_in

SITE = "ordre:site_prive"
ADDRESS = "nouvelle.collaboratrice@cabinet.example"


def test_the_invitation_is_mailed_and_applies_when_the_account_confirms_its_address(live, smtp, expert, api):
    [d] = api(expert).create(expert.firm, [ADDRESS], [SITE, "services:clubs"]).json()["items"]
    assert d["state"] == "pending_account"
    invitation = smtp.wait_for(ADDRESS)
    assert invitation["Subject"] == "Invitation de Philippe Durant (%s)" % expert.email
    assert "Créez votre Comptexpert (profil « Autre profil ») avec cette adresse" in text_of(invitation)
    assert f"{live.url}/compte/delegations/recues" in text_of(invitation)

    browser = Browser(live.url)
    assert sign_up(browser, email=ADDRESS, given_name="Claire", family_name="Martin").status_code in (200, 303)
    assert api(expert).get(f"/delegations/{d['id']}").json()["state"] == "pending_account"  # not confirmed yet
    open_link(browser, link_in(smtp.wait_for(ADDRESS, count=2)))

    now_active = api(expert).get(f"/delegations/{d['id']}").json()
    assert now_active["state"] == "active"
    assert now_active["grantee"]["email"] == ADDRESS and now_active["grantee"]["identifiant"]
    history = api(expert).get(f"/delegations/{d['id']}/history").json()["items"]
    assert [(e["action"], e["acting_as"], e["via"]) for e in history] == [
        ("create", "expert", history[0]["via"]), ("account_confirmed", "system", "email_confirmation")]

    expert_messages = logged_in(live.url, expert).get("/compte/messagerie").text
    assert "Délégation active pour Claire Martin" in expert_messages


def test_the_invitation_waits_in_the_messagerie_of_the_new_account(live, smtp, expert, api):
    api(expert).create(expert.firm, [ADDRESS], [SITE])
    browser = Browser(live.url)
    sign_up(browser, email=ADDRESS)
    smtp.wait_for(ADDRESS)  # the invitation
    open_link(browser, link_in(smtp.wait_for(ADDRESS, count=2)))
    browser.login(ADDRESS, PASSWORD)  # confirming an address does not log in
    page = browser.get("/compte/messagerie")
    assert "Invitation de Philippe Durant" in page.text
    assert "Site de l&#39;Ordre" in browser.get("/compte/delegations/recues").text


def test_an_existing_account_that_never_confirmed_its_address_does_not_get_the_rights(live, smtp, expert, api,
                                                                                     make_collaborator):
    unconfirmed = make_collaborator(email=ADDRESS, email_verified=False)
    [d] = api(expert).create(expert.firm, [unconfirmed.email], [SITE]).json()["items"]
    assert d["state"] == "pending_account" and d["grantee"]["identifiant"] is None


def test_collaborators_with_an_account_are_told_at_once(live, smtp, expert, collaborator, api):
    api(expert).create(expert.firm, [collaborator.email], ["jesignexpert:signer"])
    message = smtp.wait_for(collaborator.email)
    assert message["Subject"] == "Nouvelle délégation de Philippe Durant (%s)" % expert.email
    assert "jesignexpert.com : signer électroniquement" in text_of(message)
    assert "La délégation expire le " in text_of(message)
