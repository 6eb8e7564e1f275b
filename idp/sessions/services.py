"""Opening, finding and ending SSO sessions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..db import digest, new_secret, utcnow
from ..extensions import db
from .models import LoginSession


@dataclass(frozen=True)
class Authentication:
    """What a login proved: the assurance level and the methods used."""

    acr: str
    amr: tuple[str, ...]


PASSWORD = Authentication("eidas1", ("pwd",))


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


def end_session(record: LoginSession, now: datetime | None = None) -> None:
    """End one session; the caller commits."""
    record.ended_at = now or utcnow()


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
    return sids
