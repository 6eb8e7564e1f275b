"""Sécurité: password change, active sessions, « Se déconnecter partout »."""
from __future__ import annotations

import re

from flows import Browser, csrf_of

NEW_PASSWORD = "un autre mot de passe bien long"


def _is_logged_in(browser: Browser) -> bool:
    return browser.get("/compte/").status_code == 200


def _second_browser(live, user, agent: str = "Navigateur de bureau") -> Browser:
    other = Browser(live.url)
    other.http.headers["User-Agent"] = agent
    assert other.login(user.email, user.password).url.endswith("/compte/")
    return other


def _change_password(browser: Browser, current: str, new: str, confirm: str | None = None):
    page = browser.get("/compte/securite/")
    return browser.post("/compte/securite/mot-de-passe", data={
        "csrf_token": csrf_of(page.text), "current_password": current, "new_password": new,
        "confirm_password": new if confirm is None else confirm})


def test_active_sessions_show_start_method_address_and_browser(live, user, logged_in):
    _second_browser(live, user, agent="Firefox de test 1.0")
    page = logged_in.get("/compte/securite/")
    rows = re.findall(r"<tr>\s*<td>(.*?)</tr>", page.text, re.S)
    assert len(rows) == 2
    assert sum("(cette session)" in row for row in rows) == 1
    assert all("<td>Mot de passe</td>" in row and "<td>127.0.0.1</td>" in row for row in rows)
    assert any("Firefox de test 1.0" in row for row in rows)


def test_password_change_keeps_this_session_and_ends_the_others(live, user, logged_in):
    other = _second_browser(live, user)
    done = logged_in.follow(_change_password(logged_in, user.password, NEW_PASSWORD))
    assert "Mot de passe changé. Vos autres sessions (1) ont été fermées." in done.text
    assert _is_logged_in(logged_in)
    assert not _is_logged_in(other)
    assert Browser(live.url).login(user.email, user.password).status_code == 401
    assert Browser(live.url).login(user.email, NEW_PASSWORD).url.endswith("/compte/")


def test_password_change_asks_the_current_password(live, user, logged_in):
    other = _second_browser(live, user)
    refused = _change_password(logged_in, "not the password", NEW_PASSWORD)
    assert refused.status_code == 400
    assert '<p class="field-error" id="current_password-error">Mot de passe incorrect.</p>' in refused.text
    assert _is_logged_in(other)


def test_password_change_follows_the_policy(live, user, logged_in):
    short = _change_password(logged_in, user.password, "court")
    assert short.status_code == 400
    assert ('<p class="field-error" id="new_password-error">'
            "Le mot de passe doit contenir au moins 12 caractères.</p>") in short.text
    mismatch = _change_password(logged_in, user.password, NEW_PASSWORD, confirm=NEW_PASSWORD + "!")
    assert mismatch.status_code == 400
    assert '<p class="field-error" id="confirm_password-error">Les deux mots de passe diffèrent.</p>' in mismatch.text
    same = _change_password(logged_in, user.password, user.password)
    assert same.status_code == 400
    assert "Le nouveau mot de passe doit être différent de l&#39;actuel." in same.text


def test_ending_one_other_session(live, user, logged_in):
    other = _second_browser(live, user)
    page = logged_in.get("/compte/securite/")
    forms = re.findall(r'<td>[^<]*(<strong>\(cette session\)</strong>)?</td>'
                       r'.*?action="(/compte/securite/sessions/[^/]+/terminer)"', page.text, re.S)
    target = next(action for current, action in forms if not current)
    done = logged_in.follow(logged_in.post(target, data={"csrf_token": csrf_of(page.text)}))
    assert "Session fermée." in done.text
    assert _is_logged_in(logged_in) and not _is_logged_in(other)


def test_a_session_of_someone_else_cannot_be_ended(live, user, make_user, logged_in):
    stranger = make_user()
    theirs = _second_browser(live, stranger)
    their_page = theirs.get("/compte/securite/")
    action = re.search(r'action="(/compte/securite/sessions/[^/]+/terminer)"', their_page.text).group(1)
    page = logged_in.get("/compte/securite/")
    refused = logged_in.follow(logged_in.post(action, data={"csrf_token": csrf_of(page.text)}))
    assert "Cette session n&#39;existe pas ou est déjà terminée." in refused.text
    assert _is_logged_in(theirs)


def test_se_deconnecter_partout_ends_every_session_this_one_included(live, user, logged_in):
    other = _second_browser(live, user)
    page = logged_in.get("/compte/securite/")
    response = logged_in.post("/compte/securite/sessions/tout-fermer", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/logout/done")
    assert "idp_session" not in logged_in.http.cookies
    assert not _is_logged_in(logged_in)
    assert not _is_logged_in(other)


def test_security_page_needs_a_session(live, browser):
    response = browser.get("/compte/securite/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
