"""Guessing the authenticator code is slowed down like guessing the password."""
from __future__ import annotations

from datetime import timedelta

from flows import csrf_of

TOO_MANY = "Trop de tentatives"


def _set_failures(app, user, count: int, seconds_ago: int) -> None:
    from idp.accounts.models import User
    from idp.db import utcnow
    from idp.extensions import db

    with app.app_context():
        account = db.session.get(User, user.id)
        account.failed_logins = count
        account.last_failed_login_at = utcnow() - timedelta(seconds=seconds_ago)
        db.session.commit()


def _post_code(browser, page, code: str):
    return browser.post("/login/code", data={"csrf_token": csrf_of(page.text), "code": code})


def test_wrong_codes_grow_the_delay_of_the_account(live, app, enrolled, authenticator, browser):
    second = browser.login(enrolled.user.email, enrolled.user.password)
    _set_failures(app, enrolled.user, 6, seconds_ago=600)
    assert _post_code(browser, second, authenticator.wrong_code()).status_code == 401
    refused = _post_code(browser, second, authenticator.code())
    assert refused.status_code == 429 and TOO_MANY in refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 16
    assert f"Réessayez dans {refused.headers['Retry-After']} seconde" in refused.text
    assert 'href="/login/code"' in refused.text
    assert "idp_session" not in browser.http.cookies


def test_code_guesses_are_limited_per_account(live, app, enrolled, authenticator, browser):
    saved = app.config["IDP_LOGIN_LIMIT_PER_ACCOUNT"]
    app.config["IDP_LOGIN_LIMIT_PER_ACCOUNT"] = "2/minute"
    try:
        second = browser.login(enrolled.user.email, enrolled.user.password)
        for _ in range(2):
            assert _post_code(browser, second, authenticator.wrong_code()).status_code == 401
        refused = _post_code(browser, second, authenticator.code())
    finally:
        app.config["IDP_LOGIN_LIMIT_PER_ACCOUNT"] = saved
    assert refused.status_code == 429 and TOO_MANY in refused.text


def test_the_password_step_does_not_reset_the_failures(live, app, enrolled, authenticator, browser):
    from idp.accounts.models import User
    from idp.extensions import db

    _set_failures(app, enrolled.user, 2, seconds_ago=0)
    second = browser.login(enrolled.user.email, enrolled.user.password)
    with app.app_context():
        assert db.session.get(User, enrolled.user.id).failed_logins == 2, "the password alone proves nothing yet"
    assert _post_code(browser, second, authenticator.code()).status_code == 303
    with app.app_context():
        assert db.session.get(User, enrolled.user.id).failed_logins == 0
