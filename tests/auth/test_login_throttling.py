"""Brute force on the login: rate limits, the growing delay, and no lock-out of the owner."""
from __future__ import annotations

import re

from flows import Browser, csrf_of

TOO_MANY = "Trop de tentatives"
WAIT_RE = re.compile(r"Réessayez dans (\d+) secondes?\.")
UNKNOWN = "personne@cabinet.example"
CSRF_VALUE_RE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+"')


def _attempt(browser: Browser, login: str, password: str):
    page = browser.get("/login")
    return browser.post("/login", data={"csrf_token": csrf_of(page.text), "login": login, "password": password})


def _mask_csrf(html: str) -> str:
    return CSRF_VALUE_RE.sub(r'\1"', html)


def _retry_after(response) -> int:
    assert response.status_code == 429, response.text[:300]
    seconds = int(response.headers["Retry-After"])
    assert WAIT_RE.search(response.text).group(1) == str(seconds)
    return seconds


def test_too_many_attempts_from_one_address_get_429_in_french(live, limits, user, browser):
    limits(per_address="3/minute")
    for n in range(3):
        assert _attempt(browser, f"inconnu{n}@cabinet.example", "wrong password!").status_code == 401
    refused = _attempt(browser, user.email, user.password)
    assert refused.status_code == 429
    assert TOO_MANY in refused.text
    assert '<html lang="fr">' in refused.text
    assert 1 <= _retry_after(refused) <= 61  # the end of the minute's window, rounded up
    assert "idp_session" not in browser.http.cookies
    # Reading the page is not limited; a different address would not be either.
    assert browser.get("/login").status_code == 200


def test_the_address_limit_is_shared_by_both_login_steps(live, limits, browser):
    limits(per_address="2/minute")
    for _ in range(2):
        assert _attempt(browser, UNKNOWN, "wrong password!").status_code == 401
    refused = browser.post("/login/code", data={"csrf_token": csrf_of(browser.get("/login").text), "code": "123456"})
    assert refused.status_code == 429 and TOO_MANY in refused.text


def test_too_many_attempts_on_one_account_get_429_whatever_the_case(live, limits, user, make_user):
    limits(per_account="2/minute")
    assert _attempt(Browser(live.url), user.email, "wrong password!").status_code == 401
    assert _attempt(Browser(live.url), user.email.upper(), "wrong password!").status_code == 401
    refused = _attempt(Browser(live.url), f"  {user.email} ", user.password)
    assert refused.status_code == 429 and TOO_MANY in refused.text
    assert 1 <= _retry_after(refused) <= 61  # the end of the minute's window, rounded up
    other = make_user()
    assert _attempt(Browser(live.url), other.email, other.password).status_code == 303


def test_failures_grow_a_delay_that_refuses_even_the_right_password(live, user, failures, browser):
    # Six failures ten minutes ago: the 2^(6-3) = 8 s delay is long over.
    failures.of_account(user, 6, seconds_ago=600)
    assert _attempt(browser, user.email, "wrong password!").status_code == 401
    assert failures.count_of(user) == 7
    # The seventh failure asks for 2^4 = 16 s; the right password is not even checked.
    refused = _attempt(browser, user.email, user.password)
    assert 1 <= _retry_after(refused) <= 16
    assert TOO_MANY in refused.text
    assert failures.count_of(user) == 7, "a refused attempt is not a failure: it does not lengthen the delay"
    assert "idp_session" not in browser.http.cookies


def test_the_delay_is_capped_at_a_minute(live, user, failures, browser):
    failures.of_account(user, 40)
    assert 1 <= _retry_after(_attempt(browser, user.email, user.password)) <= 60


def test_known_and_unknown_logins_get_the_same_delay_answer(live, user, failures):
    failures.of_account(user, 5, seconds_ago=600)
    failures.of_unknown_login(UNKNOWN, 5, seconds_ago=600)
    answers = {}
    for login in (user.email, UNKNOWN):
        browser = Browser(live.url)
        first = _attempt(browser, login, "wrong password!")
        assert first.status_code == 401
        answers[login] = (first, _attempt(browser, login, "wrong password!"))
    (known_first, known), (unknown_first, unknown) = answers[user.email], answers[UNKNOWN]
    # Each page has its own CSRF token; apart from it and the login typed, the pages are identical.
    assert _mask_csrf(known_first.text).replace(user.email, UNKNOWN) == _mask_csrf(unknown_first.text)
    assert known.status_code == unknown.status_code == 429
    assert 1 <= _retry_after(known) <= 8 and 1 <= _retry_after(unknown) <= 8
    assert WAIT_RE.sub("", known.text) == WAIT_RE.sub("", unknown.text)
    assert sorted(known.headers) == sorted(unknown.headers)


def test_a_success_resets_the_failures(live, user, failures, browser):
    failures.of_account(user, 2)
    assert _attempt(browser, user.email, user.password).status_code == 303
    assert failures.count_of(user) == 0
    for _ in range(3):
        assert _attempt(Browser(live.url), user.email, "wrong password!").status_code == 401


def test_failures_are_forgotten_after_a_quiet_while(live, user, failures, browser):
    failures.of_account(user, 20, seconds_ago=16 * 60)
    assert _attempt(browser, user.email, user.password).status_code == 303


def test_an_attacker_does_not_lock_the_owner_out_of_his_usual_browser(live, limits, user, failures):
    usual = Browser(live.url)
    assert _attempt(usual, user.email, user.password).status_code == 303
    assert "idp_browser" in usual.http.cookies
    limits(per_account="3/minute")
    # Someone else hammers the account: the delay and the per-account limit stop him...
    for _ in range(3):
        _attempt(Browser(live.url), user.email, "wrong password!")
    failures.of_account(user, 30)
    assert _attempt(Browser(live.url), user.email, user.password).status_code == 429
    # ...but the owner, in the browser he logged in with before, gets in, by email or identifiant.
    assert _attempt(usual, user.email, user.password).status_code == 303
    assert _attempt(usual, user.identifiant.upper(), user.password).status_code == 303
    assert failures.count_of(user) == 0


def test_the_known_browser_cookie_cannot_be_forged(live, user, failures):
    failures.of_account(user, 30)
    forged = Browser(live.url)
    forged.http.cookies.set("idp_browser", "eyJpZCI6ICJ4IiwgImxvZ2lucyI6IFtdfQ.forged.sig", path="/login")
    assert _attempt(forged, user.email, user.password).status_code == 429


def test_login_refuses_a_forged_post(live, user, browser):
    response = browser.post("/login", data={"login": user.email, "password": user.password})
    assert response.status_code == 400
    assert "Ce formulaire a expiré ou ne vient pas de Comptexpert" in response.text
    assert "idp_session" not in browser.http.cookies
