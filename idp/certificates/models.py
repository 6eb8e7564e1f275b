"""SIGNEXPERT certificates bound to accounts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import utcnow
from ..extensions import db


class UserCertificate(db.Model):
    """A certificate that logs its holder into one account; several per account."""

    __tablename__ = "user_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    # SHA-256 of the DER: what a presented certificate is looked up by.
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    subject: Mapped[str] = mapped_column(String(500), nullable=False)
    issuer: Mapped[str] = mapped_column(String(500), nullable=False)
    serial: Mapped[str] = mapped_column(String(64), nullable=False)
    not_after: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    bound_by: Mapped[str] = mapped_column(String(16), default="user", nullable=False)  # "user" | "register"
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
