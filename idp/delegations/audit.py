"""The audit trail: append-only entries chained by SHA-256.

Each entry records who acted, in which role and through what (``via``),
when, on what, and the subject before and after. Its ``hash`` is SHA-256
over the canonical JSON of all its other fields, ``prev_hash`` (the hash of
the entry before it) included. Editing an entry changes its hash; deleting
one leaves a gap in ``seq`` and a ``prev_hash`` that matches nothing; and
the head row remembers the last entry, so deleting the newest ones shows
too. ``verify()`` walks the chain and names the first broken entry.

Appending locks the head row (an UPDATE first, then the read), which
serialises concurrent appends on PostgreSQL and SQLite alike: two
transactions can never both extend the same entry.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..db import utcnow
from ..extensions import db
from .models import AuditEntry, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1


@dataclass(frozen=True)
class Actor:
    """Who acts and how: the user (None for the system), his role, and the channel."""

    user_id: int | None
    name: str          # identifiant, or "system"
    acting_as: str     # expert, collaborator, system, admin
    via: str           # web, api:<client_id>, cli, email_confirmation

    @classmethod
    def system(cls, via: str) -> "Actor":
        return cls(None, "system", "system", via)


def canonical(value) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept; datetimes as ISO 8601."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_iso)


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def entry_hash(fields: dict) -> str:
    """SHA-256 of the canonical JSON of an entry's fields (every column but ``hash``)."""
    return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()


def _fields(entry: AuditEntry) -> dict:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "acting_as": entry.acting_as,
        "via": entry.via,
        "action": entry.action,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "firm_id": entry.firm_id,
        "before": entry.before,
        "after": entry.after,
        "prev_hash": entry.prev_hash,
    }


def _lock_head() -> AuditHead:
    """Lock the head row for this transaction (creating it on a fresh database) and return it."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(AuditHead).values(id=HEAD_ID, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"])
    )
    # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite)
    # before we read: whoever comes second waits and then reads our result.
    db.session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq))
    return db.session.execute(
        select(AuditHead).where(AuditHead.id == HEAD_ID).execution_options(populate_existing=True)
    ).scalar_one()


def record(actor: Actor, action: str, *, subject_type: str, subject_id: int, firm_id: int | None,
           before: dict | None, after: dict | None, at: datetime | None = None) -> AuditEntry:
    """Append one entry; the caller's transaction commits it with the change it describes."""
    return record_many(actor, action, [(subject_type, subject_id, firm_id, before, after)], at=at)[0]


def record_many(actor: Actor, action: str, subjects: list[tuple[str, int, int | None, dict | None, dict | None]],
                at: datetime | None = None) -> list[AuditEntry]:
    """Append one entry per ``(subject_type, subject_id, firm_id, before, after)``, in order, under one lock."""
    if not subjects:
        return []
    db.session.flush()
    head = _lock_head()
    at = at or utcnow()
    seq, prev = head.seq, head.hash
    entries = []
    for subject_type, subject_id, firm_id, before, after in subjects:
        seq += 1
        entry = AuditEntry(
            seq=seq, at=at, actor_id=actor.user_id, actor=actor.name, acting_as=actor.acting_as, via=actor.via,
            action=action, subject_type=subject_type, subject_id=subject_id, firm_id=firm_id,
            before=canonical(before) if before is not None else None,
            after=canonical(after) if after is not None else None,
            prev_hash=prev,
        )
        entry.hash = entry_hash(_fields(entry))
        prev = entry.hash
        entries.append(entry)
    db.session.add_all(entries)
    head.seq, head.hash = seq, prev
    db.session.flush()
    return entries


def history(subject_type: str, subject_id: int) -> list[AuditEntry]:
    """The entries about one subject, oldest first (by index)."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.seq)
    ))


def decoded(value: str | None):
    """A ``before``/``after`` column as data."""
    return json.loads(value) if value else None


@dataclass(frozen=True)
class Break:
    """Where the chain is broken and why."""

    seq: int
    problem: str


def _walk(batch: int = 1000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(db.session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ))
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        for row in rows:  # keep memory flat on a long trail
            db.session.expunge(row)


def verify() -> tuple[int, Break | None]:
    """Walk the whole chain; return how many entries were checked and the first break, if any."""
    expected_seq, prev, count = 1, GENESIS, 0
    for entry in _walk():
        if entry.seq != expected_seq:
            return count, Break(expected_seq, f"entry {expected_seq} is missing (deleted)")
        if entry.prev_hash != prev:
            return count, Break(entry.seq, f"entry {entry.seq} does not follow the entry before it")
        if entry_hash(_fields(entry)) != entry.hash:
            return count, Break(entry.seq, f"entry {entry.seq} was altered (its hash does not match)")
        prev, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    head = db.session.get(AuditHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if (head_seq, head_hash) != (count, prev):
        if head_seq > count:
            return count, Break(count + 1, f"entries {count + 1} to {head_seq} are missing (deleted)")
        return count, Break(count, "the head of the chain does not match the last entry")
    return count, None
