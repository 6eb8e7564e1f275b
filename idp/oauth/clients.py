"""Registering relying sites: the service behind ``idp clients``."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from ..db import digest, new_secret
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from .models import Client
from .scopes import SCOPES_SUPPORTED

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")


def _check_uri(uri: str, what: str, *, allow_loopback_http: bool = True) -> str:
    parts = urlsplit(uri)
    if parts.fragment or not parts.netloc:
        raise InvalidInput(f"{what}: an absolute URI without fragment is required: {uri!r}", field=what)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (allow_loopback_http and parts.scheme == "http" and loopback):
        raise InvalidInput(f"{what}: https is required (http only on loopback): {uri!r}", field=what)
    return uri


def create_client(
    *,
    name: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str] | None = None,
    grant_types: list[str] | None = None,
    scope: str = "openid profile email",
    resources: list[str] | None = None,
    auth_method: str = "client_secret_basic",
    jwks: dict | None = None,
    first_party: bool = False,
    signing_alg: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    events_uri: str | None = None,
    backchannel_logout_uri: str | None = None,
    exchange_audiences: list[str] | None = None,
) -> tuple[Client, str | None]:
    """Register a client; return it with its clear secret (shown once). The caller commits.

    ``exchange_audiences``: the audiences its back end may exchange a user's
    access token for (RFC 8693); without any, it may not exchange at all.
    """
    grant_types = list(dict.fromkeys(grant_types or ["authorization_code", "refresh_token"]))
    unknown = [g for g in grant_types if g not in GRANT_TYPES]
    if unknown:
        raise InvalidInput(f"unsupported grant types: {', '.join(unknown)}", field="grant_type")
    if auth_method not in AUTH_METHODS:
        raise InvalidInput(f"unsupported authentication method {auth_method!r}", field="auth_method")
    if auth_method == "private_key_jwt" and not (jwks and jwks.get("keys")):
        raise InvalidInput("private_key_jwt needs the client's public keys (jwks)", field="jwks")
    if "authorization_code" in grant_types and not redirect_uris:
        raise InvalidInput("authorization_code needs at least one redirect URI", field="redirect_uri")
    unknown_scopes = [s for s in scope.split() if s not in SCOPES_SUPPORTED]
    if unknown_scopes:
        raise InvalidInput(f"unknown scopes: {', '.join(unknown_scopes)}", field="scope")
    if signing_alg not in (None, "ES256", "RS256"):
        raise InvalidInput(f"unsupported signing algorithm {signing_alg!r}", field="signing_alg")
    client_id = client_id or new_secret(16)
    if db.session.get(Client, client_id) is not None:
        raise Conflict(f"client {client_id} already exists")
    if client_secret is not None and len(client_secret) < 32:
        raise InvalidInput("a client secret must have at least 32 characters", field="client_secret")
    secret = None if auth_method == "private_key_jwt" else (client_secret or new_secret(32))
    client = Client(
        client_id=client_id,
        client_secret_hash=digest(secret) if secret else None,
        name=name,
        redirect_uris=[_check_uri(u, "redirect_uri") for u in redirect_uris],
        post_logout_redirect_uris=[_check_uri(u, "post_logout_redirect_uri") for u in post_logout_redirect_uris or []],
        grant_types=grant_types,
        scope=" ".join(dict.fromkeys(scope.split())),
        resources=[_check_uri(u, "resource", allow_loopback_http=True) for u in resources or []],
        exchange_audiences=[_check_uri(u, "exchange_audience") for u in dict.fromkeys(exchange_audiences or [])],
        token_endpoint_auth_method=auth_method,
        jwks=jwks,
        first_party=first_party,
        id_token_signed_response_alg=signing_alg,
        # RFC 8935 push endpoint and Back-Channel Logout URI (docs/events.md).
        events_uri=_check_uri(events_uri, "events_uri") if events_uri else None,
        backchannel_logout_uri=_check_uri(backchannel_logout_uri, "backchannel_logout_uri")
        if backchannel_logout_uri else None,
    )
    db.session.add(client)
    db.session.flush()
    return client, secret


def list_clients() -> list[Client]:
    """Every client, by name."""
    return list(db.session.scalars(select(Client).order_by(Client.name)))


def delete_client(client_id: str) -> None:
    """Remove a client and, by cascade, its codes, tokens and consents. The caller commits."""
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    db.session.delete(client)
    from .server import forget_client  # the server module imports the models; avoid a cycle at import
    forget_client(client_id)
