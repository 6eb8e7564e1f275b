"""The redaction applied to every log line, whatever logger wrote it and however it spelled the secret."""
from __future__ import annotations

import json
import logging

import pytest

from idp.observability.logging import REDACTED, JsonFormatter, redact, redact_query

JWT = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJwdWIwOUhQOSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
RANDOM = "Zx9_aB3kLmN0pQrStUvWxYz12345678abcDEF-gh"


@pytest.mark.parametrize("text, secret", [
    ('{"password": "correct horse battery staple"}', "correct horse battery staple"),
    ("{'client_secret': 'un secret à espaces'}", "un secret à espaces"),
    ("grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=x", "SplxlOBeZQQYbYS6WxSbIA"),
    ("code_verifier=dBjftJeZ4CVP&state=af0ifjsldkj", "dBjftJeZ4CVP"),
    ("refresh_token: tGzv3JOkF0XG5Qx2TlKWIA", "tGzv3JOkF0XG5Qx2TlKWIA"),
    ("Authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW", "czZCaGRSa3F0MzpnWDFmQmF0M2JW"),
    ("headers={'Authorization': 'Bearer abc.def'}", "abc.def"),
    ("sent Bearer mF_9.B5f-4.1JqM to the API", "mF_9.B5f-4.1JqM"),
    ("Cookie: idp_session=abcdef; idp_ui=ghijkl", "idp_session=abcdef"),
    ("Set-Cookie: idp_session=abcdef; Path=/; HttpOnly", "abcdef"),
    (f"id_token_hint={JWT}", JWT),
    (f"a JWT alone {JWT} in a sentence", JWT.split(".")[1]),
    (f"GET /compte/confirmer/{RANDOM} HTTP/1.1", RANDOM),
    ("client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln", "eyJpc3MiOiJ4In0"),
    ('{"totp_code": "492039"}', "492039"),
    ('{"recovery_code": "ABCD-EFGH"}', "ABCD-EFGH"),
    ("subject_token=abc123&actor_token=def456", "def456"),
])
def test_secrets_are_redacted_whatever_the_syntax(text, secret):
    redacted = redact(text)
    assert secret not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize("text", [
    "response_type=code&scope=openid profile&state=af0ifjsldkj&code_challenge_method=S256",
    "request 1b4e28ba2fa111d2883f0016d3cca427 took 12 ms",
    "row " + "a" * 64 + " updated",  # a SHA-256 digest, as stored: not a secret
    "error=invalid_grant error_description='Invalid code'",
])
def test_what_is_not_secret_is_kept(text):
    assert redact(text) == text


def test_a_query_string_keeps_its_public_parameters():
    assert redact_query("code=abc&state=xyz&client_secret=s3&scope=openid+profile") == (
        f"code={REDACTED}&state=xyz&client_secret={REDACTED}&scope=openid+profile")


def test_the_json_formatter_redacts_message_extra_fields_and_tracebacks():
    try:
        raise ValueError("bad password=hunter2x")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "login %s", ("code=abc123",), None)
        import sys

        record.exc_info = sys.exc_info()
    record.form = {"password": "hunter3y", "login": "pub09HP9"}
    record.refresh_token = "tGzv3JOkF0XG5Qx2TlKWIA"
    line = JsonFormatter().format(record)

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == f"login code={REDACTED}"
    assert entry["refresh_token"] == REDACTED
    assert "hunter3y" not in entry["form"] and "pub09HP9" in entry["form"]
    assert "hunter2x" not in entry["exception"] and "ValueError" in entry["exception"]
