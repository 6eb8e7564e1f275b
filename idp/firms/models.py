"""Firms and the experts who practise in them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import db


class Firm(db.Model):
    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True, nullable=False)
    raison_sociale: Mapped[str] = mapped_column(String(200), nullable=False)
    city: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    @property
    def siren(self) -> str:
        return self.siret[:9]

    @property
    def siret_display(self) -> str:
        """``445.236.112.00025``, as the Ordre's pages show it."""
        s = self.siret
        return f"{s[0:3]}.{s[3:6]}.{s[6:9]}.{s[9:14]}"


class UserFirm(db.Model):
    """An expert linked to a firm by an administrator (the register links the others)."""

    __tablename__ = "user_firms"
    __table_args__ = (UniqueConstraint("user_id", "firm_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True, nullable=False)
    added_by: Mapped[str] = mapped_column(String(100), default="admin", nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    firm = relationship("Firm", lazy="joined")
