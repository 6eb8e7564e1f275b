"""The state between the password and the second factor.

Kept in this browser's signed session cookie, never in a URL: user id, when
the password was checked, the OAuth interaction to resume, whether this is a
known browser for the account, and a fingerprint of the password hash (a
password changed meanwhile voids it). It lives ``IDP_MFA_PENDING_TTL``
seconds (5 minutes); no login session exists until the code is given.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import session

from ..db import digest, epoch

SESSION_KEY = "mfa_pending"


@dataclass(frozen=True)
class PendingLogin:
    user_id: int
    started_at: int
    interaction_id: str
    known_browser: str
    password_fingerprint: str

    def expired(self, now: datetime, ttl: int) -> bool:
        return not (self.started_at <= epoch(now) < self.started_at + ttl)

    def matches(self, user) -> bool:
        """Still the same account with the same password."""
        return user is not None and password_fingerprint(user) == self.password_fingerprint


def password_fingerprint(user) -> str:
    return digest(user.password_hash or "")[:16]


def start(user, *, interaction_id: str | None, known_browser: str | None, now: datetime) -> None:
    session[SESSION_KEY] = {
        "user_id": user.id,
        "started_at": epoch(now),
        "interaction_id": interaction_id or "",
        "known_browser": known_browser or "",
        "password_fingerprint": password_fingerprint(user),
    }


def peek() -> PendingLogin | None:
    """The pending login of this browser, expired or not."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return PendingLogin(**data)
    except TypeError:
        return None


def clear() -> None:
    session.pop(SESSION_KEY, None)
