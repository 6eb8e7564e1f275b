"""Opening, finding and ending SSO sessions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..db import digest, new_secret, utcnow
from ..errors import NotFound
from ..extensions import db
from .models import LoginSession


@dataclass(frozen=True)
class Authentication:
    """What a login proved: the assurance level and the methods used."""

    acr: str
    amr: tuple[str, ...]


PASSWORD = Authentication("eidas1", ("pwd",))
# Password then a code from the authenticator app (or a recovery code).
TOTP = Authentication("eidas2", ("pwd", "otp", "mfa"))
# A SIGNEXPERT certificate (TLS client authentication), RFC 8176 values: proof
# of possession of a hardware-secured key ("hwk") held on a smart card or
# token ("sc"), which its PIN unlocks: something held and something known
# ("mfa"). See docs/assurance.md.
SIGNEXPERT = Authentication("eidas3", ("hwk", "sc", "mfa"))


def open_session(user, authentication: Authentication, *, ttl: int, ip: str | None, user_agent: str | None,
                 now: datetime | None = None) -> tuple[str, LoginSession]:
    """Start a session for ``user``; return ``(cookie_value, record)``. The caller commits.

    A new random key is issued at every login, so a key planted before the
    login (session fixation) never becomes authenticated.
    """
    now = now or utcnow()
    cookie = new_secret(32)
    record = LoginSession(
        id=digest(cookie),
        sid=new_secret(16),
        user_id=user.id,
        created_at=now,
        auth_time=now,
        acr=authentication.acr,
        amr=list(authentication.amr),
        expires_at=now + timedelta(seconds=ttl),
        ip=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:256] or None,
    )
    db.session.add(record)
    db.session.flush()
    return cookie, record


def load_session(cookie: str | None, now: datetime | None = None) -> LoginSession | None:
    """The active session behind ``cookie``, or ``None``."""
    if not cookie or len(cookie) > 128:
        return None
    record = db.session.get(LoginSession, digest(cookie))
    now = now or utcnow()
    if record is None or not record.is_active(now) or not record.user.active:
        return None
    return record


def _revoke_tokens_of(sids: list[str], now: datetime) -> None:
    # A session that ends takes its refresh and access tokens with it: after
    # a logout or a password reset, a copied refresh token is worthless.
    from ..oauth.tokens import revoke_session_tokens

    revoke_session_tokens(sids, now)


def end_session(record: LoginSession, now: datetime | None = None, *, revoke_tokens: bool = True) -> None:
    """End one session, and by default the tokens issued from it; the caller commits.

    ``revoke_tokens=False`` is for a session that gives way to a stronger
    one in the same browser (step-up): the user is still logged in, and the
    sites holding tokens of the weaker session keep them.
    """
    now = now or utcnow()
    record.ended_at = now
    if revoke_tokens:
        _revoke_tokens_of([record.sid], now)


def end_all_sessions(user_id: int, now: datetime | None = None) -> list[str]:
    """End every session of a user; return their ``sid``s. The caller commits."""
    now = now or utcnow()
    sids = list(
        db.session.scalars(
            select(LoginSession.sid).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        )
    )
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    _revoke_tokens_of(sids, now)
    return sids


def list_sessions(user_id: int, now: datetime | None = None, limit: int = 50) -> list[LoginSession]:
    """The active sessions of a user, newest first (Sécurité page)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None), LoginSession.expires_at > now)
            .order_by(LoginSession.created_at.desc())
            .limit(limit)
        )
    )


def end_session_by_sid(user_id: int, sid: str, now: datetime | None = None) -> LoginSession:
    """End the session ``sid`` of ``user_id``; the caller commits.

    Raises ``NotFound`` for a session that is not this user's (or no longer
    active), so one user cannot probe or end another's sessions.
    """
    now = now or utcnow()
    record = db.session.scalar(
        select(LoginSession).where(LoginSession.sid == sid, LoginSession.user_id == user_id)
    )
    if record is None or not record.is_active(now):
        raise NotFound(_("Cette session n'existe pas ou est déjà terminée."))
    end_session(record, now)
    return record


def end_other_sessions(user_id: int, keep_sid: str, now: datetime | None = None) -> int:
    """End every session of a user but ``keep_sid`` (after a password change); the caller commits."""
    now = now or utcnow()
    others = LoginSession.user_id == user_id, LoginSession.ended_at.is_(None), LoginSession.sid != keep_sid
    sids = list(db.session.scalars(select(LoginSession.sid).where(*others)))
    db.session.execute(update(LoginSession).where(*others).values(ended_at=now))
    _revoke_tokens_of(sids, now)
    return len(sids)
