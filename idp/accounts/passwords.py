"""Password hashing with argon2id (argon2-cffi)."""
from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# One hash at a time per process: argon2id needs 19 MiB each, and a worker
# serving several threads would otherwise hold (and glibc keep) one buffer
# per concurrent login. Hashing is CPU-bound, so running them one after the
# other costs no throughput on a worker, and memory stays one buffer.
_HASHING = threading.Semaphore(1)

# Verified against when the account does not exist, so that a wrong login
# costs the same time whether the identifier is known or not.
_DUMMY_HASH = HASHER.hash("comptexpert-timing-equaliser")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` with the current parameters."""
    with _HASHING:
        return HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Check ``password``; return ``(ok, new_hash)``.

    ``new_hash`` is set when the stored hash used older parameters: the
    caller stores it, so hashes follow the parameters without a reset.
    With no stored hash, a dummy one is checked to keep timing uniform.
    """
    try:
        with _HASHING:
            HASHER.verify(stored_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored_hash is None:
        return False, None
    if HASHER.check_needs_rehash(stored_hash):
        return True, hash_password(password)
    return True, None
