"""Bearer token usage (RFC 6750), framework-free: reading the
``Authorization`` header and writing the ``WWW-Authenticate`` challenge.

The Flask decorators use these; another framework can too.
"""

from __future__ import annotations

import re

from .errors import InsufficientScope, InsufficientUserAuthentication, InvalidRequest, TokenError

__all__ = ["bearer_token", "www_authenticate"]

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def bearer_token(authorization: str | None) -> str | None:
    """Extract the token from an ``Authorization`` header value.

    Returns None when there are no Bearer credentials at all (no header, or
    another scheme such as Basic): RFC 6750 §3.1 then wants a bare challenge
    without an error code. Raises :class:`InvalidRequest` when the Bearer
    credentials are malformed.

    Only the header is read: tokens in query strings (RFC 6750 §2.3) end up
    in logs and browser history, and form-encoded tokens (§2.2) mix
    credentials with content; neither is accepted.
    """
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    # Auth schemes are case-insensitive (RFC 9110 §11.1).
    if scheme.lower() != "bearer":
        return None
    credentials = credentials.strip()
    if not _B64TOKEN.fullmatch(credentials):
        raise InvalidRequest()
    return credentials


def _quote(value: str) -> str:
    # quoted-string (RFC 9110 §5.6.4). Our own descriptions never contain
    # quotes or backslashes; a configured realm might.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def www_authenticate(realm: str | None, exc: TokenError | None = None) -> str:
    """The ``WWW-Authenticate`` value for a 401/403 answer.

    Without ``exc`` (no credentials were presented) only the realm is given,
    per RFC 6750 §3.1. With it: ``error`` and ``error_description``, plus
    ``scope`` for insufficient_scope and ``acr_values`` / ``max_age`` for
    insufficient_user_authentication (RFC 9470 §3).
    """
    params: list[tuple[str, str]] = []
    if realm:
        params.append(("realm", realm))
    if exc is not None:
        params.append(("error", exc.error))
        params.append(("error_description", exc.description))
        if isinstance(exc, InsufficientScope) and exc.scope:
            params.append(("scope", " ".join(exc.scope)))
        if isinstance(exc, InsufficientUserAuthentication):
            if exc.acr_values:
                params.append(("acr_values", exc.acr_values))
            if exc.max_age is not None:
                params.append(("max_age", str(exc.max_age)))
    if not params:
        return "Bearer"
    return "Bearer " + ", ".join(f"{name}={_quote(value)}" for name, value in params)
