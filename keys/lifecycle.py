"""What to publish, what to sign with, and how to rotate without downtime."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from joserfc import jwk, jwt

from .crypto import decrypt_private_key, encrypt_private_key, generate_private_key

NEXT = "next"
CURRENT = "current"
RETIRED = "retired"
SUPPORTED_ALGORITHMS = ("ES256", "RS256")


@dataclass(frozen=True)
class KeyRecord:
    """One signing key as stored: the private half is encrypted."""

    kid: str
    alg: str
    state: str
    encrypted_private_key: bytes
    public_jwk: dict
    created_at: datetime
    activated_at: datetime | None = None
    retired_at: datetime | None = None


def _thumbprint_kid(public_jwk: dict) -> str:
    # RFC 7638 thumbprint: the kid is derived from the key itself, so two
    # nodes can never publish different keys under one kid.
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}[public_jwk["kty"]]
    canonical = json.dumps({k: public_jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _import(key, alg: str):
    return jwk.import_key(key, "EC" if alg == "ES256" else "RSA")


def new_key(alg: str, kek: str, state: str, now: datetime) -> KeyRecord:
    """Generate a key for ``alg``, encrypted with ``kek``, in ``state``."""
    private_key = generate_private_key(alg)
    public = _import(private_key.public_key(), alg).as_dict(private=False)
    kid = _thumbprint_kid(public)
    public.update({"kid": kid, "alg": alg, "use": "sig"})
    return KeyRecord(
        kid=kid,
        alg=alg,
        state=state,
        encrypted_private_key=encrypt_private_key(private_key, kek, kid),
        public_jwk=public,
        created_at=now,
        activated_at=now if state == CURRENT else None,
    )


def plan_rotation(
    records: Iterable[KeyRecord], alg: str, kek: str, now: datetime
) -> tuple[list[KeyRecord], list[KeyRecord]]:
    """Return ``(changed, created)`` records for one rotation of ``alg``.

    The published ``next`` key becomes ``current``; the old ``current`` is
    retired; a new ``next`` is created. When there is no ``next`` yet (a
    fresh install), a ``current`` is created directly: nothing was signed
    before it, so nobody can hold a token it does not verify.
    """
    mine = [r for r in records if r.alg == alg]
    changed: list[KeyRecord] = []
    created: list[KeyRecord] = []
    nexts = [r for r in mine if r.state == NEXT]
    currents = [r for r in mine if r.state == CURRENT]
    if nexts:
        promoted = sorted(nexts, key=lambda r: r.created_at)[0]
        changed.append(dataclasses.replace(promoted, state=CURRENT, activated_at=now))
        changed.extend(dataclasses.replace(r, state=RETIRED, retired_at=now) for r in currents)
    elif not currents:
        created.append(new_key(alg, kek, CURRENT, now))
    else:
        # A current key and no published successor: publish one first; it
        # will sign only at the next rotation.
        pass
    created.append(new_key(alg, kek, NEXT, now))
    return changed, created


def published_records(records: Iterable[KeyRecord], now: datetime, retention: timedelta) -> list[KeyRecord]:
    """Keys in the JWKS: next, current, and retired ones still within ``retention``.

    ``retention`` is the longest lifetime of anything a retired key signed,
    so every token it signed keeps verifying until it has expired anyway.
    """
    return [
        r
        for r in records
        if r.state in (NEXT, CURRENT) or (r.retired_at is not None and r.retired_at + retention > now)
    ]


class KeyRing:
    """A read-only snapshot of the keys, with private keys opened once.

    Building it costs a decryption per current key; signing afterwards only
    costs the signature, which is why nodes keep one in memory.
    """

    def __init__(self, records: Iterable[KeyRecord], kek: str, now: datetime, retention: timedelta,
                 opened: dict[str, tuple[bytes, object]] | None = None):
        """``opened``: the ``opened`` of a previous ring; a key whose kid and
        encrypted form are unchanged is reused instead of decrypted and
        imported again (importing an RSA key checks it, which is slow)."""
        records = list(records)
        self.records = records
        self._signers: dict[str, tuple[str, object]] = {}
        self.opened: dict[str, tuple[bytes, object]] = {}
        for record in records:
            if record.state == CURRENT:
                previous = (opened or {}).get(record.kid)
                if previous is not None and previous[0] == record.encrypted_private_key:
                    key = previous[1]
                else:
                    private = decrypt_private_key(record.encrypted_private_key, kek, record.kid)
                    key = _import(private, record.alg)
                self.opened[record.kid] = (record.encrypted_private_key, key)
                self._signers[record.alg] = (record.kid, key)
        published = published_records(records, now, retention)
        self.jwks = {"keys": [dict(r.public_jwk) for r in sorted(published, key=lambda r: (r.alg, r.created_at))]}
        self.public_keyset = jwk.KeySet.import_key_set(self.jwks)

    def algorithms(self) -> list[str]:
        """Algorithms this ring can sign with, in preference order."""
        return [alg for alg in SUPPORTED_ALGORITHMS if alg in self._signers]

    def sign(self, claims: dict, alg: str, typ: str = "JWT") -> str:
        """Sign ``claims`` as a compact JWS with the current key for ``alg``."""
        try:
            kid, key = self._signers[alg]
        except KeyError as exc:
            raise LookupError(f"no current signing key for {alg}") from exc
        header = {"alg": alg, "kid": kid, "typ": typ}
        return jwt.encode(header, claims, key, algorithms=[alg])

    def verify(self, token: str, algorithms: Iterable[str] = SUPPORTED_ALGORITHMS) -> tuple[dict, dict]:
        """Verify a token we signed; return ``(header, claims)``. Raises joserfc errors."""
        decoded = jwt.decode(token, self.public_keyset, algorithms=list(algorithms))
        return dict(decoded.header), dict(decoded.claims)
