"""Password reset by mail: single-use expiring link, old sessions ended, nothing revealed."""
from __future__ import annotations

from html import unescape

from account_steps import submit, without_csrf
from flows import Browser, csrf_of
from smtp import link_in, text_of

NEW_PASSWORD = "un tout nouveau mot de passe"


def ask_reset(browser: Browser, login: str):
    return submit(browser, "/mot-de-passe/oublie", login=login)


def choose_password(browser: Browser, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    page = browser.get(link)
    assert page.status_code == 200, page.text
    return browser.post(link, data={"csrf_token": csrf_of(page.text), "password": password,
                                    "password_confirm": password if confirm is None else confirm})


def test_reset_sets_the_new_password_and_ends_every_session(live, smtp, user):
    elsewhere = Browser(live.url)
    assert elsewhere.login(user.email, user.password).url.endswith("/compte/")

    browser = Browser(live.url)
    assert ask_reset(browser, user.identifiant).status_code == 200
    mail = smtp.wait_for(user.email)
    assert mail["Subject"] == "Choisissez un nouveau mot de passe Comptexpert"
    assert user.identifiant in text_of(mail)

    done = choose_password(browser, link_in(mail))
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert "Votre mot de passe est changé" in unescape(browser.follow(done).text)

    assert elsewhere.get("/compte/").status_code == 302, "the session opened with the old password is over"
    assert "Identifiant ou mot de passe incorrect." in Browser(live.url).login(user.email, user.password).text
    assert Browser(live.url).login(user.email, NEW_PASSWORD).url.endswith("/compte/")

    notice = smtp.wait_for(user.email, count=2)
    assert notice["Subject"] == "Votre mot de passe Comptexpert a changé"
    assert "toutes vos sessions ouvertes ont été fermées" in text_of(notice)


def test_a_reset_link_works_once(live, browser, smtp, user):
    ask_reset(browser, user.email)
    link = link_in(smtp.wait_for(user.email))
    choose_password(browser, link)
    again = browser.get(link)
    assert again.status_code == 400
    assert ("Ce lien de réinitialisation n'est pas valable : il a déjà servi, un lien plus récent l'a remplacé, "
            "ou il est incomplet.") in unescape(again.text)


def test_a_newer_link_voids_the_older_one(live, browser, smtp, user):
    ask_reset(browser, user.email)
    older = link_in(smtp.wait_for(user.email))
    ask_reset(browser, user.email)
    newer = link_in(smtp.wait_for(user.email, count=2))
    assert browser.get(older).status_code == 400
    assert browser.get(newer).status_code == 200


def test_an_expired_reset_link_is_refused(app, live, browser, smtp, user):
    app.config["IDP_RESET_TTL"] = 0
    try:
        ask_reset(browser, user.email)
    finally:
        app.config["IDP_RESET_TTL"] = 3600
    page = browser.get(link_in(smtp.wait_for(user.email)))
    assert page.status_code == 400
    assert "Ce lien de réinitialisation a expiré." in unescape(page.text)
    assert 'href="/mot-de-passe/oublie"' in page.text


def test_a_short_new_password_is_refused_and_the_link_still_works(live, browser, smtp, user):
    ask_reset(browser, user.email)
    link = link_in(smtp.wait_for(user.email))
    refused = choose_password(browser, link, password="court")
    assert refused.status_code == 400
    assert "Le mot de passe doit contenir au moins 12 caractères." in refused.text
    assert choose_password(browser, link).status_code == 303


def test_the_answer_is_the_same_for_known_and_unknown_accounts(live, smtp, user):
    unknown = ask_reset(Browser(live.url), "personne@cabinet.example")
    unknown_identifiant = ask_reset(Browser(live.url), "zzz00ZZZ")
    browser = Browser(live.url)
    known = ask_reset(browser, user.email)
    assert unknown.status_code == unknown_identifiant.status_code == known.status_code == 200
    assert without_csrf(unknown.text) == without_csrf(unknown_identifiant.text) == without_csrf(known.text)
    assert unknown.headers.keys() == known.headers.keys()
    smtp.wait_for(user.email)
    assert [m["To"] for m in smtp.messages] == [user.email], "nothing was sent for the unknown ones"


def test_an_english_speaking_user_gets_english_mail(live, browser, smtp, make_user):
    english = make_user(email="james@firm.example", given_name="James", family_name="Smith", locale="en")
    ask_reset(browser, english.email)
    mail = smtp.wait_for(english.email)
    assert mail["Subject"] == "Choose a new Comptexpert password"
    assert mail["Content-Language"] == "en"
    assert "Hello James Smith," in text_of(mail)
    assert "This link is valid for 1 hour and works only once." in text_of(mail)
    assert 'lang="en"' in mail.get_body(("html",)).get_content()


def test_a_forged_reset_without_csrf_token_is_refused(live, browser, smtp, user):
    browser.get("/mot-de-passe/oublie")
    answer = browser.post("/mot-de-passe/oublie", data={"login": user.email})
    assert answer.status_code == 400
    assert "Ce formulaire a expiré ou ne vient pas de Comptexpert" in answer.text
    ask_reset(browser, "someone.else@cabinet.example")
    ask_reset(browser, user.identifiant)
    smtp.wait_for(user.email)
    assert len(smtp.to(user.email)) == 1, "only the genuine request sent a link"


def test_links_to_one_address_are_limited_whether_or_not_it_has_an_account(app, live, browser, smtp, user):
    from idp.extensions import limiter

    refusals = []
    for login in (user.email, "personne@cabinet.example"):
        answers = [ask_reset(browser, login) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429], login
        refusals.append(without_csrf(answers[-1].text))
        with app.app_context():
            limiter.reset()  # this client's own per-minute limit, so the second address starts afresh
    assert "Trop de demandes" in refusals[0] and refusals[0] == refusals[1]
    smtp.wait_for(user.email, count=5)
