"""Experts with firms, collaborators, API clients with real tokens: the people of the délégations tests.

    make_firm ── make_expert ── expert            (a verified expert practising in a firm)
    make_user ── collaborator                      (an "Autre profil" account, confirmed)
    api(user)                                      (an /api/v1 client holding a real access token)
    in_app                                         (an application context, to call services directly)
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "accounts"))

from deleg_steps import ApiClient, FirmInfo, new_siret  # noqa: E402
from smtp import smtp  # noqa: E402,F401 - the fixture, for these tests


@pytest.fixture
def in_app(app):
    """An application context of the live provider, its session removed afterwards."""
    from idp.extensions import db

    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def make_firm(app):
    """A firm (société d'exercice), committed; returns its id, SIRET and name."""
    def make(raison_sociale: str = "SOGETES", city: str = "Paris") -> FirmInfo:
        from idp.extensions import db
        from idp.firms.models import Firm

        with app.app_context():
            firm = Firm(siret=new_siret(), raison_sociale=raison_sociale, city=city)
            db.session.add(firm)
            db.session.commit()
            info = FirmInfo(firm.id, firm.siret, raison_sociale, city)
            db.session.remove()
        return info

    return make


@pytest.fixture
def link_firm(app):
    """Make ``user`` practise in ``firm`` (an administrator's link)."""
    def link(user, firm: FirmInfo) -> None:
        from idp.extensions import db
        from idp.firms.models import UserFirm

        with app.app_context():
            db.session.add(UserFirm(user_id=user.id, firm_id=firm.id, added_by="test"))
            db.session.commit()
            db.session.remove()

    return link


@pytest.fixture
def make_expert(factories, make_firm, link_firm):
    """A verified expert practising in the firms given (a new SOGETES by default); ``.firm`` is the first."""
    def make(firms: list[FirmInfo] | None = None, **options):
        options.setdefault("given_name", "Philippe")
        options.setdefault("family_name", "Durant")
        user = factories.user(expert_status="verified", profile="expert_comptable", **options)
        user.firms = firms if firms is not None else [make_firm()]
        for firm in user.firms:
            link_firm(user, firm)
        user.firm = user.firms[0] if user.firms else None
        return user

    return make


@pytest.fixture
def expert(make_expert):
    return make_expert()


@pytest.fixture
def collaborator(make_collaborator):
    return make_collaborator()


@pytest.fixture
def api_rp(live, factories):
    """A first-party firm software registered for the API's audience, with the delegations scope."""
    return factories.relying_party(scope="openid profile email delegations", resources=[live.url + "/api/v1"],
                                   first_party=True, grant_types=["authorization_code", "refresh_token"])


@pytest.fixture
def api(live, api_rp):
    """``api(user)``: an API client holding an access token obtained through the code flow for ``user``."""
    from flows import Browser

    clients = {}

    def for_user(user) -> ApiClient:
        if user.id not in clients:
            tokens = api_rp.tokens_for(Browser(live.url), user, scope="openid delegations")
            clients[user.id] = ApiClient(live.url, tokens["access_token"])
        return clients[user.id]

    return for_user
