"""Signing keys of the provider: generation, encryption at rest, lifecycle.

Plain Python on top of ``cryptography`` and ``joserfc``; it knows nothing of
Flask or of the database. The provider stores :class:`KeyRecord` rows and
asks this package what to publish and what to sign with.

Lifecycle (no downtime)::

    next  --rotate-->  current  --rotate-->  retired  --(retention)-->  gone
    published          published, signs      published                  dropped

A key is published while it is ``next`` so that relying sites have it before
the first token it signs reaches them.
"""
from .crypto import KeyEncryptionError, decrypt_private_key, encrypt_private_key, generate_private_key
from .lifecycle import (
    CURRENT,
    NEXT,
    RETIRED,
    SUPPORTED_ALGORITHMS,
    KeyRecord,
    KeyRing,
    new_key,
    plan_rotation,
    published_records,
)

__all__ = [
    "CURRENT",
    "NEXT",
    "RETIRED",
    "SUPPORTED_ALGORITHMS",
    "KeyEncryptionError",
    "KeyRecord",
    "KeyRing",
    "decrypt_private_key",
    "encrypt_private_key",
    "generate_private_key",
    "new_key",
    "plan_rotation",
    "published_records",
]
