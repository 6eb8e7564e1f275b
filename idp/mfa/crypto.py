"""Encryption at rest of small secrets with the key-encryption key (AES-256-GCM).

The same scheme as ``keys.crypto`` uses for private signing keys: a version
byte, a random 96-bit nonce, and the GCM ciphertext with its tag. The
associated data binds a ciphertext to its row (``totp:<user id>``), so a
secret copied from one account onto another does not decrypt.
"""
from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.crypto import KeyEncryptionError

_FORMAT_V1 = b"\x01"


def _key(kek: str) -> bytes:
    text = kek.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise KeyEncryptionError("the key-encryption key is not base64") from exc
    if len(raw) != 32:
        raise KeyEncryptionError("the key-encryption key must be 32 bytes (base64-encoded)")
    return raw


def encrypt_bytes(plaintext: bytes, kek: str, associated_data: str) -> bytes:
    """Encrypt ``plaintext`` with the KEK, bound to ``associated_data``."""
    nonce = os.urandom(12)
    return _FORMAT_V1 + nonce + AESGCM(_key(kek)).encrypt(nonce, plaintext, associated_data.encode())


def decrypt_bytes(blob: bytes, kek: str, associated_data: str) -> bytes:
    """Inverse of :func:`encrypt_bytes`; ``KeyEncryptionError`` if it does not open."""
    if not blob or blob[:1] != _FORMAT_V1:
        raise KeyEncryptionError(f"{associated_data}: unknown ciphertext format")
    try:
        return AESGCM(_key(kek)).decrypt(blob[1:13], blob[13:], associated_data.encode())
    except InvalidTag as exc:
        raise KeyEncryptionError(f"{associated_data}: the key-encryption key does not open it") from exc
