"""Recovery codes: single-use codes for when the authenticator app is lost.

Each code carries 80 random bits, so a SHA-256 digest (``idp.db.digest``) is
enough to store it: it cannot be brute-forced back from a database leak,
and checking one costs nothing.
"""
from __future__ import annotations

import secrets

from ..db import digest

COUNT = 10
# Crockford-like alphabet: no 0/O, 1/I/L confusion when read from paper.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS = 4
GROUP_LENGTH = 4


def new_code() -> str:
    """A code such as ``K7QD-2MXA-PW9T-HCN4`` (4 × 4 characters, about 79 bits)."""
    return "-".join(
        "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS)
    )


def normalise(code: str) -> str:
    """Upper-case, without spaces or dashes: what people type varies, the code does not."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def looks_like_recovery_code(code: str) -> bool:
    cleaned = normalise(code)
    return len(cleaned) == GROUPS * GROUP_LENGTH and all(ch in ALPHABET for ch in cleaned)


def code_hash(code: str) -> str:
    """The stored form of a recovery code."""
    return digest(normalise(code))
