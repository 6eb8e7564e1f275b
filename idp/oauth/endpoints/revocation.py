"""Revocation endpoint (RFC 7009)."""
from __future__ import annotations

from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint

from ..grants.common import AUTH_METHODS
from ..tokens import revoke_access_token, revoke_family
from .handles import find_token


class RevocationEndpoint(_RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token, request) -> None:
        # RFC 7009 §2.1: revoking a refresh token also revokes the access
        # tokens of the same grant, i.e. its whole family.
        if token.kind == "refresh_token":
            revoke_family(token.refresh.family_id)
        else:
            revoke_access_token(token.access.claims["jti"])
