"""The people and sites of the rights tests.

    make_firm ── make_expert                       (a verified expert practising in firms)
    make_collaborator                              (an "Autre profil" account)
    delegate, change                               (délégations through the services, committed)
    sites_rp                                       (a relying site registered for the Ordre's site and jesignexpert)
    verifier_for(audience)                         (comptexpert_rp against the live /jwks.json)
    second_factor(user)                            (the authenticator app enabled; recovery codes for eidas2)
    many_firms(n)                                  (n experts, each with a firm, each delegating to one collaborator)
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The relying-party library, from the source tree (it is a package of its
# own, not installed with the provider); appended so nothing is shadowed.
_RP = str(Path(__file__).resolve().parents[2] / "rp")
if _RP not in sys.path:
    sys.path.append(_RP)

from rights_steps import JESIGN, ORDRE, new_siret  # noqa: E402


@dataclass(frozen=True)
class FirmInfo:
    id: int
    siret: str
    raison_sociale: str


@pytest.fixture
def make_firm(app):
    """A firm (société d'exercice), committed."""
    def make(raison_sociale: str = "SOGETES") -> FirmInfo:
        from idp.extensions import db
        from idp.firms.models import Firm

        with app.app_context():
            firm = Firm(siret=new_siret(), raison_sociale=raison_sociale, city="Paris")
            db.session.add(firm)
            db.session.commit()
            info = FirmInfo(firm.id, firm.siret, raison_sociale)
            db.session.remove()
        return info

    return make


@pytest.fixture
def make_expert(app, factories, make_firm):
    """A verified expert practising in ``firms`` (one new firm by default); ``.firms``, ``.firm``."""
    def make(firms: list[FirmInfo] | None = None, **options):
        from idp.extensions import db
        from idp.firms.models import UserFirm

        options.setdefault("family_name", "Durant")
        user = factories.user(expert_status="verified", profile="expert_comptable", **options)
        user.firms = firms if firms is not None else [make_firm()]
        with app.app_context():
            db.session.add_all(UserFirm(user_id=user.id, firm_id=f.id, added_by="test") for f in user.firms)
            db.session.commit()
            db.session.remove()
        user.firm = user.firms[0] if user.firms else None
        return user

    return make


@pytest.fixture
def collaborator(make_collaborator):
    return make_collaborator()


@pytest.fixture
def delegate(app):
    """``delegate(expert, collaborator, firm, rights, ends_at=None, now=None)``: an active delegation; its id.

    Through ``create_delegations``, as the pages do; ``now`` in the past
    makes a delegation that has already ended.
    """
    def give(expert, collaborator, firm, rights, *, ends_at=None, now=None) -> int:
        from idp.accounts.models import User
        from idp.delegations.services import create_delegations
        from idp.extensions import db

        with app.app_context():
            actor = db.session.get(User, expert.id)
            [delegation] = create_delegations(actor, firm.id, [collaborator.email], list(rights), ends_at,
                                              via="cli", now=now)
            db.session.commit()
            delegation_id = delegation.id
            db.session.remove()
        return delegation_id

    return give


@pytest.fixture
def change(app):
    """``change(action, actor, delegation_id, **args)``: a délégations service (deactivate, remove...), committed."""
    def run(action: str, actor, delegation_id: int, **args):
        from idp.accounts.models import User
        from idp.delegations import services
        from idp.extensions import db

        with app.app_context():
            getattr(services, action)(db.session.get(User, actor.id), delegation_id, via="cli", **args)
            db.session.commit()
            db.session.remove()

    return run


@pytest.fixture
def sites_rp(factories):
    """A relying site registered for the Ordre's site (its default audience) and for jesignexpert.com."""
    return factories.relying_party(resources=[ORDRE, JESIGN], scope="openid profile email firms rights")


@pytest.fixture
def verifier_for(live):
    """``verifier_for(audience, **jwks_options)``: comptexpert_rp's verifier against the live provider's keys."""
    from comptexpert_rp import AccessTokenVerifier, JWKSCache

    def make(audience: str, leeway: float = 30, **jwks_options) -> AccessTokenVerifier:
        return AccessTokenVerifier(live.url, audience, JWKSCache(live.url + "/jwks.json", **jwks_options),
                                   leeway=leeway)

    return make


@pytest.fixture
def second_factor(app):
    """``second_factor(user)``: enable the authenticator app on ``user``; returns his recovery codes."""
    def enable(user) -> list[str]:
        from idp.accounts.models import User
        from idp.db import utcnow
        from idp.extensions import db
        from idp.mfa import services

        with app.app_context():
            account = db.session.get(User, user.id)
            services.start_enrolment(account, app.config["IDP_KEY_ENCRYPTION_KEY"])
            account.totp_enabled_at = utcnow()
            codes = services.replace_recovery_codes(account, utcnow())
            db.session.commit()
            db.session.remove()
        return codes

    return enable


@pytest.fixture
def many_firms(app, collaborator):
    """``many_firms(n, rights)``: n experts, each practising in a firm of his own and delegating ``rights``
    there to ``collaborator`` until a year from now. Rows written directly: 50 accounts through the
    sign-up services would spend their time hashing passwords. Returns the SIRETs.
    """
    def build(n: int, rights: list[str]) -> list[str]:
        from idp.accounts.models import User
        from idp.accounts.services import new_identifiant
        from idp.db import utcnow
        from idp.delegations.models import Delegation, DelegationRight
        from idp.extensions import db
        from idp.firms.models import Firm, UserFirm

        now = utcnow()
        sirets = []
        with app.app_context():
            for i in range(n):
                expert = User(identifiant=new_identifiant("Expert"), email=f"expert{i}-{new_siret()}@cabinet.example",
                              email_verified=True, given_name="Expert", family_name=f"N{i}",
                              profile="expert_comptable", expert_status="verified")
                firm = Firm(siret=new_siret(), raison_sociale=f"Cabinet {i}", city="Lyon")
                db.session.add_all([expert, firm])
                db.session.flush()
                db.session.add(UserFirm(user_id=expert.id, firm_id=firm.id, added_by="test"))
                db.session.add(Delegation(
                    firm_id=firm.id, grantor_id=expert.id, grantee_user_id=collaborator.id,
                    grantee_email=collaborator.email, state="active", starts_at=now,
                    ends_at=now + timedelta(days=300 + i), created_at=now, updated_at=now,
                    right_rows=[DelegationRight(right_id=r) for r in rights],
                ))
                sirets.append(firm.siret)
            db.session.commit()
            db.session.remove()
        return sorted(sirets)

    return build
