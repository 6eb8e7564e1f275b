"""Deleting what has expired: codes, interactions, assertions, tokens, sessions, e-mailed links.

Nothing here is needed once it has expired or ended, plus a grace period
(``IDP_CLEANUP_GRACE``, a day by default) that keeps recent rows for
support questions and replay detection: a code replayed a minute after it
was used still revokes what it issued. Rows go in small batches, each its
own transaction, so the command runs while the provider serves (no long
lock) and can be stopped at any time.

What stays until expiry, on purpose: a revoked access-token record (the
revocation must hold until the JWT expires) and a rotated refresh token
(its reuse must still revoke its family).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, delete, select

from ..db import utcnow
from ..extensions import db


@dataclass(frozen=True)
class Rule:
    """Rows of ``table`` are deleted when ``column`` is older than the cutoff."""

    table: str
    column: str


# One rule per (table, date column); an indexed ``expires_at`` first, so
# most rows go through the index.
RULES = (
    Rule("oauth_codes", "expires_at"),
    Rule("oauth_interactions", "expires_at"),
    Rule("oauth_used_assertions", "expires_at"),
    Rule("oauth_refresh_tokens", "expires_at"),
    Rule("oauth_refresh_tokens", "revoked_at"),
    Rule("oauth_access_tokens", "expires_at"),
    Rule("login_sessions", "expires_at"),
    Rule("login_sessions", "ended_at"),
    Rule("email_tokens", "expires_at"),
    Rule("email_tokens", "used_at"),
)


def _primary_key(table) -> Column:
    (column,) = table.primary_key.columns
    return column


def delete_older(rule: Rule, cutoff: datetime, batch_size: int) -> int:
    """Delete the rows of one rule, ``batch_size`` at a time, committing each batch."""
    table = db.metadata.tables[rule.table]
    key = _primary_key(table)
    stale = select(key).where(table.c[rule.column] < cutoff).limit(batch_size)
    total = 0
    while True:
        deleted = db.session.execute(delete(table).where(key.in_(stale.scalar_subquery()))).rowcount
        db.session.commit()
        total += deleted
        if deleted < batch_size:
            return total


def cleanup(*, grace: timedelta, batch_size: int = 1000, now: datetime | None = None) -> dict[str, int]:
    """Delete every row expired or ended before ``now - grace``; return the counts per table."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    cutoff = (now or utcnow()) - grace
    counts: dict[str, int] = {}
    for rule in RULES:
        counts[rule.table] = counts.get(rule.table, 0) + delete_older(rule, cutoff, batch_size)
    return counts
