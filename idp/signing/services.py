"""Loading the key ring (cached per node), rotating keys, first keys at init."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from keys import SUPPORTED_ALGORITHMS, KeyRecord, KeyRing, plan_rotation

from ..db import utcnow
from ..extensions import db
from .models import SigningKey

_lock = threading.Lock()
_cache: dict[str, tuple[float, KeyRing]] = {}


def _to_record(row: SigningKey) -> KeyRecord:
    return KeyRecord(
        kid=row.kid,
        alg=row.alg,
        state=row.state,
        encrypted_private_key=row.encrypted_private_key,
        public_jwk=row.public_jwk,
        created_at=row.created_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
    )


def retention() -> timedelta:
    """How long a retired key stays published: the longest token lifetime."""
    config = current_app.config
    return timedelta(seconds=max(config["IDP_ACCESS_TOKEN_TTL"], config["IDP_ID_TOKEN_TTL"]) + 300)


def load_ring(force: bool = False) -> KeyRing:
    """The current key ring, read from the database at most every ``IDP_KEYS_CACHE_SECONDS``.

    That interval bounds how late a rotation made on another node is seen
    here; it never makes a node sign with an unpublished key, because a key
    is published (as ``next``) one whole rotation before it signs.
    """
    app = current_app._get_current_object()
    key = f"{id(app)}:{app.config['SQLALCHEMY_DATABASE_URI']}"
    ttl = app.config["IDP_KEYS_CACHE_SECONDS"]
    now = time.monotonic()
    cached = _cache.get(key)
    if cached and not force and now - cached[0] < ttl:
        return cached[1]
    with _lock:
        cached = _cache.get(key)
        if cached and not force and time.monotonic() - cached[0] < ttl:
            return cached[1]
        rows = db.session.scalars(select(SigningKey)).all()
        # Keys seldom change: reuse the opened private keys of the previous
        # ring rather than decrypt and import them again at every expiry.
        ring = KeyRing([_to_record(r) for r in rows], app.config["IDP_KEY_ENCRYPTION_KEY"], utcnow(), retention(),
                       opened=cached[1].opened if cached else None)
        _cache[key] = (time.monotonic(), ring)
        return ring


def _apply(changed: list[KeyRecord], created: list[KeyRecord]) -> None:
    for record in changed:
        row = db.session.get(SigningKey, record.kid)
        row.state, row.activated_at, row.retired_at = record.state, record.activated_at, record.retired_at
    for record in created:
        db.session.add(SigningKey(**record.__dict__))


def rotate(algorithms=SUPPORTED_ALGORITHMS, now: datetime | None = None) -> None:
    """Rotate the keys of ``algorithms`` (next → current → retired, new next). Commits."""
    now = now or utcnow()
    kek = current_app.config["IDP_KEY_ENCRYPTION_KEY"]
    for alg in algorithms:
        rows = db.session.scalars(select(SigningKey).where(SigningKey.alg == alg).with_for_update()).all()
        changed, created = plan_rotation([_to_record(r) for r in rows], alg, kek, now)
        _apply(changed, created)
    db.session.commit()
    load_ring(force=True)


def ensure_keys(now: datetime | None = None) -> bool:
    """Create the first keys of every algorithm that has none; ``True`` if any were made."""
    present = set(db.session.scalars(select(SigningKey.alg).where(SigningKey.state == "current")))
    missing = [alg for alg in SUPPORTED_ALGORITHMS if alg not in present]
    if missing:
        rotate(missing, now)
    return bool(missing)


def prune(now: datetime | None = None) -> int:
    """Delete retired keys past retention; return how many. Commits."""
    now = now or utcnow()
    limit = now - retention()
    rows = db.session.scalars(
        select(SigningKey).where(SigningKey.state == "retired", SigningKey.retired_at < limit)
    ).all()
    for row in rows:
        db.session.delete(row)
    db.session.commit()
    return len(rows)
