"""Fixtures of the accessibility checks.

    axe_script (axe-core, installed by npm outside the repository, once per machine)
    a11y_page (a Chromium page that may run axe-core: its context bypasses the CSP)
    people (an expert with a firm, a delegation given, a request waiting, a consent; his collaborators)
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from a11y_steps import install_axe  # noqa: E402
from flows import Browser  # noqa: E402


@pytest.fixture(scope="session")
def axe_script() -> Path:
    return install_axe()


@pytest.fixture
def a11y_page(chromium, live):
    """A fresh Chromium context (French browser, no cookies) in which axe-core can be injected.

    The provider's Content-Security-Policy allows no inline script, so it
    rightly refuses the <script> that ``add_script_tag`` adds to run axe-core.
    ``bypass_csp`` lifts the policy for this test context only, in the
    browser: the pages are still served with their policy, and the checks see
    them exactly as users do.
    """
    context = chromium.new_context(locale="fr-FR", base_url=live.url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@dataclass
class People:
    expert: object
    collaborator: object
    asking: object
    firm_id: int
    given_id: int
    request_id: int
    rp: object


def _siret() -> str:
    from idp.firms.siret import luhn_check_digit

    siren = "44523611" + luhn_check_digit("44523611")
    return siren + "0002" + luhn_check_digit(siren + "0002")


@pytest.fixture
def people(app, factories, live) -> People:
    """Mon Espace with something in every list, built through the services the pages use.

    Philippe Durant, a verified expert practising in SOGETES, has given a
    delegation to Benjamin Dossat and has a request waiting from Cyrille
    Bellanger; he has allowed a relying site to see his account.
    """
    from idp.accounts.models import User
    from idp.delegations.services import create_delegations, request_delegation
    from idp.extensions import db
    from idp.firms.models import Firm, UserFirm

    expert = factories.user(given_name="Philippe", family_name="Durant", expert_status="verified",
                            profile="expert_comptable", company="SOGETES", city="Paris")
    collaborator = factories.user(given_name="Benjamin", family_name="Dossat", profile="autre")
    asking = factories.user(given_name="Cyrille", family_name="Bellanger", profile="autre")
    with app.app_context():
        firm = Firm(siret=_siret(), raison_sociale="SOGETES", city="Paris")
        db.session.add(firm)
        db.session.flush()
        db.session.add(UserFirm(user_id=expert.id, firm_id=firm.id, added_by="test"))
        db.session.commit()
        firm_id, siret = firm.id, firm.siret
        [given] = create_delegations(db.session.get(User, expert.id), firm_id, [collaborator.email],
                                     ["ordre:site_prive", "jefacture:acces"], via="cli")
        request = request_delegation(db.session.get(User, asking.id), expert.identifiant, siret,
                                     ["ordre:droits_administratifs"], message="Pour inscrire le cabinet au congrès.")
        db.session.commit()
        given_id, request_id = given.id, request.id
        db.session.remove()
    rp = factories.relying_party()
    rp.login_and_get_code(Browser(live.url), expert)  # leaves a consent in Mes applications
    return People(expert, collaborator, asking, firm_id, given_id, request_id, rp)
