"""Délégations, their rights, the audit trail and Ma messagerie.

A delegation is one expert giving a set of rights of one firm to one
collaborator until a date. Its rights are child rows so that the rights of
a user for a relying site are found by index, never by parsing a list.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import db


class Delegation(db.Model):
    """Rights of one firm given by an expert (the grantor) to a collaborator (the grantee).

    The grantee is an account, or only an email while that address has no
    confirmed account (state ``pending_account``). ``state`` is the stored
    state; ``expired`` is never stored but derived from ``ends_at``
    (``idp.delegations.states.effective_state``), so expiry is exact to the
    second without any background job.
    """

    __tablename__ = "delegations"
    __table_args__ = (
        # What a user holds, for tokens and "mes délégations reçues".
        Index("ix_delegations_grantee", "grantee_user_id", "state", "ends_at"),
        # What an expert gave, per firm ("Consulter/Modifier").
        Index("ix_delegations_firm_grantor", "firm_id", "grantor_id"),
        # What an expert gave or is asked, whatever the firm ("en attente").
        Index("ix_delegations_grantor_state", "grantor_id", "state"),
        # Invitations waiting for an account with this address.
        Index("ix_delegations_grantee_email", "grantee_email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), nullable=False)
    grantor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    grantee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Lower-cased; kept when the account exists too, to show whom it was meant for.
    grantee_email: Mapped[str] = mapped_column(String(254), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # A request's message from the collaborator, and the expert's reason for a refusal.
    message: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # The expiry a reminder was sent for: extending it makes a new reminder due.
    reminded_for: Mapped[datetime | None] = mapped_column(DateTime)
    # Optimistic lock: every UPDATE checks it, so two concurrent changes of
    # one delegation (two approvals of one request) cannot both apply.
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    firm = relationship("Firm", lazy="joined", innerjoin=True)
    grantor = relationship("User", foreign_keys=[grantor_id], lazy="joined", innerjoin=True)
    grantee = relationship("User", foreign_keys=[grantee_user_id], lazy="joined")
    right_rows = relationship(
        "DelegationRight", lazy="selectin", cascade="all, delete-orphan", order_by="DelegationRight.right_id",
        back_populates="delegation",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def rights(self) -> list[str]:
        """The right ids (``site:right``), sorted."""
        return sorted(row.right_id for row in self.right_rows)


class DelegationRight(db.Model):
    """One right (a catalogue id) of a delegation."""

    __tablename__ = "delegation_rights"

    delegation_id: Mapped[int] = mapped_column(
        ForeignKey("delegations.id", ondelete="CASCADE"), primary_key=True
    )
    right_id: Mapped[str] = mapped_column(String(64), primary_key=True)

    delegation = relationship("Delegation", back_populates="right_rows")


class AuditEntry(db.Model):
    """One change, append-only, chained to the previous entry by its hash.

    ``hash`` is SHA-256 over the canonical JSON of every other column
    (``idp.delegations.audit.canonical``), ``prev_hash`` included, so that
    editing or deleting an entry breaks the chain at that point. Actors and
    subjects are plain values, not foreign keys: the trail outlives accounts.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_subject", "subject_type", "subject_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)  # identifiant, or "system"
    acting_as: Mapped[str] = mapped_column(String(16), nullable=False)  # expert, collaborator, system, admin
    via: Mapped[str] = mapped_column(String(100), nullable=False)  # web, api:<client_id>, cli, email_confirmation
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    firm_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[str | None] = mapped_column(Text)  # canonical JSON, or null on creation
    after: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)


class AuditHead(db.Model):
    """The end of the chain: one row, locked by every append.

    It serialises appends (two transactions cannot both extend the same
    entry) and lets ``idp audit verify`` notice that the last entries were
    deleted.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class Message(db.Model):
    """A notification in Ma messagerie.

    Stored as a kind and its parameters, and worded when shown, in the
    reader's language. A message to an address that has no account yet
    waits under that email and joins the account when the email is
    confirmed.
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_user", "user_id", "created_at"),
        Index("ix_messages_email", "email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id", ondelete="SET NULL"))
    params: Mapped[str] = mapped_column(Text, default="{}", nullable=False)  # JSON
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    mailed: Mapped[bool] = mapped_column(default=False, nullable=False)
