"""Consent: what a user allowed a client, remembered until withdrawn."""
from __future__ import annotations

from authlib.oauth2.rfc6749.util import scope_to_list
from sqlalchemy import select

from ..db import utcnow
from ..errors import NotFound
from ..extensions import db
from .models import Client, Consent


def has_consent(user_id: int, client, scope: str) -> bool:
    """Whether ``scope`` is covered: first-party clients need no consent."""
    if client.first_party:
        return True
    consent = db.session.scalar(select(Consent).where(Consent.user_id == user_id, Consent.client_id == client.client_id))
    return consent is not None and set(scope_to_list(scope) or []) <= set(scope_to_list(consent.scope) or [])


def grant_consent(user_id: int, client_id: str, scope: str) -> Consent:
    """Remember that the user allows ``scope`` (added to what he allowed before). The caller commits."""
    consent = db.session.scalar(select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id))
    if consent is None:
        consent = Consent(user_id=user_id, client_id=client_id, scope=scope, granted_at=utcnow())
        db.session.add(consent)
    else:
        merged = dict.fromkeys((scope_to_list(consent.scope) or []) + (scope_to_list(scope) or []))
        consent.scope = " ".join(merged)
        consent.granted_at = utcnow()
    return consent


def list_consents(user_id: int) -> list[tuple[Consent, Client]]:
    """The user's consents with their clients, by client name."""
    rows = db.session.execute(
        select(Consent, Client).join(Client, Client.client_id == Consent.client_id)
        .where(Consent.user_id == user_id).order_by(Client.name)
    )
    return [(consent, client) for consent, client in rows]


def withdraw_consent(user_id: int, consent_id: int) -> None:
    """Withdraw one consent of the user; the next visit asks again. The caller commits.

    Filtering by user makes another user's consent id a plain "not found".
    """
    consent = db.session.scalar(select(Consent).where(Consent.id == consent_id, Consent.user_id == user_id))
    if consent is None:
        raise NotFound("Autorisation introuvable.")
    db.session.delete(consent)
