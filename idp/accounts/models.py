"""The account of a person."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from ..db import utcnow
from ..extensions import db


# The eleven profiles of the Comptexpert sign-up page, in its order.
PROFILES = (
    ("expert_comptable", "Expert-comptable"),
    ("expert_comptable_honoraire", "Expert-comptable honoraire"),
    ("83ter_quater", "83ter/quater"),
    ("diplome_non_inscrit", "Diplômé non inscrit"),
    ("stagiaire", "Stagiaire"),
    ("filiere_caf_cac", "Filière CAF/CAC"),
    ("memorialiste", "Mémorialiste"),
    ("permanent", "Permanent"),
    ("president_agc", "Président/directeur d'AGC"),
    ("membre_ece", "Membre ECE"),
    ("autre", "Autre profil"),
)
PROFILE_CODES = tuple(code for code, _ in PROFILES)

# Expert status: only a verified expert may delegate.
EXPERT_NONE = "none"          # not claiming the Expert-comptable profile
EXPERT_PENDING = "pending"    # claims it; no register match yet, waits for an administrator
EXPERT_VERIFIED = "verified"  # matched to the register or verified by an administrator


class User(db.Model):
    """A Comptexpert account. ``identifiant`` is the login name and the ``sub``."""

    __tablename__ = "users"
    __table_args__ = (
        # Logins by identifiant compare case-insensitively (find_user): without
        # this index each one would read the whole table.
        Index("ix_users_identifiant_lower", func.lower("identifiant"), unique=True),
    )

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

    # -- sign-up (issue 3) ----------------------------------------------------
    profile: Mapped[str] = mapped_column(String(32), default="autre", nullable=False)
    company: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    address: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    postal_code: Mapped[str] = mapped_column(String(16), default="", nullable=False)
    city: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    phone: Mapped[str] = mapped_column(String(32), default="", nullable=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Numéro d'inscription given at sign-up by someone claiming the expert profile.
    claimed_numero: Mapped[str | None] = mapped_column(String(32))
    expert_status: Mapped[str] = mapped_column(String(16), default=EXPERT_NONE, index=True, nullable=False)
    register_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("register_entries.id", ondelete="SET NULL"), unique=True
    )
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)

    # -- brute force (issue 3): a growing delay, never a lock-out -------------
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_failed_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    # -- authenticator app (issue 3): secret encrypted with the KEK ----------
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Last accepted time step: a TOTP code is accepted once (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    @property
    def is_expert(self) -> bool:
        """A verified expert-comptable: the only kind of user who may delegate."""
        return self.expert_status == EXPERT_VERIFIED

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def get_user_id(self) -> str:
        """Authlib's hook: the subject identifier."""
        return self.identifiant

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class EmailToken(db.Model):
    """A single-use, expiring link sent by email (confirmation, password reset)."""

    __tablename__ = "email_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)  # "confirm" | "reset"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    # The address the link was sent to: confirming proves that address only.
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class RecoveryCode(db.Model):
    """Single-use recovery codes for when the authenticator app is lost (stored hashed)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
