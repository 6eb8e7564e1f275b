"""Every page passes axe-core (WCAG 2.1 A and AA: labels, names, contrast, language), in French and English.

Each page is opened in Debian's Chromium the way a user reaches it (the
language chosen with the pages' own switch, forms sent, errors shown), then
axe-core runs on it; a screenshot of each checked page is saved for a person
to look at. A violation names the rule, the element and what is wrong.
"""
from __future__ import annotations

import re

import pyotp
import pytest

from a11y_steps import check, open_in, share_login
from flows import Browser

pytestmark = pytest.mark.browser

LOCALES = ["fr", "en"]

ANONYMOUS = {
    "login": "/login",
    "signup": "/inscription",
    "reset-request": "/mot-de-passe/oublie",
    "reset-link-refused": "/mot-de-passe/nouveau/ce-lien-n-existe-pas",
    "resend-confirmation": "/confirmer/renvoyer",
    "certificate-login": "/login/certificat",
    "logged-out": "/logout/done",
    "error-not-found": "/cette-page-n-existe-pas",
    "error-authorize": "/authorize?client_id=inconnu&response_type=code&scope=openid",
    "request-expired": "/authorize/resume?interaction=inconnue",
    "confirm-link-refused": "/confirmer/ce-lien-n-existe-pas",
}
EXPERT = {
    "informations": "/compte/",
    "informations-edit": "/compte/informations/modifier",
    "firms": "/compte/societes",
    "security": "/compte/securite/",
    "certificate-bind": "/compte/securite/certificats/associer",
    "applications": "/compte/applications",
    "messages": "/compte/messagerie",
    "delegations": "/compte/delegations/",
    "delegations-given": "/compte/delegations/consulter",
    "delegations-pending": "/compte/delegations/en-attente",
    "delegations-create": "/compte/delegations/creer",
    "delegation-given": "/compte/delegations/{given_id}",
    "delegation-request": "/compte/delegations/{request_id}",
    "logout-confirm": "/logout",  # last: it only asks, the session ends on the confirmation's POST
}
COLLABORATOR = {
    "informations": "/compte/",
    "firms": "/compte/societes",
    "messages": "/compte/messagerie",
    "delegations": "/compte/delegations/",
    "delegations-received": "/compte/delegations/recues",
    "delegation-received": "/compte/delegations/{given_id}",
}


def log_in(page, live, user) -> None:
    browser = Browser(live.url)
    assert browser.login(user.email, user.password).status_code == 200
    share_login(page, live.url, browser)


def submit(page, action: str) -> None:
    """Send the form posted to ``action`` with its own submit button."""
    page.locator(f"form[action$='{action}'] [type=submit]").first.click()
    page.wait_for_load_state("load")


def check_pages(page, axe_script, pages: dict[str, str], locale: str, prefix: str) -> dict[str, list[str]]:
    """Open each page in ``locale`` and check it; the violations of the pages that have some."""
    found = {}
    for name, path in pages.items():
        open_in(page, locale, path)
        violations = check(page, axe_script, f"{prefix}{name}-{locale}")
        if violations:
            found[path] = violations
    return found


# -- anonymous ------------------------------------------------------------------------
@pytest.mark.parametrize("locale", LOCALES)
def test_every_public_page_has_no_accessibility_violation(live, a11y_page, axe_script, locale):
    assert check_pages(a11y_page, axe_script, ANONYMOUS, locale, "") == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_login_page_with_its_error_has_no_violation(live, a11y_page, axe_script, user, locale):
    open_in(a11y_page, locale, "/login")
    a11y_page.fill("input[name=login]", user.email)
    a11y_page.fill("input[name=password]", "not the password")
    submit(a11y_page, "/login")
    assert a11y_page.get_by_role("alert").count() >= 1
    assert check(a11y_page, axe_script, f"login-error-{locale}") == []


@pytest.mark.parametrize("locale", LOCALES)
def test_signup_page_with_every_field_in_error_has_no_violation(live, a11y_page, axe_script, locale):
    open_in(a11y_page, locale, "/inscription")
    submit(a11y_page, "/inscription")
    assert a11y_page.locator("[aria-invalid=true]").count() >= 3
    assert check(a11y_page, axe_script, f"signup-errors-{locale}") == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_answers_to_the_mail_sending_forms_have_no_violation(live, a11y_page, axe_script, locale):
    page, found = a11y_page, {}
    open_in(page, locale, "/inscription")
    page.check("input[name=profile][value=autre]")
    for name, value in [("given_name", "Cyrille"), ("family_name", "Bellanger"), ("email", "cb@cabinet.example"),
                        ("password", "une phrase facile à retenir"), ("password_confirm", "une phrase facile à retenir")]:
        page.fill(f"input[name={name}]", value)
    submit(page, "/inscription")
    found["signup-sent"] = check(page, axe_script, f"signup-sent-{locale}")
    open_in(page, locale, "/mot-de-passe/oublie")
    page.fill("input[name=login]", "cb@cabinet.example")
    submit(page, "/mot-de-passe/oublie")
    found["reset-sent"] = check(page, axe_script, f"reset-sent-{locale}")
    open_in(page, locale, "/confirmer/renvoyer")
    page.fill("input[name=email]", "cb@cabinet.example")
    submit(page, "/confirmer/renvoyer")
    found["resend-sent"] = check(page, axe_script, f"resend-sent-{locale}")
    assert {name: violations for name, violations in found.items() if violations} == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_email_confirmation_pages_have_no_violation(live, app, a11y_page, axe_script, make_user, locale):
    from idp.accounts.models import User
    from idp.accounts.services import CONFIRM, issue_email_token
    from idp.extensions import db

    newcomer = make_user(email_verified=False)
    with app.app_context():
        secret = issue_email_token(db.session.get(User, newcomer.id), CONFIRM, ttl=3600)
        db.session.commit()
        db.session.remove()
    open_in(a11y_page, locale, f"/confirmer/{secret}")
    assert check(a11y_page, axe_script, f"confirm-{locale}") == []
    a11y_page.locator("main form [type=submit]").click()  # the form posts back to its own address
    a11y_page.wait_for_load_state("load")
    assert newcomer.identifiant in a11y_page.content()
    assert check(a11y_page, axe_script, f"confirmed-{locale}") == []


@pytest.mark.parametrize("locale", LOCALES)
def test_new_password_page_has_no_violation(live, app, a11y_page, axe_script, user, locale):
    from idp.accounts.models import User
    from idp.accounts.services import RESET, issue_email_token
    from idp.extensions import db

    with app.app_context():
        secret = issue_email_token(db.session.get(User, user.id), RESET, ttl=3600)
        db.session.commit()
        db.session.remove()
    open_in(a11y_page, locale, f"/mot-de-passe/nouveau/{secret}")
    assert a11y_page.locator("input[type=password]").count() == 2
    assert check(a11y_page, axe_script, f"new-password-{locale}") == []


@pytest.mark.parametrize("locale", LOCALES)
def test_consent_page_has_no_violation(live, a11y_page, axe_script, user, rp, locale):
    log_in(a11y_page, live, user)
    open_in(a11y_page, locale, rp.authorize_url().removeprefix(live.url))
    assert a11y_page.locator("button[value=allow]").count() == 1
    assert check(a11y_page, axe_script, f"consent-{locale}") == []


@pytest.mark.parametrize("locale", LOCALES)
def test_code_step_page_has_no_violation(live, app, a11y_page, axe_script, user, locale):
    from idp.accounts.models import User
    from idp.db import utcnow
    from idp.extensions import db
    from idp.mfa import services

    with app.app_context():
        account = db.session.get(User, user.id)
        services.start_enrolment(account, app.config["IDP_KEY_ENCRYPTION_KEY"])
        account.totp_enabled_at = utcnow()
        db.session.commit()
        db.session.remove()
    open_in(a11y_page, locale, "/login")
    a11y_page.fill("input[name=login]", user.email)
    a11y_page.fill("input[name=password]", user.password)
    submit(a11y_page, "/login")
    a11y_page.wait_for_url("**/login/code")
    assert check(a11y_page, axe_script, f"code-step-{locale}") == []


# -- Mon Espace -------------------------------------------------------------------------
@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_of_an_expert_s_mon_espace_has_no_accessibility_violation(live, a11y_page, axe_script, people,
                                                                             locale):
    log_in(a11y_page, live, people.expert)
    pages = {name: path.format(given_id=people.given_id, request_id=people.request_id)
             for name, path in EXPERT.items()}
    assert check_pages(a11y_page, axe_script, pages, locale, "expert-") == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_of_a_collaborator_s_mon_espace_has_no_accessibility_violation(live, a11y_page, axe_script,
                                                                                  people, locale):
    log_in(a11y_page, live, people.collaborator)
    pages = {name: path.format(given_id=people.given_id) for name, path in COLLABORATOR.items()}
    assert check_pages(a11y_page, axe_script, pages, locale, "collaborator-") == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_authenticator_enrolment_and_recovery_codes_have_no_violation(live, a11y_page, axe_script, user, locale):
    log_in(a11y_page, live, user)
    open_in(a11y_page, locale, "/compte/securite/")
    submit(a11y_page, "/compte/securite/application/nouvelle")
    assert check(a11y_page, axe_script, f"enrolment-{locale}") == []

    secret = a11y_page.locator("#totp-secret").inner_text()
    a11y_page.fill("input[name=code]", pyotp.TOTP(re.sub(r"\s", "", secret)).now())
    submit(a11y_page, "/compte/securite/application")
    assert a11y_page.locator("code").count() >= 8, "the recovery codes are shown"
    assert check(a11y_page, axe_script, f"recovery-codes-{locale}") == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_step_of_creating_delegations_has_no_violation(live, a11y_page, axe_script, people, locale):
    log_in(a11y_page, live, people.expert)
    open_in(a11y_page, locale, "/compte/delegations/creer")
    submit(a11y_page, "/compte/delegations/creer/collaborateurs")
    assert check(a11y_page, axe_script, f"create-collaborators-{locale}") == []

    a11y_page.fill("textarea[name=emails]", f"pas-une-adresse\n{people.asking.email}")
    submit(a11y_page, "/compte/delegations/creer/apercu")
    assert a11y_page.locator(".row-error").count() == 1
    assert check(a11y_page, axe_script, f"create-preview-errors-{locale}") == []

    a11y_page.fill("textarea[name=emails]", f"{people.asking.email}\nnouveau@cabinet.example")
    submit(a11y_page, "/compte/delegations/creer/apercu")
    assert a11y_page.locator("input[name=rights]").count() >= 2
    assert check(a11y_page, axe_script, f"create-rights-{locale}") == []
