"""Steps shared by the account tests, over HTTP like a person in a browser."""
from __future__ import annotations

import itertools
import re

from flows import Browser, csrf_of

PASSWORD = "une phrase de passe assez longue"
_seq = itertools.count(1)
CSRF_INPUT_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')


def without_csrf(html: str) -> str:
    """A page with its CSRF token taken out, to compare two answers."""
    return CSRF_INPUT_RE.sub("", html)


def new_email() -> str:
    return f"nouveau{next(_seq)}@cabinet.example"


def signup_form(**overrides) -> dict:
    """The fields of a complete sign-up, as a person fills them in."""
    data = {
        "profile": "autre", "given_name": "Benjamin", "family_name": "Dossat", "email": new_email(),
        "company": "SOGETES", "address": "19 rue Cognacq Jay", "postal_code": "75001", "city": "Paris",
        "phone": "01 44 15 40 00", "numero_inscription": "", "password": PASSWORD, "password_confirm": PASSWORD,
    }
    data.update(overrides)
    return data


def sign_up(browser: Browser, **overrides):
    """Fill in and submit the sign-up form; returns the answer."""
    page = browser.get("/inscription")
    return browser.post("/inscription", data={"csrf_token": csrf_of(page.text), **signup_form(**overrides)})


def open_link(browser: Browser, link: str):
    """Open a link from a mail, then press the button of the page it shows."""
    page = browser.get(link)
    assert page.status_code == 200, page.text
    return browser.post(link, data={"csrf_token": csrf_of(page.text)})


def submit(browser: Browser, path: str, **data):
    """Open the form at ``path`` and post ``data`` with its CSRF token."""
    page = browser.get(path)
    assert page.status_code == 200, page.text
    return browser.post(path, data={"csrf_token": csrf_of(page.text), **data})
