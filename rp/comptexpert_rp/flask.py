"""Flask decorators protecting views with Comptexpert access tokens.

Needs the ``flask`` extra (``pip install comptexpert-rp[flask]``)::

    @app.post("/firms/<siret>/signatures")
    @require_right(verifier, "jesignexpert:signer", firm_from="siret", acr="eidas3")
    def sign(siret):
        return do_sign(siret, signer=g.access_token.sub)

Answers, always with a ``WWW-Authenticate: Bearer ...`` challenge:

- 401 without error attributes when no Bearer token is presented
  (RFC 6750 §3.1);
- 400 ``invalid_request`` for a malformed Authorization header;
- 401 ``invalid_token`` when verification fails;
- 403 ``insufficient_scope`` when the scope or right is missing;
- 401 ``insufficient_user_authentication`` with ``acr_values`` / ``max_age``
  when the person must authenticate again (RFC 9470).

503 (no challenge) when the provider's keys cannot be fetched.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import flask

from .access_token import AccessToken, AccessTokenVerifier, acr_rank
from .errors import InsufficientScope, RPError, TokenError
from .rfc6750 import bearer_token, www_authenticate
from .rights import parse_right_id

__all__ = ["require_token", "require_right", "error_response"]

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def error_response(exc: RPError | None, realm: str | None) -> flask.Response:
    """Turn an error (or None: no credentials) into the HTTP answer.

    The one place where errors become responses. The body repeats the error
    as JSON for humans and clients that do not parse challenges; internal
    detail is logged, never sent.
    """
    if exc is None:
        response = flask.Response(status=401)
        response.headers["WWW-Authenticate"] = www_authenticate(realm)
        return response
    if isinstance(exc, TokenError):
        log.info("access refused: %s %s", exc.error, exc.detail or "")
        response = flask.jsonify(error=exc.error, error_description=exc.description)
        response.status_code = exc.status_code
        response.headers["WWW-Authenticate"] = www_authenticate(realm, exc)
        return response
    # KeySetUnavailable: the token may be fine, we just cannot check it now.
    log.error("cannot verify access tokens: %s", exc)
    response = flask.jsonify(error="temporarily_unavailable", error_description=exc.description)
    response.status_code = exc.status_code
    return response


def authenticate(verifier: AccessTokenVerifier) -> AccessToken | None:
    """Verify the request's Bearer token; None when none was presented."""
    token = bearer_token(flask.request.headers.get("Authorization"))
    return None if token is None else verifier.verify(token)


def require_token(
    verifier: AccessTokenVerifier,
    scope: str | Iterable[str] | None = None,
    *,
    acr: str | None = None,
    max_age: int | None = None,
    realm: str | None = None,
) -> Callable[[F], F]:
    """Decorator: the view runs only with a valid access token.

    ``scope``: scopes the token must carry (space-separated or iterable).
    ``acr``: minimum assurance level (``eidas1`` < ``eidas2`` < ``eidas3``).
    ``max_age``: the person must have authenticated at most that many
    seconds ago. ``realm`` defaults to the verifier's audience. The verified
    token is ``flask.g.access_token``.
    """
    return _protect(verifier, realm, scope=scope, acr=acr, max_age=max_age)


def require_right(
    verifier: AccessTokenVerifier,
    right_id: str,
    firm_from: str | Callable[[], Any],
    acr: str | None = None,
    *,
    max_age: int | None = None,
    realm: str | None = None,
) -> Callable[[F], F]:
    """Decorator: the view runs only if the token grants ``right_id``
    (``site:action``) for the firm of the request, right now.

    ``firm_from`` is the name of a view argument holding the SIRET (e.g.
    ``"siret"`` for ``/firms/<siret>/...``), or a callable taking no
    argument, called inside the request, returning it (e.g.
    ``lambda: flask.request.args.get("siret")``). A missing or malformed
    SIRET matches no right (403).

    A right that is missing while the login is weaker than ``acr`` asks for
    the stronger login first (401, RFC 9470): the provider leaves out of the
    token every right above the session's level, so the right may well come
    with the stronger login. With a strong enough login, a missing right is
    a plain 403.
    """
    parse_right_id(right_id)  # a typo fails when the view is declared

    def firm(view_args: dict[str, Any]) -> Any:
        if callable(firm_from):
            return firm_from()
        return view_args[firm_from]

    return _protect(verifier, realm, right=(right_id, firm), acr=acr, max_age=max_age)


def _protect(
    verifier: AccessTokenVerifier,
    realm: str | None,
    *,
    scope: str | Iterable[str] | None = None,
    right: tuple[str, Callable[[dict[str, Any]], Any]] | None = None,
    acr: str | None = None,
    max_age: int | None = None,
) -> Callable[[F], F]:
    realm = realm or verifier.audience
    # Configuration mistakes fail when the view is declared, not per request.
    if acr is not None and acr_rank(acr) < 0:
        raise ValueError(f"unknown acr level {acr!r}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                token = authenticate(verifier)
                if token is None:
                    return error_response(None, realm)
                if scope is not None:
                    token.check_scope(scope)
                if right is not None:
                    right_id, firm = right
                    try:
                        token.check_right(right_id, firm(kwargs))
                    except InsufficientScope:
                        token.check_authentication(acr, max_age)
                        raise
                token.check_authentication(acr, max_age)
            except RPError as exc:
                return error_response(exc, realm)
            flask.g.access_token = token
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
