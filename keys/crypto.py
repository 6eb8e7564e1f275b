"""Key generation and encryption of private keys at rest (AES-256-GCM)."""
from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Version byte in front of every ciphertext, so the scheme can change later
# without guessing what an old blob is.
_FORMAT_V1 = b"\x01"


class KeyEncryptionError(Exception):
    """The key-encryption key is malformed or does not open a stored key."""


def _kek_bytes(kek: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(kek.strip() + "=" * (-len(kek.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise KeyEncryptionError("the key-encryption key is not base64") from exc
    if len(raw) != 32:
        raise KeyEncryptionError("the key-encryption key must be 32 bytes (base64-encoded)")
    return raw


def generate_private_key(alg: str):
    """A fresh private key for ``alg`` (ES256: P-256; RS256: RSA 2048)."""
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def encrypt_private_key(private_key, kek: str, kid: str) -> bytes:
    """Serialise ``private_key`` and encrypt it; ``kid`` is bound as associated data.

    Binding the kid means a ciphertext copied onto another key row does not
    decrypt, so rows cannot be swapped in the database unnoticed.
    """
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(12)
    return _FORMAT_V1 + nonce + AESGCM(_kek_bytes(kek)).encrypt(nonce, der, kid.encode())


def decrypt_private_key(blob: bytes, kek: str, kid: str):
    """Inverse of :func:`encrypt_private_key`."""
    if not blob or blob[:1] != _FORMAT_V1:
        raise KeyEncryptionError(f"key {kid}: unknown ciphertext format")
    nonce, ciphertext = blob[1:13], blob[13:]
    try:
        der = AESGCM(_kek_bytes(kek)).decrypt(nonce, ciphertext, kid.encode())
    except InvalidTag as exc:
        raise KeyEncryptionError(f"key {kid}: the key-encryption key does not open it") from exc
    return serialization.load_der_private_key(der, password=None)
