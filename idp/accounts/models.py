"""The account of a person."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import utcnow
from ..extensions import db


class User(db.Model):
    """A Comptexpert account. ``identifiant`` is the login name and the ``sub``."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Never changes once given: it is the OpenID Connect subject.
    identifiant: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    # Stored lower-cased, so uniqueness holds whatever case people type.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    family_name: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    locale: Mapped[str] = mapped_column(String(8), default="fr", nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def get_user_id(self) -> str:
        """Authlib's hook: the subject identifier."""
        return self.identifiant

    @property
    def active(self) -> bool:
        return self.disabled_at is None
