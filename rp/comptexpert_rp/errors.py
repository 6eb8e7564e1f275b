"""Errors raised by comptexpert_rp.

The whole tree::

    RPError
     ├── TokenError                          invalid_token, 401        (RFC 6750 §3.1)
     │    ├── UnknownKeyError                 no key with the token's `kid`
     │    ├── InvalidRequest                  invalid_request, 400      (RFC 6750 §3.1)
     │    ├── InsufficientScope               insufficient_scope, 403   (RFC 6750 §3.1)
     │    └── InsufficientUserAuthentication  insufficient_user_authentication, 401
     │                                                                  (RFC 9470 §3)
     ├── KeySetUnavailable                    the provider's JWKS could not be fetched;
     │                                        our problem, not the caller's (503)
     └── EventError                           a pushed event was refused (RFC 8935 §2.3,
                                              OIDC Back-Channel Logout §2.8), 400

Every error carries a public ``description`` taken from a fixed table, safe to
send to the caller, and an optional ``detail`` for logs only (PyJWT's own
message, a claim name, a kid...). Lower-layer exceptions are translated at one
boundary with ``raise ... from exc`` so the cause stays in tracebacks.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "RPError",
    "TokenError",
    "UnknownKeyError",
    "InvalidRequest",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "KeySetUnavailable",
    "EventError",
    "TOKEN_ERROR_DESCRIPTIONS",
]

#: Public descriptions of why a token was refused, by internal reason. These
#: are what a caller sees in ``error_description``; they name the failed check
#: but never echo token content or library messages. They must stay within
#: the characters RFC 6750 §3 allows in a quoted value (no ``"`` nor ``\``).
TOKEN_ERROR_DESCRIPTIONS: dict[str, str] = {
    "malformed": "The token is malformed",
    "algorithm": "The token is signed with an algorithm that is not accepted",
    "typ": "The token is not of the expected type",
    "unknown_key": "The token is signed with an unknown key",
    "key": "The token is signed with an unacceptable key",
    "signature": "The token signature is invalid",
    "expired": "The token expired",
    "not_yet_valid": "The token is not yet valid",
    "too_old": "The token was issued too long ago",
    "issuer": "The token was not issued by the expected issuer",
    "audience": "The token is not intended for this audience",
    "missing_claim": "The token lacks a required claim",
    "claims": "The token has an invalid claim",
}


class RPError(Exception):
    """Base class of every error raised by comptexpert_rp."""

    #: HTTP status a server should answer with.
    status_code: int = 500

    def __init__(self, description: str, detail: str | None = None) -> None:
        super().__init__(description if detail is None else f"{description} ({detail})")
        self.description = description
        # Internal detail: log it, never send it.
        self.detail = detail


class TokenError(RPError):
    """The token cannot be trusted: ``invalid_token`` (RFC 6750 §3.1).

    ``reason`` is one of the keys of :data:`TOKEN_ERROR_DESCRIPTIONS`; it lets
    callers (and the event receiver) tell failed checks apart without parsing
    messages.
    """

    error = "invalid_token"
    status_code = 401

    def __init__(self, reason: str = "malformed", detail: str | None = None) -> None:
        super().__init__(TOKEN_ERROR_DESCRIPTIONS[reason], detail)
        self.reason = reason


class UnknownKeyError(TokenError):
    """No key in the provider's JWKS has the token's ``kid``.

    Raised both when a refetch did not find it and when a refetch was
    throttled (see :class:`comptexpert_rp.jwks.JWKSCache`).
    """

    def __init__(self, detail: str | None = None) -> None:
        super().__init__("unknown_key", detail)


class InvalidRequest(TokenError):
    """The request carries a malformed ``Authorization: Bearer`` header:
    ``invalid_request``, 400 (RFC 6750 §3.1)."""

    error = "invalid_request"
    status_code = 400

    def __init__(self, description: str = "The Authorization header is malformed") -> None:
        RPError.__init__(self, description)
        self.reason = "invalid_request"


class InsufficientScope(TokenError):
    """The token is valid but does not carry the scope or right the request
    needs: ``insufficient_scope``, 403 (RFC 6750 §3.1)."""

    error = "insufficient_scope"
    status_code = 403

    def __init__(
        self,
        description: str = "The access token does not grant this action",
        scope: Iterable[str] | None = None,
        detail: str | None = None,
    ) -> None:
        RPError.__init__(self, description, detail)
        self.reason = "insufficient_scope"
        #: Scopes to mention in the challenge's ``scope`` attribute, if any.
        self.scope = tuple(scope) if scope else ()


class InsufficientUserAuthentication(TokenError):
    """The person must authenticate again, more strongly or more recently:
    ``insufficient_user_authentication``, 401 (RFC 9470 §3).

    ``acr_values`` (space-separated, in order of preference) and ``max_age``
    (seconds) are sent back in the challenge so the client can ask the
    provider for exactly that.
    """

    error = "insufficient_user_authentication"
    status_code = 401

    def __init__(
        self,
        description: str = "A stronger or more recent authentication is required",
        acr_values: str | None = None,
        max_age: int | None = None,
        detail: str | None = None,
    ) -> None:
        RPError.__init__(self, description, detail)
        self.reason = "insufficient_user_authentication"
        self.acr_values = acr_values
        self.max_age = max_age


class KeySetUnavailable(RPError):
    """The provider's JWKS could not be fetched or parsed.

    Not a :class:`TokenError`: the token may well be valid, so answering
    ``invalid_token`` would make clients throw good tokens away. Servers
    answer 503 instead.
    """

    status_code = 503

    def __init__(self, detail: str | None = None) -> None:
        super().__init__("The identity provider's keys are unavailable", detail)


class EventError(RPError):
    """A pushed Security Event Token or logout token was refused.

    ``err`` is an RFC 8935 §2.4 error code (``invalid_request``,
    ``invalid_key``, ``invalid_issuer``, ``invalid_audience``...); logout
    tokens are answered with ``invalid_request`` in OAuth style as OIDC
    Back-Channel Logout §2.8 suggests.
    """

    status_code = 400

    def __init__(self, err: str, description: str, detail: str | None = None) -> None:
        super().__init__(description, detail)
        self.err = err
