"""Mes délégations in the pages, over HTTP as a browser does it (the forms, their CSRF tokens, the answers)."""
import re
from datetime import date, timedelta

from deleg_steps import hidden, logged_in, post_form

SITE = "ordre:site_prive"
SIGN = ["jesignexpert:signer", "jesignexpert:preparer_collecte", "jesignexpert:sceller"]


def in_a_month() -> str:
    return (date.today() + timedelta(days=30)).isoformat()


def create_in_three_steps(browser, firm, emails: str, rights, ends_on=None):
    """Créer/Ajouter: the firm, the collaborators (typed), the rights and expiry; returns the last answer."""
    step1 = browser.get("/compte/delegations/creer")
    assert step1.status_code == 200, step1.text
    step2 = post_form(browser, step1, "/compte/delegations/creer/collaborateurs", {"firm_id": firm.id})
    assert step2.status_code == 200, step2.text
    step3 = post_form(browser, step2, "/compte/delegations/creer/apercu",
                      {"firm_id": firm.id, "emails": emails})
    if step3.status_code != 200:
        return step3
    return post_form(browser, step3, "/compte/delegations/creer/deleguer", {
        "firm_id": firm.id, "emails": hidden(step3.text, "emails"), "rights": list(rights),
        "ends_on": ends_on or hidden(step3.text, "ends_on"),
    })


def test_the_menu_of_mon_espace_leads_to_delegations_and_messages(live, collaborator):
    browser = logged_in(live.url, collaborator)
    home = browser.get("/compte/")
    assert 'href="/compte/delegations/"' in home.text and ">Mes délégations<" in home.text
    assert 'href="/compte/messagerie"' in home.text and ">Ma messagerie<" in home.text
    hub = browser.get("/compte/delegations/")
    assert "Demander des délégations ou consulter mes délégations reçues" in hub.text
    assert "Créer/Ajouter des délégations" not in hub.text  # a collaborator does not delegate


def test_an_expert_creates_delegations_in_three_steps(live, expert, make_collaborator):
    make_collaborator(email="bdossat@reulant.example")
    browser = logged_in(live.url, expert)
    step1 = browser.get("/compte/delegations/creer")
    assert "1. Société d'exercice" in step1.text and "SOGETES - PARIS - " in step1.text
    step2 = post_form(browser, step1, "/compte/delegations/creer/collaborateurs", {"firm_id": expert.firm.id})
    assert "2. Collaborateurs" in step2.text
    assert "Saisir l'email du collaborateur ou télécharger une liste (Excel)." in step2.text
    step3 = post_form(browser, step2, "/compte/delegations/creer/apercu", {
        "firm_id": expert.firm.id, "emails": "BDossat@reulant.example\n\n  cbellanger@agence.example  \n"})
    assert step3.status_code == 200, step3.text
    assert "3. Sélection des droits" in step3.text
    assert "Benjamin DOSSAT (bdossat@reulant.example)" in step3.text
    assert "pas encore de Comptexpert confirmé" in step3.text
    done = post_form(browser, step3, "/compte/delegations/creer/deleguer", {
        "firm_id": expert.firm.id, "emails": hidden(step3.text, "emails"), "rights": SIGN,
        "ends_on": in_a_month()})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/compte/delegations/consulter?firm="
                                                                           f"{expert.firm.id}")
    listing = browser.follow(done)
    assert "2 délégation(s) créée(s), dont 1 en attente de création du compte." in listing.text
    assert "Benjamin DOSSAT (bdossat@reulant.example)" in listing.text
    assert ("jesignexpert.com : signer électroniquement - jesignexpert.com : préparer la collecte - "
            "jesignexpert.com : sceller électroniquement") in listing.text
    assert listing.text.count("expire le ") == 2


def test_the_preview_marks_each_bad_line_and_applies_nothing(live, expert, collaborator):
    browser = logged_in(live.url, expert)
    answer = create_in_three_steps(browser, expert.firm, f"{collaborator.email}\nnot-an-email\n{expert.email}\n"
                                                         f"{collaborator.email}", [SITE])
    assert answer.status_code == 400
    assert "3 ligne(s) à corriger sur 4 : rien n'a été enregistré." in answer.text
    assert "Adresse électronique invalide." in answer.text
    assert "C&#39;est votre propre adresse" in answer.text
    assert "En double : déjà à la ligne 1." in answer.text
    assert "Aucune délégation ne correspond." in browser.get("/compte/delegations/consulter").text


def test_more_than_a_year_is_refused_on_the_last_step(live, expert, collaborator):
    browser = logged_in(live.url, expert)
    answer = create_in_three_steps(browser, expert.firm, collaborator.email, [SITE],
                                   ends_on=(date.today() + timedelta(days=400)).isoformat())
    assert answer.status_code == 400
    assert "Une délégation dure un an au plus." in answer.text
    answer = create_in_three_steps(browser, expert.firm, collaborator.email, [], ends_on=in_a_month())
    assert answer.status_code == 400 and "Choisissez au moins un droit." in answer.text


def test_the_expert_deactivates_extends_changes_and_removes_from_the_pages(live, expert, collaborator):
    browser = logged_in(live.url, expert)
    create_in_three_steps(browser, expert.firm, collaborator.email, SIGN, ends_on=in_a_month())
    listing = browser.get("/compte/delegations/consulter")
    delegation_id = re.search(r"/compte/delegations/(\d+)/desactiver", listing.text).group(1)
    done = post_form(browser, listing, f"/compte/delegations/{delegation_id}/desactiver", {"next": "given"})
    assert done.status_code == 303
    listing = browser.follow(done)
    assert "Délégation désactivée." in listing.text and "Désactivée · expire le" in listing.text

    page = browser.get(f"/compte/delegations/{delegation_id}")
    later = (date.today() + timedelta(days=200)).isoformat()
    done = post_form(browser, page, f"/compte/delegations/{delegation_id}/prolonger", {"ends_on": later})
    assert done.status_code == 303
    page = browser.follow(done)
    assert "Délégation prolongée." in page.text
    done = post_form(browser, page, f"/compte/delegations/{delegation_id}/droits", {"rights": [SITE]})
    page = browser.follow(done)
    assert "Droits modifiés." in page.text
    too_far = post_form(browser, page, f"/compte/delegations/{delegation_id}/prolonger",
                        {"ends_on": (date.today() + timedelta(days=800)).isoformat()})
    assert too_far.status_code == 400 and "Une délégation dure un an au plus." in too_far.text

    history = page.text[page.text.index("Historique"):]
    for action in ("Création", "Désactivation", "Prolongation", "Droits modifiés"):
        assert action in history
    assert f"{expert.identifiant} (expert-comptable, web)" in history

    done = post_form(browser, page, f"/compte/delegations/{delegation_id}/supprimer", {})
    assert browser.follow(done).text.count("Délégation supprimée.") == 1
    assert browser.get(f"/compte/delegations/{delegation_id}").status_code == 200  # still in the trail
    assert "Supprimée" in browser.get(f"/compte/delegations/{delegation_id}").text


def test_a_collaborator_asks_and_the_expert_approves_fewer_rights(live, expert, collaborator):
    mine = logged_in(live.url, collaborator)
    page = mine.get("/compte/delegations/recues")
    asked = post_form(mine, page, "/compte/delegations/demander", {
        "expert": expert.identifiant, "siret": expert.firm.siret[:9] + " " + expert.firm.siret[9:],
        "rights": SIGN, "message": "Pour les lettres de mission"})
    assert asked.status_code == 303, asked.text
    page = mine.follow(asked)
    assert "Demande envoyée à l&#39;expert-comptable." in page.text and "Demandée" in page.text

    theirs = logged_in(live.url, expert)
    pending = theirs.get("/compte/delegations/en-attente")
    assert "Pour les lettres de mission" in pending.text
    delegation_id = re.search(r'href="/compte/delegations/(\d+)"', pending.text).group(1)
    request_page = theirs.get(f"/compte/delegations/{delegation_id}")
    assert "Accepter la demande" in request_page.text and "Refuser la demande" in request_page.text
    approved = post_form(theirs, request_page, f"/compte/delegations/{delegation_id}/approuver",
                         {"rights": ["jesignexpert:signer"], "ends_on": in_a_month()})
    assert approved.status_code == 303
    assert "Demande acceptée : la délégation est active." in theirs.follow(approved).text

    received = mine.get("/compte/delegations/recues")
    assert "jesignexpert.com : signer électroniquement" in received.text
    assert "jesignexpert.com : sceller électroniquement" not in received.text.split("Mes demandes")[0]
    assert "Active · expire le" in received.text


def test_a_refusal_carries_its_reason_to_the_collaborator(live, expert, collaborator, api):
    api(collaborator).post("/requests", {"expert": expert.email, "siret": expert.firm.siret, "rights": [SITE]})
    theirs = logged_in(live.url, expert)
    pending = theirs.get("/compte/delegations/en-attente")
    delegation_id = re.search(r'href="/compte/delegations/(\d+)"', pending.text).group(1)
    page = theirs.get(f"/compte/delegations/{delegation_id}")
    empty = post_form(theirs, page, f"/compte/delegations/{delegation_id}/refuser", {"reason": ""})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text
    refused = post_form(theirs, page, f"/compte/delegations/{delegation_id}/refuser",
                        {"reason": "Vous quittez le cabinet"})
    assert refused.status_code == 303
    received = logged_in(live.url, collaborator).get("/compte/delegations/recues")
    assert "Refusée · Motif : « Vous quittez le cabinet »" in received.text


def test_ma_messagerie_lists_what_happened(live, expert, collaborator, api):
    api(expert).create(expert.firm, [collaborator.email], [SITE])
    browser = logged_in(live.url, collaborator)
    page = browser.get("/compte/messagerie")
    assert "Nouvelle délégation de Philippe Durant" in page.text
    assert "vous délègue des droits pour la société SOGETES - PARIS" in page.text
    assert "1 message(s) non lu(s)." in page.text
    done = post_form(browser, page, "/compte/messagerie/lu", {})
    assert "non lu" not in browser.follow(done).text


def test_pages_of_the_expert_are_closed_to_collaborators(live, collaborator):
    browser = logged_in(live.url, collaborator)
    for path in ("/compte/delegations/creer", "/compte/delegations/consulter", "/compte/delegations/en-attente"):
        page = browser.get(path)
        assert page.status_code == 403 and "Réservé aux experts-comptables" in page.text


def test_guessing_a_delegation_in_the_pages_finds_nothing(live, expert, collaborator, make_collaborator, api):
    [d] = api(expert).create(expert.firm, [collaborator.email], [SITE]).json()["items"]
    stranger = logged_in(live.url, make_collaborator(email="curieux@cabinet.example"))
    assert stranger.get(f"/compte/delegations/{d['id']}").status_code == 404
    page = stranger.get("/compte/delegations/recues")
    for action in ("desactiver", "supprimer", "activer"):
        assert post_form(stranger, page, f"/compte/delegations/{d['id']}/{action}", {}).status_code == 404
    assert post_form(stranger, page, f"/compte/delegations/{d['id']}/prolonger",
                     {"ends_on": in_a_month()}).status_code == 404
    assert api(expert).get(f"/delegations/{d['id']}").json()["state"] == "active"


def test_forms_without_csrf_token_are_refused(live, expert, collaborator, api):
    [d] = api(expert).create(expert.firm, [collaborator.email], [SITE]).json()["items"]
    browser = logged_in(live.url, expert)
    assert browser.post(f"/compte/delegations/{d['id']}/desactiver", data={}).status_code == 400
    assert api(expert).get(f"/delegations/{d['id']}").json()["state"] == "active"


def test_a_collaborator_is_offered_only_the_page_he_can_use(live, expert, collaborator, api):
    [d] = api(expert).create(expert.firm, [collaborator.email], [SITE]).json()["items"]
    page = logged_in(live.url, collaborator).get(f"/compte/delegations/{d['id']}")
    assert page.status_code == 200
    assert "Demander des délégations ou consulter mes délégations reçues" in page.text
    assert "Créer/Ajouter des délégations" not in page.text and "Historique" not in page.text
    assert "Renoncer au droit Site de l&#39;Ordre" in page.text
