"""Introspection endpoint (RFC 7662), for authenticated clients."""
from __future__ import annotations

from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from flask import current_app

from ...db import epoch, utcnow
from ...rights.claims import AUTHORIZATION_DETAILS, AUTHORIZATION_DETAILS_TRUNCATED
from ...rights.services import current_rights
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
            return introspect_access_token(token.access)
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


def introspect_access_token(access) -> dict:
    """The token's claims with its rights as they are now (docs/claims.md, "Introspection").

    The signed ``authorization_details`` are what the user held at issuance;
    a relying site that introspects wants the present: they are recomputed
    for the same user, audience and session level, complete (a token cut to
    fit 8 KB is answered in full). The token stays active when rights went
    away, since it still proves who the user is; it is inactive when his
    account was disabled.
    """
    from ...accounts.models import User
    from ...extensions import db

    claims = dict(access.claims)
    claims.pop(AUTHORIZATION_DETAILS, None)
    claims.pop(AUTHORIZATION_DETAILS_TRUNCATED, None)
    if access.record.user_id is not None:
        user = db.session.get(User, access.record.user_id)
        if user is None or not user.active:
            return {"active": False}
        rights = current_rights(user, claims, utcnow())
        if rights:
            claims[AUTHORIZATION_DETAILS] = rights
    claims["token_type"] = "Bearer"
    return claims


def row_sub(row) -> str:
    from ...accounts.models import User
    from ...extensions import db

    return db.session.get(User, row.user_id).identifiant
