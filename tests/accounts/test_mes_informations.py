"""Mes informations: what the user sees and edits; the address changes only once the new one is confirmed."""
from __future__ import annotations

from html import unescape

from account_steps import open_link, submit
from flows import Browser, csrf_of
from smtp import link_in, text_of

EDIT = "/compte/informations/modifier"


def logged_in(live, user) -> Browser:
    browser = Browser(live.url)
    assert browser.login(user.email, user.password).url.endswith("/compte/")
    return browser


def information(user, **changes) -> dict:
    data = {"given_name": user.given_name, "family_name": user.family_name, "company": "", "address": "",
            "postal_code": "", "city": "", "phone": "", "email": user.email, "locale": "fr"}
    data.update(changes)
    return data


def test_mes_informations_shows_the_seed_fields(live, make_user):
    user = make_user(company="SOGETES", address="19 rue Cognacq Jay", postal_code="75001", city="Paris",
                     phone="01 44 15 40 00")
    page = unescape(logged_in(live, user).get("/compte/").text)
    for label, value in [("Identifiant", user.identifiant), ("Prénoms", "Philippe"), ("Nom", "Durant"),
                         ("Société", "SOGETES"), ("Adresse principale", "19 rue Cognacq Jay"),
                         ("Code postal", "75001"), ("Ville", "Paris"), ("Courriel", user.email),
                         ("Téléphone", "01 44 15 40 00"), ("Profil", "Autre profil")]:
        assert f"<dt>{label}</dt><dd>{value}" in page, label
    assert 'href="/compte/informations/modifier"' in page


def test_the_user_edits_what_he_owns(live, user, load_user):
    browser = logged_in(live, user)
    saved = submit(browser, EDIT, **information(user, given_name="Philippe Jean", company="Cabinet Durant",
                                                address="1 place de la Bourse", postal_code="33000",
                                                city="Bordeaux", phone="+33 5 56 00 00 00", locale="en"))
    assert saved.status_code == 303 and saved.headers["Location"] == "/compte/"
    home = browser.follow(saved)
    assert "Your information is saved." in home.text, "the pages now speak the chosen language"
    stored = load_user(user.email)
    assert (stored.given_name, stored.company, stored.address, stored.postal_code, stored.city, stored.phone,
            stored.locale) == ("Philippe Jean", "Cabinet Durant", "1 place de la Bourse", "33000", "Bordeaux",
                               "+33 5 56 00 00 00", "en")
    assert stored.identifiant == user.identifiant


def test_a_wrong_field_is_explained_next_to_it(live, user, load_user):
    browser = logged_in(live, user)
    refused = submit(browser, EDIT, **information(user, family_name="", phone="appelez-moi"))
    assert refused.status_code == 400
    assert '<p class="field-error" id="family_name-error">Ce champ est obligatoire.</p>' in refused.text
    assert load_user(user.email).family_name == "Durant"


def test_a_new_address_is_used_only_once_confirmed(live, smtp, user, load_user):
    browser = logged_in(live, user)
    saved = submit(browser, EDIT, **information(user, email="philippe@nouveau-cabinet.example"))
    home = unescape(browser.follow(saved).text)
    assert "Un lien de confirmation est envoyé à philippe@nouveau-cabinet.example" in home
    assert "Changement d'adresse en attente : philippe@nouveau-cabinet.example" in home
    assert load_user(user.email) is not None, "the old address is still the account's"

    mail = smtp.wait_for("philippe@nouveau-cabinet.example")
    assert mail["Subject"] == "Confirmez votre nouvelle adresse Comptexpert"
    done = open_link(Browser(live.url), link_in(mail))
    assert done.status_code == 200 and "Adresse confirmée" in done.text

    moved = load_user("philippe@nouveau-cabinet.example")
    assert moved.identifiant == user.identifiant and moved.email_verified
    notice = smtp.wait_for(user.email)
    assert notice["Subject"] == "L'adresse de votre Comptexpert a changé"
    assert "philippe@nouveau-cabinet.example" in text_of(notice)
    assert Browser(live.url).login("philippe@nouveau-cabinet.example", user.password).url.endswith("/compte/")


def test_taking_another_accounts_address_changes_nothing_and_says_nothing(live, smtp, user, make_user, load_user):
    other = make_user(email="occupied@cabinet.example")
    browser = logged_in(live, user)
    saved = submit(browser, EDIT, **information(user, email=other.email))
    assert "Un lien de confirmation est envoyé à occupied@cabinet.example" in unescape(browser.follow(saved).text)
    warning = smtp.wait_for(other.email)
    assert warning["Subject"] == "Votre adresse est déjà celle d'un Comptexpert"
    assert load_user(user.email).identifiant == user.identifiant
    assert load_user(other.email).identifiant == other.identifiant


def test_a_verified_experts_names_belong_to_the_register(live, make_user, load_user):
    expert = make_user(profile="expert_comptable", expert_status="verified")
    browser = logged_in(live, expert)
    home = unescape(browser.get("/compte/").text)
    assert "Ces informations proviennent du Tableau de l'Ordre" in home
    form = browser.get(EDIT)
    assert 'name="given_name"' not in form.text and 'name="family_name"' not in form.text
    assert "Ces informations proviennent du Tableau de l'Ordre" in unescape(form.text)

    forged = browser.post(EDIT, data={"csrf_token": csrf_of(form.text),
                                      **information(expert, given_name="Usurpé", family_name="Usurpé",
                                                    company="Cabinet")})
    assert forged.status_code == 303
    stored = load_user(expert.email)
    assert (stored.given_name, stored.family_name, stored.company) == ("Philippe", "Durant", "Cabinet")


def test_an_unconfirmed_user_can_ask_a_new_link_from_mes_informations(live, smtp, make_user):
    user = make_user(email_verified=False)
    browser = logged_in(live, user)
    home = browser.get("/compte/")
    assert "non confirmée" in home.text
    sent = browser.post("/compte/informations/confirmer", data={"csrf_token": csrf_of(home.text)})
    assert sent.status_code == 303
    open_link(browser, link_in(smtp.wait_for(user.email)))
    assert "non confirmée" not in browser.get("/compte/").text


def test_mes_informations_needs_a_login(live, browser):
    answer = browser.get(EDIT)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_a_forged_edit_without_csrf_token_is_refused(live, user, load_user):
    browser = logged_in(live, user)
    answer = browser.post(EDIT, data=information(user, company="Forgé"))
    assert answer.status_code == 400
    assert "Ce formulaire a expiré ou ne vient pas de Comptexpert" in answer.text
    assert load_user(user.email).company == ""
