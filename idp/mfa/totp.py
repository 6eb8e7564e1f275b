"""TOTP (RFC 6238) for authenticator apps: secrets, provisioning URI, QR code, checks.

Plain functions over pyotp and segno; the account state (encrypted secret,
last accepted step) is handled by ``idp.mfa.services``.
"""
from __future__ import annotations

import hmac
import re
from datetime import datetime, timezone

import pyotp
import segno

ISSUER = "Comptexpert"
DIGITS = 6
PERIOD = 30
# Steps accepted either side of the current one: RFC 6238 §5.2 recommends at
# most one step of network delay; it also absorbs a phone clock a little off.
WINDOW = 1

_CODE_RE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    """A fresh 160-bit secret, base32 (RFC 4226 §4 recommends 160 bits)."""
    return pyotp.random_base32(32)


def grouped(secret: str) -> str:
    """The secret in groups of four, as people type it into their app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, identifiant: str) -> str:
    """The ``otpauth://`` URI that authenticator apps read from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(name=identifiant, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG ``data:`` URI (the CSP allows ``img-src data:``)."""
    return segno.make(uri, error="m", micro=False).svg_data_uri(scale=5, border=4, dark="#1a1a2e")


def normalise_code(code: str) -> str:
    """Codes are typed with spaces sometimes (``123 456``); keep the digits."""
    return re.sub(r"[\s-]", "", code or "")


def looks_like_totp(code: str) -> bool:
    return bool(_CODE_RE.match(normalise_code(code)))


def current_step(now: datetime) -> int:
    """The RFC 6238 time step ``T`` of a naive UTC moment."""
    return int(now.replace(tzinfo=timezone.utc).timestamp()) // PERIOD


def matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, if it is valid now and newer than ``last_step``.

    A code is accepted once: a step at or before the last accepted one is
    refused (RFC 6238 §5.2), which stops replay of an observed code.
    """
    code = normalise_code(code)
    if not _CODE_RE.match(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    step = current_step(now)
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None
