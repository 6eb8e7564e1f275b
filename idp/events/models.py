"""The outbox of events to push to relying sites: at-least-once delivery."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import utcnow
from ..extensions import db


class OutboxEvent(db.Model):
    """One event for one client, kept until delivered.

    Written in the same transaction as the change it reports, so an event
    exists if and only if the change committed; the delivery loop signs it
    afresh at each attempt (a current ``iat``) under the same ``jti``, which
    receivers use to drop duplicates.
    """

    __tablename__ = "event_outbox"
    __table_args__ = (Index("ix_event_outbox_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "set" (RFC 8935 push) | "logout" (back-channel)
    jti: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
