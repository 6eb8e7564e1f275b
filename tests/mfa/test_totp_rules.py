"""TOTP and recovery-code rules, without a server: steps, replay, formats, encryption."""
from __future__ import annotations

import base64
import os
from datetime import datetime, timezone

import pyotp
import pytest

from idp.mfa import recovery, totp
from idp.mfa.crypto import decrypt_bytes, encrypt_bytes
from keys.crypto import KeyEncryptionError

NOW = datetime(2026, 3, 2, 9, 0, 10)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _code(step: int) -> str:
    return pyotp.TOTP(SECRET).generate_otp(step)


def test_the_current_step_and_one_either_side_are_accepted():
    step = totp.current_step(NOW)
    for candidate in (step - 1, step, step + 1):
        assert totp.matching_step(SECRET, _code(candidate), NOW, None) == candidate
    for candidate in (step - 2, step + 2):
        assert totp.matching_step(SECRET, _code(candidate), NOW, None) is None


def test_a_step_at_or_before_the_last_accepted_one_is_refused():
    step = totp.current_step(NOW)
    assert totp.matching_step(SECRET, _code(step), NOW, last_step=step) is None
    assert totp.matching_step(SECRET, _code(step - 1), NOW, last_step=step) is None
    assert totp.matching_step(SECRET, _code(step + 1), NOW, last_step=step) == step + 1


def test_codes_may_be_typed_with_spaces_but_are_six_digits():
    code = _code(totp.current_step(NOW))
    assert totp.matching_step(SECRET, f"{code[:3]} {code[3:]}", NOW, None) is not None
    assert totp.matching_step(SECRET, code[:5], NOW, None) is None
    assert totp.matching_step(SECRET, "abcdef", NOW, None) is None


def test_the_step_is_the_rfc_6238_time_step():
    # T = floor((unix time - T0) / X), T0 = 0, X = 30 (RFC 6238 §4.2); naive times are UTC.
    assert totp.current_step(datetime(1970, 1, 1, 0, 0, 29)) == 0
    assert totp.current_step(datetime(1970, 1, 1, 0, 0, 59)) == 1
    assert totp.current_step(NOW) == pyotp.TOTP(SECRET).timecode(NOW.replace(tzinfo=timezone.utc))


def test_recovery_codes_are_typed_loosely_and_stored_as_one_digest():
    code = recovery.new_code()
    assert recovery.looks_like_recovery_code(code.lower().replace("-", " "))
    assert recovery.code_hash(code) == recovery.code_hash(code.lower().replace("-", ""))
    assert not recovery.looks_like_recovery_code("123456")


def test_a_secret_encrypted_for_one_account_does_not_open_for_another():
    kek = base64.urlsafe_b64encode(os.urandom(32)).decode()
    blob = encrypt_bytes(SECRET.encode(), kek, "totp:1")
    assert SECRET.encode() not in blob
    assert decrypt_bytes(blob, kek, "totp:1") == SECRET.encode()
    with pytest.raises(KeyEncryptionError):
        decrypt_bytes(blob, kek, "totp:2")
    with pytest.raises(KeyEncryptionError):
        decrypt_bytes(blob, base64.urlsafe_b64encode(os.urandom(32)).decode(), "totp:1")
