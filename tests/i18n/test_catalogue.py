"""The English catalogue: complete, compiled, and used when the user switches language.

French is the source language (every ``_()`` holds French); English comes from
``idp/translations/en/LC_MESSAGES/messages.po``, compiled to the committed
``messages.mo`` that Flask-Babel reads (``make translations`` rebuilds both).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).resolve().parents[2] / "idp" / "translations" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def po_messages():
    with open(CATALOGUE / "messages.po", "rb") as f:
        return [m for m in read_po(f) if m.id]


def translations(catalog) -> dict:
    """msgid → msgstr for every message that a reader would be shown (translated, not fuzzy)."""
    def shown(m):
        return not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else bool(m.string))
    def key(value):  # the .mo reader gives plural forms as lists, the .po reader as tuples
        return tuple(value) if isinstance(value, (list, tuple)) else value
    return {key(m.id): key(m.string) for m in catalog if m.id and shown(m)}


def forms(message) -> list[tuple[str, str]]:
    """(French, English) pairs of a message, one per plural form."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return list(zip(ids + (ids[-1],) * (len(strings) - len(ids)), strings))


# -- the files ---------------------------------------------------------------------
def test_the_compiled_catalogue_holds_exactly_the_translations_of_the_po():
    with open(CATALOGUE / "messages.mo", "rb") as f:
        compiled = translations(read_mo(f))
    written = translations(po_messages())
    assert set(compiled) == set(written), "messages.mo is stale: run `make translations`"
    stale = [msgid for msgid in written if compiled[msgid] != written[msgid]]
    assert stale == [], "messages.mo is stale: run `make translations`"


def test_every_message_of_the_po_has_an_english_translation():
    untranslated = [m.id for m in po_messages()
                    if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string.strip())]
    assert untranslated == []


def test_every_translation_keeps_the_placeholders_of_the_french():
    # In English only, a lost %(name)s drops a fact and a misspelt one fails the page (KeyError).
    mismatched = [(french, english) for message in po_messages() for french, english in forms(message)
                  if sorted(PLACEHOLDER.findall(english)) != sorted(PLACEHOLDER.findall(french))]
    assert mismatched == []


# -- the pages ---------------------------------------------------------------------
FRENCH = {
    "/login": ["Se connecter à Comptexpert", "Mot de passe oublié ?", "Créer mon Comptexpert"],
    "/inscription": ["Vous êtes…", "Adresse électronique", "Confirmez le mot de passe"],
}
ENGLISH = {
    "/login": ["Log in to Comptexpert", "Forgotten password?", "Create my Comptexpert", "Skip to content"],
    "/inscription": ["You are…", "Email address", "Confirm the password", "Create my Comptexpert"],
}
ENGLISH_MON_ESPACE = {
    "/compte/": ["My Comptexpert details", "My personal details", "Edit my details"],
    "/compte/societes": ["My firms"],
    "/compte/securite/": ["Authenticator app", "Active sessions", "Log out everywhere"],
    "/compte/applications": ["My applications", "You have not given any site access to your account."],
    "/compte/delegations/": ["My delegations"],
}
MENU = ["My details", "My firms", "My messages", "My delegations", "Security", "My applications", "Log out"]


def lang_of(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


@pytest.mark.parametrize("path", sorted(FRENCH))
def test_the_public_pages_are_in_french_by_default(browser, path):
    page = browser.get(path)
    assert page.status_code == 200
    assert lang_of(page.text) == "fr"
    for text in FRENCH[path]:
        assert text in page.text
    assert ENGLISH[path][0] not in page.text


@pytest.mark.parametrize("path", sorted(ENGLISH))
def test_the_language_switch_turns_the_public_pages_into_english(browser, path):
    switched = browser.get("/langue/en", params={"next": path})
    assert switched.status_code == 302 and switched.headers["Location"] == path
    page = browser.get(path)
    assert lang_of(page.text) == "en"
    for text in ENGLISH[path]:
        assert text in page.text
    assert FRENCH[path][0] not in page.text


def test_mon_espace_is_in_french_by_default(browser, user):
    browser.login(user.email, user.password)
    page = browser.get("/compte/")
    assert lang_of(page.text) == "fr"
    for text in ["Mes informations Comptexpert", "Mes sociétés d'exercice", "Sécurité", "Se déconnecter"]:
        assert text in page.text.replace("&#39;", "'")


@pytest.mark.parametrize("path", sorted(ENGLISH_MON_ESPACE))
def test_mon_espace_pages_are_in_english_after_the_switch(browser, user, path):
    browser.login(user.email, user.password)
    browser.get("/langue/en", params={"next": path})
    page = browser.get(path)
    assert page.status_code == 200
    assert lang_of(page.text) == "en"
    for text in ENGLISH_MON_ESPACE[path] + MENU:
        assert text in page.text


def test_the_language_chosen_before_logging_in_stays_after(browser, user):
    browser.get("/langue/en", params={"next": "/login"})
    browser.login(user.email, user.password)
    page = browser.get("/compte/")
    assert lang_of(page.text) == "en"
    assert "My Comptexpert details" in page.text


def test_the_switch_back_to_french_works(browser, user):
    browser.login(user.email, user.password)
    browser.get("/langue/en")
    browser.get("/langue/fr")
    page = browser.get("/compte/securite/")
    assert lang_of(page.text) == "fr"
    assert "Sessions actives" in page.text
