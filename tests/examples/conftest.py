"""The demo relying sites against the live provider, and the people of the demo.

    site_ordre, jesignexpert   examples/ as processes, their clients registered in the test database
    expert ── collaborator ── delegation_id   (SOGETES, the collaborator holding three rights)
    deliver_events             one pass of the events delivery, as `idp events deliver --once`
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from backends import free_port  # noqa: E402
from demo_sites import DemoSite  # noqa: E402

RIGHTS = ["ordre:site_prive", "ordre:droits_administratifs", "jesignexpert:preparer_collecte"]


def new_siret() -> str:
    """A SIRET that passes both Luhn checks (and is not La Poste's)."""
    from idp.firms.siret import luhn_check_digit

    while True:
        body = "".join(secrets.choice("0123456789") for _ in range(8))
        if not body.startswith("356"):
            break
    siren = body + luhn_check_digit(body)
    nic = "".join(secrets.choice("0123456789") for _ in range(4))
    return siren + nic + luhn_check_digit(siren + nic)


def _demo_site(live, factories, tmp_path, directory: str, client_id: str, resource: str):
    site = DemoSite(directory, client_id, resource, free_port(), live.url, tmp_path / f"{directory}.log")
    # Registered as an operator registers a site of the Ordre (README, « How a relying site registers »).
    site.client, _ = factories.client(
        client_id=client_id, client_secret=site.client_secret, name=directory,
        redirect_uris=[site.url + "/callback"], post_logout_redirect_uris=[site.url + "/"],
        resources=[resource], scope="openid profile email firms", first_party=True,
        events_uri=site.events_uri, backchannel_logout_uri=site.events_uri,
    )
    return site.start()


@pytest.fixture
def site_ordre(live, factories, tmp_path):
    site = _demo_site(live, factories, tmp_path, "site_ordre", "site-ordre", "https://www.experts-comptables.fr")
    yield site
    site.stop()


@pytest.fixture
def jesignexpert(live, factories, tmp_path):
    site = _demo_site(live, factories, tmp_path, "jesignexpert", "jesignexpert", "https://jesignexpert.com")
    yield site
    site.stop()


@pytest.fixture
def expert(app, factories):
    """A verified expert practising in SOGETES (a new SIRET); ``.firm_id`` and ``.siret``."""
    from idp.extensions import db
    from idp.firms.models import Firm, UserFirm

    expert = factories.user(given_name="Philippe", family_name="Durant", expert_status="verified",
                            profile="expert_comptable")
    with app.app_context():
        firm = Firm(siret=new_siret(), raison_sociale="SOGETES", city="Paris")
        db.session.add(firm)
        db.session.flush()
        db.session.add(UserFirm(user_id=expert.id, firm_id=firm.id, added_by="test"))
        db.session.commit()
        expert.firm_id, expert.siret = firm.id, firm.siret
        db.session.remove()
    return expert


@pytest.fixture
def collaborator(factories):
    return factories.user(given_name="Benjamin", family_name="Dossat", profile="autre")


@pytest.fixture
def delegation_id(app, expert, collaborator) -> int:
    """The expert delegates three rights of SOGETES to the collaborator (Créer/Ajouter, through the service)."""
    from idp.accounts.models import User
    from idp.delegations.services import create_delegations
    from idp.extensions import db

    with app.app_context():
        (delegation,) = create_delegations(db.session.get(User, expert.id), expert.firm_id, [collaborator.email],
                                           RIGHTS)
        db.session.commit()
        identifier = delegation.id
        db.session.remove()
    return identifier


@pytest.fixture
def deliver_events(app):
    """One pass of the delivery loop; returns how many events were delivered."""
    def deliver() -> int:
        from idp.events.delivery import Settings, deliver_due
        from idp.extensions import db

        with app.app_context():
            result = deliver_due(Settings(timeout=10))
            db.session.remove()
        assert result.failed == 0, result
        return result.delivered

    return deliver
