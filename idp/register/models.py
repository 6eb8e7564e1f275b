"""Register entries imported from the Ordre's Tableau, and the firms they practise in."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import db

register_entry_firms = Table(
    "register_entry_firms",
    db.metadata,
    Column("register_entry_id", ForeignKey("register_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("firm_id", ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class RegisterEntry(db.Model):
    """One member of the Ordre as the regional council records him (read-only for him)."""

    __tablename__ = "register_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    numero_inscription: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    given_name: Mapped[str] = mapped_column(String(100), nullable=False)
    family_name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    region: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    # SIGNEXPERT certificate the Ordre issued to this member (issue 4 binds it).
    certificate_subject: Mapped[str | None] = mapped_column(String(500))
    certificate_serial: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    firms = relationship("Firm", secondary=register_entry_firms, lazy="selectin", order_by="Firm.raison_sociale")
