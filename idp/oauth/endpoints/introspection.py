"""Introspection endpoint (RFC 7662), for authenticated clients."""
from __future__ import annotations

from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from flask import current_app

from ...db import epoch
from ..grants.common import AUTH_METHODS
from .handles import find_token


class IntrospectionEndpoint(_IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request) -> bool:
        # The client the token was issued to, or the resource server it is
        # meant for; anyone else learns only ``active: false`` (§4).
        if token.check_client(client):
            return True
        return token.kind == "access_token" and token.access.claims.get("aud") in (client.resources or [])

    def introspect_token(self, token) -> dict:
        if token.kind == "access_token":
            claims = dict(token.access.claims)
            claims["token_type"] = "Bearer"
            return claims
        row = token.refresh
        return {
            "scope": row.scope,
            "client_id": row.client_id,
            "token_type": "refresh_token",
            "exp": epoch(row.expires_at),
            "iat": epoch(row.created_at),
            "sub": row_sub(row),
            "iss": current_app.config["IDP_ISSUER"],
        }


def row_sub(row) -> str:
    from ...accounts.models import User
    from ...extensions import db

    return db.session.get(User, row.user_id).identifiant
