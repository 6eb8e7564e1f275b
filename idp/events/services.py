"""Enqueueing security events for relying sites, in the transaction of the change.

    token_claims_changed(user, reason)     CAEP token-claims-change: the rights changed
    session_revoked(user, sid)             CAEP session-revoked
    backchannel_logout(user, sid)          OpenID Connect Back-Channel Logout token
    session_ended / sessions_ended         both of the above, for each client of the session
    delegation_changed(delegation, ...)    token-claims-change when a delegation took rights away

Who receives an event: the clients that hold live tokens for that user
(a refresh token neither rotated, revoked nor expired, or an access token
not revoked nor expired), for that session when the event is about one,
and that registered the endpoint the event goes to. A site that holds
nothing of the user has nothing to drop.

Nothing here sends anything or commits: each function adds rows to the
outbox (``OutboxEvent``) in the caller's transaction, so an event exists
if and only if the change it reports was committed. ``idp events deliver``
(``delivery.py``) signs and pushes them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, union

from ..db import epoch, new_secret, utcnow
from ..extensions import db
from ..oauth.models import Client, IssuedAccessToken, RefreshToken
from .models import OutboxEvent

CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
TOKEN_CLAIMS_CHANGE = CAEP + "token-claims-change"
SESSION_REVOKED = CAEP + "session-revoked"
BACKCHANNEL_LOGOUT = "http://schemas.openid.net/event/backchannel-logout"

# Outbox kinds: where the row is delivered and how it is signed.
SET = "set"          # RFC 8417 SET pushed to events_uri (RFC 8935), typ secevent+jwt
LOGOUT = "logout"    # logout token POSTed to backchannel_logout_uri, typ logout+jwt

# CAEP initiating_entity values.
ADMIN, USER, POLICY, SYSTEM = "admin", "user", "policy", "system"

# Why an event was sent, told to the relying site's administrators (CAEP
# reason_admin, by language). Stable keys, so sites may also log them.
REASONS: dict[str, dict[str, str]] = {
    "deactivate": {"fr": "Délégation désactivée par l'expert-comptable",
                   "en": "Delegation deactivated by the expert-comptable"},
    "remove": {"fr": "Délégation supprimée par l'expert-comptable",
               "en": "Delegation removed by the expert-comptable"},
    "give_up": {"fr": "Droit abandonné par le collaborateur", "en": "Right given up by the collaborator"},
    "change_rights": {"fr": "Droits de la délégation retirés par l'expert-comptable",
                      "en": "Rights of the delegation withdrawn by the expert-comptable"},
    "ends_early": {"fr": "Délégation écourtée par l'expert-comptable",
                   "en": "Delegation shortened by the expert-comptable"},
    "logout": {"fr": "Déconnexion", "en": "Logout"},
    "logout_everywhere": {"fr": "Déconnexion de toutes les sessions", "en": "Logout from every session"},
    "session_ended": {"fr": "Session fermée par l'utilisateur", "en": "Session ended by the user"},
    "password_changed": {"fr": "Mot de passe changé", "en": "Password changed"},
    "password_reset": {"fr": "Mot de passe réinitialisé", "en": "Password reset"},
}


def _reason(reason: str) -> dict[str, str]:
    return REASONS.get(reason, {"en": reason})


def subject_of(user) -> dict:
    """The person an event is about, as an RFC 9493 subject identifier.

    ``opaque`` with the identifiant, which is the ``sub`` of every token
    the provider issues: the site matches it to its sessions as it is.
    """
    return {"format": "opaque", "id": user.identifiant}


def clients_holding_tokens(user_id: int, *, sid: str | None = None, now: datetime | None = None) -> list[Client]:
    """Clients holding a live refresh or access token of ``user_id`` (of session ``sid`` if given).

    Both queries use the per-user (or per-session) indexes of the token
    tables; expired tokens never count, revoked and rotated ones only for a
    session that is ending.
    """
    now = now or utcnow()
    refresh = select(RefreshToken.client_id).where(RefreshToken.user_id == user_id, RefreshToken.expires_at > now)
    access = select(IssuedAccessToken.client_id).where(
        IssuedAccessToken.user_id == user_id, IssuedAccessToken.expires_at > now
    )
    if sid is not None:
        # Ending a session revokes its tokens (idp.sessions.services) in the
        # same transaction, before or after the events are written: every
        # client of the session is told, whether its tokens are already
        # revoked or not; telling one twice is harmless (logout is idempotent).
        refresh = refresh.where(RefreshToken.sid == sid)
        access = access.where(IssuedAccessToken.sid == sid)
    else:
        refresh = refresh.where(RefreshToken.rotated_at.is_(None), RefreshToken.revoked_at.is_(None))
        access = access.where(IssuedAccessToken.revoked_at.is_(None))
    holders = union(refresh, access).subquery()
    return list(db.session.scalars(
        select(Client).where(Client.client_id.in_(select(holders.c.client_id))).order_by(Client.client_id)
    ))


def _enqueue(client: Client, kind: str, payload: dict, now: datetime) -> OutboxEvent:
    # The jti is fixed now and reused at every delivery attempt, so that a
    # receiver drops the duplicates at-least-once delivery may produce.
    payload = {**payload, "aud": client.client_id}
    event = OutboxEvent(client_id=client.client_id, kind=kind, jti=new_secret(24), payload=payload,
                        created_at=now, attempts=0, next_attempt_at=now)
    db.session.add(event)
    return event


def _set_payload(event_type: str, user, body: dict) -> dict:
    """A SET's claims but ``iss``, ``aud`` and ``iat`` (added at delivery, ``aud`` at enqueue).

    The subject is in the event (CAEP) and repeated as ``sub_id`` (the
    Shared Signals Framework's place for it), so receivers of either
    draft find it.
    """
    return {"sub_id": subject_of(user), "events": {event_type: {"subject": subject_of(user), **body}}}


def token_claims_changed(user, reason: str, *, initiating_entity: str = ADMIN,
                         now: datetime | None = None) -> list[OutboxEvent]:
    """CAEP token-claims-change to each client with an ``events_uri`` holding live tokens of ``user``.

    ``claims`` carries the new ``authorization_details`` for the client's
    audience (the rights as they stand at the provider). The site should
    drop what it cached from earlier tokens and refresh: the new access
    token is the authoritative view, filtered by the session's level.
    """
    now = now or utcnow()
    events = []
    for client in clients_holding_tokens(user.id, now=now):
        if not client.events_uri:
            continue
        payload = _set_payload(TOKEN_CLAIMS_CHANGE, user, {
            "event_timestamp": epoch(now),
            "initiating_entity": initiating_entity,
            "reason_admin": _reason(reason),
            "claims": {"authorization_details": authorization_details(user, client.default_resource, now)},
        })
        events.append(_enqueue(client, SET, payload, now))
    return events


def session_revoked(user, sid: str, *, reason: str = "logout", initiating_entity: str = USER,
                    now: datetime | None = None, clients: list[Client] | None = None) -> list[OutboxEvent]:
    """CAEP session-revoked to each client with an ``events_uri`` holding tokens of session ``sid``."""
    now = now or utcnow()
    clients = clients if clients is not None else clients_holding_tokens(user.id, sid=sid, now=now)
    events = []
    for client in clients:
        if not client.events_uri:
            continue
        payload = _set_payload(SESSION_REVOKED, user, {
            "sid": sid,
            "event_timestamp": epoch(now),
            "initiating_entity": initiating_entity,
            "reason_admin": _reason(reason),
        })
        events.append(_enqueue(client, SET, payload, now))
    return events


def backchannel_logout(user, sid: str, *, now: datetime | None = None,
                       clients: list[Client] | None = None) -> list[OutboxEvent]:
    """A Back-Channel Logout token (§2.4) to each client with a ``backchannel_logout_uri``
    holding tokens of session ``sid``.

    ``sub`` and ``sid`` both: the site may key its sessions by either. No
    ``nonce``, ever (§2.4): that is what keeps an ID token from passing for
    a logout token. ``exp`` is set at delivery, with ``iat``.
    """
    now = now or utcnow()
    clients = clients if clients is not None else clients_holding_tokens(user.id, sid=sid, now=now)
    events = []
    for client in clients:
        if not client.backchannel_logout_uri:
            continue
        payload = {"sub": user.identifiant, "sid": sid, "events": {BACKCHANNEL_LOGOUT: {}}}
        events.append(_enqueue(client, LOGOUT, payload, now))
    return events


def session_ended(user, sid: str | None, reason: str = "logout", *, initiating_entity: str = USER,
                  now: datetime | None = None) -> list[OutboxEvent]:
    """A session of ``user`` ended: session-revoked and a logout token to each client of that session."""
    if user is None or not sid:
        return []
    now = now or utcnow()
    clients = clients_holding_tokens(user.id, sid=sid, now=now)
    return (session_revoked(user, sid, reason=reason, initiating_entity=initiating_entity, now=now, clients=clients)
            + backchannel_logout(user, sid, now=now, clients=clients))


def session_ending(record, reason: str = "logout", *, now: datetime | None = None) -> list[OutboxEvent]:
    """:func:`session_ended` for a login session about to be ended, unless it already was.

    Call it just before ``end_session(record)``: a session ended twice in
    one request (the end_session endpoint, then the logout page's cleanup)
    is told once.
    """
    if record is None or record.ended_at is not None:
        return []
    return session_ended(record.user, record.sid, reason, now=now)


def sessions_ended(user, sids, reason: str, *, initiating_entity: str = USER,
                   now: datetime | None = None) -> list[OutboxEvent]:
    """:func:`session_ended` for each of ``sids`` (e.g. what ``end_all_sessions`` returned)."""
    events = []
    for sid in sids or ():
        events.extend(session_ended(user, sid, reason, initiating_entity=initiating_entity, now=now))
    return events


def other_sessions_ending(user, keep_sid: str | None, reason: str, *,
                          now: datetime | None = None) -> list[OutboxEvent]:
    """Events for every active session of ``user`` but ``keep_sid``, which the caller is about to end.

    For ``end_other_sessions``, which ends them in one UPDATE and says only
    how many: the sessions are read first, in the same transaction.
    """
    from ..sessions.models import LoginSession

    now = now or utcnow()
    query = select(LoginSession.sid).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None),
                                           LoginSession.expires_at > now)
    if keep_sid:
        query = query.where(LoginSession.sid != keep_sid)
    return sessions_ended(user, list(db.session.scalars(query)), reason, now=now)


# -- délégations -----------------------------------------------------------------------------------
def delegation_changed(delegation, before: dict, action: str, now: datetime | None = None) -> list[OutboxEvent]:
    """token-claims-change for the collaborator when a change to ``delegation`` took rights away.

    ``before`` is the délégations' snapshot taken before the change. Rights
    are taken away when the delegation was in force and, after the change,
    is no longer (deactivated, removed), holds fewer rights (given up,
    changed), or ends sooner (shortened). Changes that only add rights or
    time are left to the next refresh: no site must drop anything for them.
    """
    from ..delegations.states import ACTIVE, effective_state

    grantee = delegation.grantee
    if grantee is None:
        return []
    now = now or utcnow()
    was_active = effective_state(before["state"], before["ends_at"], now) == ACTIVE
    if not was_active:
        return []
    is_active = effective_state(delegation.state, delegation.ends_at, now) == ACTIVE
    lost = set(before["rights"]) - (set(delegation.rights) if is_active else set())
    if lost:
        reason = action if action in REASONS else "change_rights"
    elif delegation.ends_at < before["ends_at"]:
        reason = "ends_early"
    else:
        return []
    return token_claims_changed(grantee, reason, initiating_entity=USER if action == "give_up" else ADMIN, now=now)


def authorization_details(user, audience: str | None, now: datetime) -> list[dict]:
    """The rights ``user`` holds at ``audience`` now, as the ``authorization_details`` of its tokens.

    Built by ``idp.rights`` (docs/claims.md) for a session at the strongest
    level: the event says what the person holds; the access token of a
    weaker session carries only the part its level reaches.
    """
    if not audience:
        return []
    from scopes.acr import ACR_VALUES

    from ..rights.services import authorization_details_for

    return authorization_details_for(user, audience, ACR_VALUES[-1], now)


# -- reading the outbox --------------------------------------------------------------------------
def pending_for(client_id: str | None = None) -> list[OutboxEvent]:
    """Events not delivered yet, oldest first (for ``idp events status`` and tests)."""
    query = select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))
    if client_id is not None:
        query = query.where(OutboxEvent.client_id == client_id)
    return list(db.session.scalars(query.order_by(OutboxEvent.id)))

