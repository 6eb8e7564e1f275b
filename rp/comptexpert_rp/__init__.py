"""comptexpert_rp: what a relying site needs to trust Comptexpert.

- :class:`JWKSCache`: the provider's signing keys, cached by ``kid``;
- :class:`AccessTokenVerifier` → :class:`AccessToken`: RFC 9068 access
  tokens and the firm rights they carry (``has_right``, ``rights``,
  ``firms``, ``acr_satisfies``);
- :class:`EventReceiver`: pushed security events and back-channel logout;
- :mod:`comptexpert_rp.flask`: ``require_token`` / ``require_right``
  decorators (needs the ``flask`` extra);
- :mod:`comptexpert_rp.errors`: the error tree.
"""

from .access_token import ACR_LEVELS, AccessToken, AccessTokenVerifier
from .errors import (
    EventError,
    InsufficientScope,
    InsufficientUserAuthentication,
    InvalidRequest,
    KeySetUnavailable,
    RPError,
    TokenError,
    UnknownKeyError,
)
from .events import EventReceiver, EventResponse, MemoryReplayCache, SecurityEvent
from .jwks import JWKSCache
from .rights import Grant

__all__ = [
    "ACR_LEVELS",
    "AccessToken",
    "AccessTokenVerifier",
    "EventError",
    "EventReceiver",
    "EventResponse",
    "Grant",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "InvalidRequest",
    "JWKSCache",
    "KeySetUnavailable",
    "MemoryReplayCache",
    "RPError",
    "SecurityEvent",
    "TokenError",
    "UnknownKeyError",
]
