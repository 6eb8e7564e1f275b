"""Sign-up: the profile, the account, the confirmation link, and nothing revealed about who has an account."""
from __future__ import annotations

import re
from html import unescape

from account_steps import PASSWORD, open_link, sign_up, signup_form, without_csrf
from flows import Browser, csrf_of
from smtp import html_of, link_in, text_of

SEED_PROFILES = [
    "Expert-comptable", "Expert-comptable honoraire", "83ter/quater", "Diplômé non inscrit", "Stagiaire",
    "Filière CAF/CAC", "Mémorialiste", "Permanent", "Président/directeur d'AGC", "Membre ECE", "Autre profil",
]


def test_sign_up_page_offers_the_eleven_profiles_in_seed_order(live, browser):
    page = browser.get("/inscription")
    assert page.status_code == 200
    labels = [unescape(label) for label in re.findall(r'<label for="profile-\d+">([^<]+)</label>', page.text)]
    assert labels == SEED_PROFILES
    assert "choisissez « Autre profil »" in unescape(page.text)
    assert "Réservé aux experts-comptables" in page.text and 'name="numero_inscription"' in page.text


def test_sign_up_then_confirm_by_mail_then_log_in(live, browser, smtp, load_user):
    answer = sign_up(browser, email="Benjamin.Dossat@Cabinet.example")
    assert answer.status_code == 200
    assert "Vérifiez votre messagerie" in answer.text
    user = load_user("benjamin.dossat@cabinet.example")
    assert user.email_verified is False and user.profile == "autre" and user.expert_status == "none"
    assert (user.company, user.address, user.postal_code, user.city, user.phone) == (
        "SOGETES", "19 rue Cognacq Jay", "75001", "Paris", "01 44 15 40 00")

    mail = smtp.wait_for("benjamin.dossat@cabinet.example")
    assert mail["Subject"] == "Confirmez votre adresse pour activer votre Comptexpert"
    assert mail["Content-Language"] == "fr"
    assert mail.get_content_type() == "multipart/alternative"
    assert f"Votre identifiant est {user.identifiant} : il ne changera jamais." in text_of(mail)
    assert user.identifiant in html_of(mail) and 'lang="fr"' in html_of(mail)
    link = link_in(mail)
    assert link.startswith(live.url + "/confirmer/")
    assert link in html_of(mail)

    confirmed = open_link(browser, link)
    assert confirmed.status_code == 200
    assert "Adresse confirmée" in confirmed.text and user.identifiant in confirmed.text
    assert load_user(user.email).email_verified is True

    home = browser.login(user.identifiant, PASSWORD)
    assert home.url.endswith("/compte/") and "Mes informations Comptexpert" in home.text
    assert "SOGETES" in home.text and "confirmée" in home.text


def test_a_confirmation_link_works_once(live, browser, smtp):
    sign_up(browser, email="once@cabinet.example")
    link = link_in(smtp.wait_for("once@cabinet.example"))
    assert open_link(browser, link).status_code == 200

    again = browser.get(link)
    assert again.status_code == 400
    assert ("Ce lien de confirmation n'est pas valable : il a déjà servi, un lien plus récent l'a remplacé, "
            "ou il est incomplet.") in unescape(again.text)
    replayed = browser.post(link, data={"csrf_token": csrf_of(again.text)})
    assert replayed.status_code == 400 and "Adresse confirmée" not in replayed.text


def test_an_expired_link_is_refused_and_a_new_one_can_be_asked(app, live, browser, smtp, load_user):
    app.config["IDP_CONFIRM_TTL"] = 0
    try:
        sign_up(browser, email="late@cabinet.example")
    finally:
        app.config["IDP_CONFIRM_TTL"] = 48 * 3600
    expired = link_in(smtp.wait_for("late@cabinet.example"))
    page = browser.get(expired)
    assert page.status_code == 400
    assert "Ce lien de confirmation a expiré." in page.text
    assert 'action="/confirmer/renvoyer"' in page.text

    sent = browser.post("/confirmer/renvoyer", data={"csrf_token": csrf_of(page.text), "email": "late@cabinet.example"})
    assert sent.status_code == 200
    fresh = link_in(smtp.wait_for("late@cabinet.example", count=2))
    assert fresh != expired
    assert open_link(browser, fresh).status_code == 200
    assert load_user("late@cabinet.example").email_verified is True


def test_asking_a_new_link_answers_the_same_for_any_address(live, browser, smtp):
    sign_up(browser, email="waiting@cabinet.example")
    smtp.wait_for("waiting@cabinet.example")
    form = browser.get("/confirmer/renvoyer")

    unknown = browser.post("/confirmer/renvoyer", data={"csrf_token": csrf_of(form.text), "email": "nobody@cabinet.example"})
    known = browser.post("/confirmer/renvoyer", data={"csrf_token": csrf_of(form.text), "email": "waiting@cabinet.example"})
    assert unknown.status_code == known.status_code == 200
    assert without_csrf(unknown.text).replace("nobody@", "X@") == without_csrf(known.text).replace("waiting@", "X@")
    smtp.wait_for("waiting@cabinet.example", count=2)
    assert smtp.to("nobody@cabinet.example") == []


def test_signing_up_with_a_taken_address_looks_the_same_and_tells_its_owner(live, smtp, user, load_user):
    first, second = Browser(live.url), Browser(live.url)
    fresh = sign_up(first, email="fresh@cabinet.example")
    taken = sign_up(second, email=user.email.upper(), password="another long passphrase",
                    password_confirm="another long passphrase")

    assert taken.status_code == fresh.status_code == 200
    assert without_csrf(taken.text).replace(user.email.upper(), "X") == \
        without_csrf(fresh.text).replace("fresh@cabinet.example", "X")
    assert taken.headers.keys() == fresh.headers.keys()

    warning = smtp.wait_for(user.email)
    assert warning["Subject"] == "Votre adresse est déjà celle d'un Comptexpert"
    assert user.identifiant in text_of(warning)
    assert live.url + "/mot-de-passe/oublie" in text_of(warning)
    assert load_user(user.email).identifiant == user.identifiant, "nothing created, nothing changed"
    assert Browser(live.url).login(user.email, user.password).url.endswith("/compte/"), "the password is unchanged"


def test_sign_up_refuses_a_short_password_and_says_why(live, browser, smtp, load_user):
    answer = sign_up(browser, email="short@cabinet.example", password="court", password_confirm="court")
    assert answer.status_code == 400
    assert "Le mot de passe doit contenir au moins 12 caractères." in answer.text
    assert 'aria-describedby="password-hint password-error"' in answer.text
    assert load_user("short@cabinet.example") is None


def test_sign_up_refuses_different_passwords(live, browser, load_user):
    answer = sign_up(browser, email="typo@cabinet.example", password_confirm=PASSWORD + "!")
    assert answer.status_code == 400
    assert "Les deux mots de passe diffèrent." in answer.text
    assert load_user("typo@cabinet.example") is None


def test_sign_up_asks_for_a_profile(live, browser, load_user):
    answer = sign_up(browser, email="noprofile@cabinet.example", profile="")
    assert answer.status_code == 400
    assert "Choisissez votre profil." in answer.text
    assert load_user("noprofile@cabinet.example") is None


def test_a_forged_sign_up_without_csrf_token_is_refused(live, browser, smtp, load_user):
    browser.get("/inscription")
    answer = browser.post("/inscription", data=signup_form(email="forged@cabinet.example"))
    assert answer.status_code == 400
    assert "Ce formulaire a expiré ou ne vient pas de Comptexpert" in answer.text
    assert load_user("forged@cabinet.example") is None


def test_an_expert_claim_waits_for_the_register(live, browser, smtp, load_user):
    sign_up(browser, email="expert@cabinet.example", profile="expert_comptable", numero_inscription="13 0042 ")
    claimed = load_user("expert@cabinet.example")
    assert (claimed.expert_status, claimed.claimed_numero) == ("pending", "13 0042")

    confirmed = open_link(browser, link_in(smtp.wait_for("expert@cabinet.example")))
    assert "n'a pas encore été retrouvé au Tableau de l'Ordre" in unescape(confirmed.text)
    assert load_user("expert@cabinet.example").expert_status == "pending"


def test_the_numero_is_kept_only_for_the_expert_profile(live, browser, smtp, load_user):
    sign_up(browser, email="collab@cabinet.example", profile="autre", numero_inscription="130042")
    collaborator = load_user("collab@cabinet.example")
    assert (collaborator.expert_status, collaborator.claimed_numero) == ("none", None)


def test_confirmation_runs_the_registered_hooks(live, browser, smtp):
    from idp.accounts.services import on_email_confirmed

    seen = []
    on_email_confirmed.append(lambda user: seen.append((user.email, user.email_verified)))
    try:
        sign_up(browser, email="hooked@cabinet.example")
        open_link(browser, link_in(smtp.wait_for("hooked@cabinet.example")))
    finally:
        on_email_confirmed.pop()
    assert seen == [("hooked@cabinet.example", True)]
