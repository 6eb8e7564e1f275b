"""The Authlib authorization server, filled with our grants and endpoints."""
from __future__ import annotations

import time

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import current_app
from sqlalchemy import inspect as sa_inspect

from ..extensions import db
from .client_auth import PrivateKeyJWT
from .models import Client
from .scopes import SCOPES_SUPPORTED


class OAuthServer(AuthorizationServer):
    def create_oauth2_request(self, request):
        # The authorization endpoint replays stored requests (after login or
        # consent) as ready-made OAuth2Request objects.
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def save_token(self, token, request):
        # Tokens are recorded when issued (``tokens.issue_tokens``), with the
        # context Authlib's save hook does not receive.
        pass

    def handle_error_response(self, request, error):
        # RFC 6749 §5.2 lets invalid_client be 400 for form credentials; we
        # always answer 401 with a challenge, so clients see one behaviour.
        if error.error == "invalid_client" and not getattr(error, "redirect_uri", None):
            error.status_code = 401
            status, body, headers = error(self.get_error_uri(request, error))
            headers = [h for h in headers if h[0].lower() != "www-authenticate"]
            headers.append(("WWW-Authenticate", 'Basic realm="comptexpert"'))
            return self.handle_response(status, body, headers)
        if error.error == "unsupported_token_type":
            # Authlib answers 401; RFC 7009 §2.2.1 errors are RFC 6749 §5.2 ones: 400.
            error.status_code = 400
        return super().handle_error_response(request, error)


def query_client(client_id) -> Client | None:
    """The client ``client_id``, from this process's cache for ``IDP_CLIENTS_CACHE_SECONDS``.

    Clients almost never change, and reading one was a quarter of a token
    request's time. The cache holds a transient copy with every column
    loaded, never the session's own object, so reading it after the request
    touches no database and no session. Unknown identifiers are not cached:
    a new client is usable at once. ``forget_client`` drops an entry here;
    other processes see a deletion within the TTL.
    """
    if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
        return None
    ttl = current_app.config["IDP_CLIENTS_CACHE_SECONDS"]
    if ttl <= 0:
        return db.session.get(Client, client_id)
    cache = current_app.extensions.setdefault("idp_clients_cache", {})
    now = time.monotonic()
    entry = cache.get(client_id)
    if entry is not None and entry[0] > now:
        return entry[1]
    loaded = db.session.get(Client, client_id)
    if loaded is None:
        cache.pop(client_id, None)
        return None
    snapshot = Client(**{attr.key: getattr(loaded, attr.key) for attr in sa_inspect(Client).column_attrs})
    cache[client_id] = (now + ttl, snapshot)
    return snapshot


def forget_client(client_id: str) -> None:
    """Drop ``client_id`` from this process's client cache (after a deletion)."""
    current_app.extensions.get("idp_clients_cache", {}).pop(client_id, None)


class IssuerResponseParameter(IssuerParameter):
    """RFC 9207: ``iss`` in every authorization response, errors included."""

    def get_issuer(self) -> str:
        return current_app.config["IDP_ISSUER"]


authorization = OAuthServer()
require_oauth = ResourceProtector()
issuer_parameter = IssuerResponseParameter()


def init_app(app) -> None:
    """Register grants, client authentication and endpoints on the server."""
    from .endpoints.end_session import EndSessionEndpoint
    from .endpoints.introspection import IntrospectionEndpoint
    from .endpoints.revocation import RevocationEndpoint
    from .endpoints.userinfo import BearerTokenValidator, UserInfoEndpoint
    from .grants.authorization_code import AuthorizationCodeGrant, OpenIDCodeExtension, S256CodeChallenge
    from .grants.client_credentials import ClientCredentialsGrant
    from .grants.refresh_token import RefreshTokenGrant
    from .grants.token_exchange import TokenExchangeGrant

    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES_SUPPORTED))
    authorization.init_app(app, query_client=query_client)
    if getattr(authorization, "_idp_configured", False):
        return
    authorization._idp_configured = True
    authorization.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    authorization.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True), OpenIDCodeExtension()])
    authorization.register_grant(RefreshTokenGrant)
    authorization.register_grant(ClientCredentialsGrant)
    authorization.register_grant(TokenExchangeGrant)
    authorization.register_extension(issuer_parameter)
    authorization.register_endpoint(RevocationEndpoint)
    authorization.register_endpoint(IntrospectionEndpoint)
    authorization.register_endpoint(EndSessionEndpoint)
    require_oauth.register_token_validator(BearerTokenValidator())
    authorization.register_endpoint(UserInfoEndpoint(resource_protector=require_oauth))
