"""Small helpers shared by every model: time and secret digests."""
from __future__ import annotations

import calendar
import hashlib
import hmac
import secrets
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Naive UTC now: SQLite and PostgreSQL ``timestamp`` columns compare alike."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def new_secret(nbytes: int = 32) -> str:
    """A high-entropy random secret (URL-safe), for codes, tokens, cookies."""
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret, as stored in the database.

    Codes, refresh tokens, session cookies and client secrets are random
    with at least 256 bits: a fast digest cannot be brute-forced back, and a
    slow password hash would only cost every request dearly.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, stored: str | None) -> bool:
    """Constant-time comparison of ``secret`` with a stored digest."""
    return stored is not None and hmac.compare_digest(digest(secret), stored)


def epoch(moment: datetime) -> int:
    """Seconds since 1970 of a naive UTC datetime (JWT ``NumericDate``)."""
    return calendar.timegm(moment.timetuple())
