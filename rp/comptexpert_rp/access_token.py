"""JWT access tokens (RFC 9068): verification and a typed view of the claims.

A relying site decides from the token alone whether a person may do an
action for a firm right now::

    verifier = AccessTokenVerifier(issuer, "https://jesignexpert.com", JWKSCache(jwks_uri))
    token = verifier.verify(bearer)
    token.has_right("jesignexpert:signer", firm="44523611200025")
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from . import _jose
from .errors import InsufficientScope, InsufficientUserAuthentication, TokenError
from .jwks import JWKSCache
from .rights import (
    Grant,
    grants_of,
    normalise_siret,
    parse_right_id,
    validate_authorization_details,
)

__all__ = ["ACR_LEVELS", "AccessToken", "AccessTokenVerifier"]

#: Assurance levels, weakest first (eIDAS low, substantial, high as used by
#: ProConnect and FranceConnect+): password; password + second factor;
#: hardware key or smart card + PIN (Signexpert).
ACR_LEVELS: tuple[str, ...] = ("eidas1", "eidas2", "eidas3")

#: Claims RFC 9068 §2.2 makes mandatory; PyJWT checks they are present.
REQUIRED_CLAIMS: tuple[str, ...] = ("exp", "iat", "iss", "aud", "sub", "jti", "client_id")


def acr_rank(acr: Any) -> int:
    """Position of ``acr`` in :data:`ACR_LEVELS`, -1 for unknown values."""
    try:
        return ACR_LEVELS.index(acr)
    except ValueError:
        return -1


def _optional(claims: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = claims.get(name)
    if value is None:
        return None
    # bool is an int in Python; a boolean auth_time is a broken token.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TokenError("claims", f"{name} has the wrong type")
    return value


def _numeric_date(claims: Mapping[str, Any], name: str) -> int | None:
    # NumericDate (RFC 7519 §2) may be fractional; whole seconds are enough.
    value = _optional(claims, name, (int, float))
    return None if value is None else int(value)


class AccessToken:
    """A verified access token, read-only.

    Built by :meth:`AccessTokenVerifier.verify`; constructing one directly from
    claims does no signature check (useful in tests). Malformed claims raise
    :class:`TokenError` with reason ``claims``.
    """

    def __init__(self, claims: Mapping[str, Any], header: Mapping[str, Any] | None = None) -> None:
        self.claims: Mapping[str, Any] = MappingProxyType(dict(claims))
        self.header: Mapping[str, Any] = MappingProxyType(dict(header or {}))

        sub, client_id = claims.get("sub"), claims.get("client_id")
        if not isinstance(sub, str) or not sub:
            raise TokenError("claims", "sub is not a non-empty string")
        if not isinstance(client_id, str) or not client_id:
            raise TokenError("claims", "client_id is not a non-empty string")
        #: The person's identifiant (e.g. ``pub09HP9``), or the client_id for
        #: a client_credentials token.
        self.sub: str = sub
        self.client_id: str = client_id
        self.issuer: str | None = _optional(claims, "iss", str)
        self.jti: str | None = _optional(claims, "jti", str)
        self.expires_at: int | None = _numeric_date(claims, "exp")
        self.issued_at: int | None = _numeric_date(claims, "iat")
        self.scopes: frozenset[str] = frozenset((_optional(claims, "scope", str) or "").split())
        self.acr: str | None = _optional(claims, "acr", str)
        amr = _optional(claims, "amr", list) or []
        if not all(isinstance(method, str) for method in amr):
            raise TokenError("claims", "amr is not a list of strings")
        self.amr: tuple[str, ...] = tuple(amr)
        self.auth_time: int | None = _numeric_date(claims, "auth_time")
        self.sid: str | None = _optional(claims, "sid", str)
        act = _optional(claims, "act", dict)
        if act is not None and not isinstance(act.get("sub"), str):
            raise TokenError("claims", "act.sub is not a string")
        #: RFC 8693 §4.1 actor: who acts on behalf of ``sub``, if anyone.
        self.act: Mapping[str, Any] | None = MappingProxyType(act) if act is not None else None
        # Validated now (a malformed right invalidates the token), turned
        # into Grant objects only if rights() is called: has_right() needs
        # none, and it is what a site calls on every request.
        self._firm_rights = validate_authorization_details(claims.get("authorization_details"))
        self._grants_cache: tuple[Grant, ...] | None = None

    @property
    def _grants(self) -> tuple[Grant, ...]:
        if self._grants_cache is None:
            self._grants_cache = grants_of(self._firm_rights)
        return self._grants_cache

    def __repr__(self) -> str:
        return f"<AccessToken sub={self.sub!r} client_id={self.client_id!r} jti={self.jti!r}>"

    # -- rights -----------------------------------------------------------

    def rights(
        self, firm: Any = None, *, now: float | None = None, include_expired: bool = False
    ) -> list[Grant]:
        """Grants in the token, one per action and firm, optionally for one firm.

        Firm by firm in SIRET order. Expired delegations are left out unless
        ``include_expired``.
        """
        now = time.time() if now is None else now
        siret = None if firm is None else normalise_siret(firm)
        if firm is not None and siret is None:
            return []
        return [
            grant
            for grant in self._grants
            if (siret is None or grant.siret == siret) and (include_expired or grant.is_active(now))
        ]

    def firms(self, *, now: float | None = None) -> list[str]:
        """SIRETs of the firms for which the person holds any right now, in order."""
        return list(dict.fromkeys(grant.siret for grant in self.rights(now=now)))

    def has_right(self, right_id: str, firm: Any, *, now: float | None = None) -> bool:
        """True if the token grants ``site:action`` for ``firm`` at ``now``.

        ``firm`` is a SIRET (``44523611200025`` or ``445.236.112.00025``); a
        value that is not a SIRET matches nothing. A delegated right counts
        only until its ``exp``.
        """
        site, action = parse_right_id(right_id)
        siret = normalise_siret(firm)
        # Not rights(firm): there None means "any firm", and a firm that
        # could not be determined must never match every firm.
        if siret is None:
            return False
        now = time.time() if now is None else now
        # No leeway on a delegation's exp, as in Grant.is_active.
        return any(
            granted_site == site
            and granted_siret == siret
            and action in actions
            and (exp is None or exp > now)
            for granted_site, actions, granted_siret, _by, exp in self._firm_rights
        )

    def check_right(self, right_id: str, firm: Any, *, now: float | None = None) -> None:
        """Raise :class:`InsufficientScope` unless :meth:`has_right`."""
        if not self.has_right(right_id, firm, now=now):
            raise InsufficientScope(
                f"The access token does not grant {right_id} for this firm",
                detail=f"sub={self.sub} firm={firm!r}",
            )

    # -- scopes -------------------------------------------------------------

    def has_scope(self, *scopes: str) -> bool:
        """True if every scope given is in the token's ``scope``."""
        return set(scopes) <= self.scopes

    def check_scope(self, scopes: str | Iterable[str]) -> None:
        """Raise :class:`InsufficientScope` unless every scope is granted.

        ``scopes`` is a space-separated string or an iterable of scopes.
        """
        wanted = scopes.split() if isinstance(scopes, str) else list(scopes)
        if not self.has_scope(*wanted):
            raise InsufficientScope("The access token lacks a required scope", scope=wanted)

    # -- authentication -------------------------------------------------------

    def acr_satisfies(self, level: str) -> bool:
        """True if the person authenticated at ``level`` or stronger.

        An absent or unknown ``acr`` satisfies nothing.
        """
        wanted = acr_rank(level)
        if wanted < 0:
            raise ValueError(f"unknown acr level {level!r}; known: {ACR_LEVELS}")
        return acr_rank(self.acr) >= wanted

    def authenticated_within(self, max_age: int, *, now: float | None = None) -> bool:
        """True if ``auth_time`` is at most ``max_age`` seconds old.

        A token without ``auth_time`` cannot prove a recent authentication.
        """
        now = time.time() if now is None else now
        return self.auth_time is not None and now - self.auth_time <= max_age

    def check_authentication(
        self, acr: str | None = None, max_age: int | None = None, *, now: float | None = None
    ) -> None:
        """Raise :class:`InsufficientUserAuthentication` (RFC 9470) when the
        person must authenticate at ``acr`` or more recently than ``max_age``."""
        too_weak = acr is not None and not self.acr_satisfies(acr)
        too_old = max_age is not None and not self.authenticated_within(max_age, now=now)
        if not (too_weak or too_old):
            return
        raise InsufficientUserAuthentication(
            "A stronger authentication is required"
            if too_weak
            else "A more recent authentication is required",
            acr_values=acr if too_weak else None,
            max_age=max_age if too_old else None,
            detail=f"sub={self.sub} acr={self.acr!r} auth_time={self.auth_time!r}",
        )


class AccessTokenVerifier:
    """Verifies RFC 9068 access tokens issued by Comptexpert for one site.

    ``audience`` is the site's resource URI (``https://jesignexpert.com``);
    ``jwks`` a :class:`JWKSCache` (or the provider's ``jwks_uri``, from which
    one is made). ``leeway`` (seconds) absorbs clock skew on ``exp``, ``iat``
    and ``nbf``.
    """

    typ = "at+jwt"

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks: JWKSCache | str,
        algorithms: Sequence[str] = ("ES256", "RS256"),
        leeway: float = 30,
    ) -> None:
        if not isinstance(audience, str) or not audience:
            raise ValueError("audience must be the site's resource URI")
        self.issuer = issuer
        self.audience = audience
        self.jwks = JWKSCache(jwks) if isinstance(jwks, str) else jwks
        self.algorithms = _jose.check_algorithms(algorithms)
        self.leeway = leeway

    def verify(self, token: str | bytes) -> AccessToken:
        """Verify signature, header and claims; return the :class:`AccessToken`.

        Raises :class:`TokenError` (``invalid_token``) with a ``reason`` when
        the token must be refused, :class:`KeySetUnavailable` when the
        provider's keys cannot be fetched.
        """
        header, claims = _jose.decode(
            token,
            jwks=self.jwks,
            algorithms=self.algorithms,
            typ=self.typ,
            issuer=self.issuer,
            audience=self.audience,
            require=REQUIRED_CLAIMS,
            leeway=self.leeway,
        )
        return AccessToken(claims, header)
