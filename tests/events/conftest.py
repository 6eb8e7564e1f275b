"""People, delegations and relying sites with event endpoints, for the events tests.

    make_expert ── make_collaborator ── delegate   (an expert's firm, a collaborator, an active delegation)
    make_site                                      (a registered client and its event endpoint, up or down)
    outbox, deliver_once                           (the outbox rows; one delivery pass in this process)
    delivery_process                               (``idp events deliver`` as a process of its own)
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from backends import free_port  # noqa: E402
from event_sites import DeliveryProcess, SiteEndpoint  # noqa: E402
from flows import Browser  # noqa: E402
from smtp import smtp  # noqa: E402,F401 - the fixture, for the password reset test

JESIGNEXPERT = "https://jesignexpert.com"


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


@pytest.fixture
def in_app(app):
    from idp.extensions import db

    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def make_expert(app, factories):
    """A verified expert practising in a new firm; ``.firm_id`` and ``.siret`` say which."""
    def make(**options):
        from idp.extensions import db
        from idp.firms.models import Firm, UserFirm

        options.setdefault("given_name", "Philippe")
        options.setdefault("family_name", "Durant")
        expert = factories.user(expert_status="verified", profile="expert_comptable", **options)
        with app.app_context():
            firm = Firm(siret=new_siret(), raison_sociale="SOGETES", city="Paris")
            db.session.add(firm)
            db.session.flush()
            db.session.add(UserFirm(user_id=expert.id, firm_id=firm.id, added_by="test"))
            db.session.commit()
            expert.firm_id, expert.siret = firm.id, firm.siret
            db.session.remove()
        return expert

    return make


@pytest.fixture
def delegate(app):
    """``delegate(expert, collaborator, rights, ends_at=None)``: an active delegation, through the service."""
    def make(expert, collaborator, rights, ends_at=None) -> int:
        from idp.accounts.models import User
        from idp.delegations.services import create_delegations
        from idp.extensions import db

        with app.app_context():
            actor = db.session.get(User, expert.id)
            (delegation,) = create_delegations(actor, expert.firm_id, [collaborator.email], list(rights), ends_at)
            db.session.commit()
            delegation_id = delegation.id
            db.session.remove()
        return delegation_id

    return make


@pytest.fixture
def as_expert(app):
    """``as_expert(expert, service, delegation_id, *args)``: call a délégations service and commit."""
    def call(expert, service: str, delegation_id: int, *args, **kwargs):
        from idp.accounts.models import User
        from idp.delegations import services
        from idp.extensions import db

        with app.app_context():
            actor = db.session.get(User, expert.id)
            getattr(services, service)(actor, delegation_id, *args, **kwargs)
            db.session.commit()
            db.session.remove()

    return call


@pytest.fixture
def make_site(live, factories):
    """``make_site(up=True, events=True, logout=True)``: a relying site registered with its event endpoint.

    The endpoint's port is chosen at once, so the client is registered
    with it even while nothing listens there (a site that is down).
    ``site.rp`` drives the code flow; ``site.tokens(browser, user)`` logs in.
    """
    sites: list[SiteEndpoint] = []

    def make(*, up: bool = True, events: bool = True, logout: bool = True, resource: str = JESIGNEXPERT):
        client_id = f"site-{secrets.token_hex(4)}"
        site = SiteEndpoint(live.url, client_id, free_port())
        site.rp = factories.relying_party(
            client_id=client_id, resources=[resource], first_party=True,
            events_uri=site.url if events else None, backchannel_logout_uri=site.url if logout else None,
        )
        site.tokens = lambda browser, user: site.rp.tokens_for(browser, user)
        if up:
            site.start()
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.stop()


@pytest.fixture
def outbox(app):
    """``outbox(client_id=None)``: the outbox rows, oldest first, as dictionaries."""
    def rows(client_id: str | None = None) -> list[dict]:
        from sqlalchemy import select

        from idp.events.models import OutboxEvent
        from idp.extensions import db

        with app.app_context():
            query = select(OutboxEvent).order_by(OutboxEvent.id)
            if client_id is not None:
                query = query.where(OutboxEvent.client_id == client_id)
            result = [
                {"id": e.id, "client_id": e.client_id, "kind": e.kind, "jti": e.jti, "payload": e.payload,
                 "attempts": e.attempts, "next_attempt_at": e.next_attempt_at, "delivered_at": e.delivered_at,
                 "last_error": e.last_error}
                for e in db.session.scalars(query)
            ]
            db.session.remove()
        return result

    return rows


@pytest.fixture
def deliver_once(app):
    """One delivery pass in this process (short timeouts); returns the pass result."""
    def deliver(**settings):
        from idp.events.delivery import Settings, deliver_due
        from idp.extensions import db

        settings = {"timeout": 5.0, "backoff_base": 0.2, "backoff_cap": 1.0, **settings}
        with app.app_context():
            result = deliver_due(Settings(**settings))
            db.session.remove()
        return result

    return deliver


@pytest.fixture
def delivery_process(live, tmp_path):
    """``delivery_process(*options)``: ``idp events deliver`` in a process of its own (not started)."""
    processes: list[DeliveryProcess] = []

    def make(*options: str) -> DeliveryProcess:
        process = DeliveryProcess(live.app, live.url, tmp_path, *options)
        processes.append(process)
        return process

    yield make
    for process in processes:
        process.kill()


@pytest.fixture
def browser_of(live):
    """``browser_of(user)``: a browser with a provider session for ``user``."""
    def make(user) -> Browser:
        browser = Browser(live.url)
        assert browser.login(user.email, user.password).status_code == 200
        return browser

    return make
