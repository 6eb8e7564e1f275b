"""Server-side record of a login session (the cookie holds only a random key)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import db


class LoginSession(db.Model):
    __tablename__ = "login_sessions"

    # SHA-256 of the cookie value: a database leak does not yield live cookies.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Public session identifier, the OIDC ``sid`` claim; unrelated to the cookie.
    sid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    auth_time: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    acr: Mapped[str] = mapped_column(String(32), nullable=False)
    amr: Mapped[list] = mapped_column(JSON, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))

    user = relationship("User", lazy="joined")

    def is_active(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now
