"""Structured logs: one JSON object per line, with the request id, secrets redacted.

Everything goes through the standard ``logging`` module (ours, Flask's,
Werkzeug's, Authlib's, Flask-Limiter's, gunicorn's): one handler on the
root logger formats each record as JSON. Redaction happens in the
formatter, on the final text of every field, so no logger anywhere can
bypass it:

- values of sensitive names, whatever the syntax (``password=...``,
  ``"code": "..."``, ``'refresh_token': '...'``, ``Authorization: Bearer ...``,
  ``Cookie: ...``);
- anything shaped like a JWT;
- anything shaped like one of our random secrets (32+ URL-safe characters
  mixing upper case, lower case and digits: codes, refresh tokens, session
  cookies, e-mailed links), even where no name tells what it is.

A password has no shape, which is why the provider never logs form data:
the names above are the safety net, not the plan.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"

# Parameter, field and header names whose values are never logged. A name
# matches when it contains one of these words (``client_secret``,
# ``id_token_hint``, ``csrf_token``, ``password_hash``...) or is exactly
# ``code`` (the authorization code; ``code_challenge`` is public).
SENSITIVE_WORDS = (
    "password", "passwd", "secret", "token", "assertion", "verifier", "cookie", "authorization",
    "otp", "recovery", "credential", "private", "session_key", "api_key", "apikey",
)
SENSITIVE_EXACT = frozenset({"code", "key", "pin"})


def is_sensitive_name(name: str) -> bool:
    """Whether a parameter, field or header called ``name`` holds a secret."""
    lowered = name.lower().replace("-", "_")
    return lowered in SENSITIVE_EXACT or any(word in lowered for word in SENSITIVE_WORDS)


_NAME = r"[A-Za-z][A-Za-z0-9_\-]*"
# name, then = or :, then the value: a quoted string whole (a password may
# hold spaces), else up to the next delimiter, after an auth scheme if any.
# (The look-behind makes a name start only where a word starts: without it
# a long run of letters would be tried from each of its characters.)
_PAIR_RE = re.compile(
    r"(?<![A-Za-z0-9_\-])(?P<name>" + _NAME + r")(?P<sep>[\"']?\s*[=:]\s*)(?![\"']?\[redacted\])"
    r"(?:(?P<dq>\"(?:[^\"\\]|\\.)*\")|(?P<sq>'(?:[^'\\]|\\.)*')"
    r"|(?P<scheme>(?:Bearer|Basic|DPoP|Digest|Negotiate)\s+)?(?P<value>[^\s&\"',;}\]\)]+))",
    re.IGNORECASE,
)
# A Cookie or Set-Cookie header carries several pairs: drop the whole value.
_COOKIE_HEADER_RE = re.compile(r"(?<![A-Za-z0-9_\-])(?P<name>(?:set-)?cookie)(?P<sep>[\"']?\s*:\s*[\"']?)(?P<value>[^\"'\n]+)",
                               re.IGNORECASE)
_BARE_AUTH_RE = re.compile(r"\b(?P<scheme>Bearer|Basic|DPoP)\s+(?P<value>[A-Za-z0-9._~+/=\-]{8,})")
_JWT_RE = re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*")
# Our secrets are ``secrets.token_urlsafe(n)`` with n >= 24 (32+ characters):
# such a string mixes cases and digits. Hex digests and request ids
# (lower case only) do not match.
_RANDOM_RE = re.compile(
    r"(?<![A-Za-z0-9_\-])(?=[A-Za-z0-9_\-]*[A-Z])(?=[A-Za-z0-9_\-]*[a-z])(?=[A-Za-z0-9_\-]*[0-9])"
    r"[A-Za-z0-9_\-]{32,}(?![A-Za-z0-9_\-])"
)


def _redact_pair(match: re.Match) -> str:
    if not is_sensitive_name(match.group("name")):
        return match.group(0)
    head = match.group("name") + match.group("sep")
    if match.group("dq") is not None:
        return head + '"' + REDACTED + '"'
    if match.group("sq") is not None:
        return head + "'" + REDACTED + "'"
    return head + (match.group("scheme") or "") + REDACTED


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[redacted]``."""
    if not text:
        return text
    text = _COOKIE_HEADER_RE.sub(lambda m: m.group("name") + m.group("sep") + REDACTED, text)
    text = _JWT_RE.sub(REDACTED, text)
    text = _PAIR_RE.sub(_redact_pair, text)
    text = _BARE_AUTH_RE.sub(lambda m: m.group("scheme") + " " + REDACTED, text)
    return _RANDOM_RE.sub(REDACTED, text)


def redact_query(query: str) -> str:
    """A query string with the values of sensitive parameters replaced (then the shapes)."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return redact(urlencode([(k, REDACTED if is_sensitive_name(k) else v) for k, v in pairs], safe="[]"))


# Attributes every LogRecord has; anything else came through ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# Fields we write ourselves and trust not to carry secrets.
_TRUSTED_FIELDS = frozenset({"ts", "level", "logger", "request_id"})


def _current_request_id() -> str | None:
    from flask import g, has_request_context

    if has_request_context():
        return g.get("request_id")
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line; every string redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(_redact_fields(entry), ensure_ascii=False, default=str)


def _redact_fields(entry: dict) -> dict:
    clean = {}
    for key, value in entry.items():
        if key in _TRUSTED_FIELDS:
            clean[key] = value
        elif is_sensitive_name(key):
            clean[key] = REDACTED
        elif isinstance(value, str):
            clean[key] = redact(value)
        elif isinstance(value, (int, float, bool)) or value is None:
            clean[key] = value
        else:
            clean[key] = redact(json.dumps(value, ensure_ascii=False, default=str))
    return clean


class TextFormatter(logging.Formatter):
    """Human-readable lines for a laptop, redacted like the JSON ones."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (test runners swap it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ assigns it; the property decides
        pass


def _ours(handler: logging.Handler) -> bool:
    return isinstance(handler.formatter, (JsonFormatter, TextFormatter))


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Send every log record to stderr through our formatter; idempotent.

    Under gunicorn, ``gunicorn.conf.py`` has already put our formatter on
    the root logger (its own loggers included): nothing is added twice.
    """
    root = logging.getLogger()
    root.setLevel(level.upper())
    # Alembic announces its plugins whenever Flask-Migrate is imported.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if any(_ours(handler) for handler in root.handlers):
        return
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)


def init_app(app) -> None:
    """Configure logging from ``IDP_LOG_LEVEL`` and ``IDP_LOG_FORMAT``."""
    configure(app.config.get("IDP_LOG_LEVEL", "INFO"), app.config.get("IDP_LOG_FORMAT", "json"))
