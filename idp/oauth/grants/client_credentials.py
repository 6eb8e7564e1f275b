"""``client_credentials`` grant (RFC 6749 §4.4), for relying sites' back ends."""
from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.util import scope_to_list

from .common import IssuingGrantMixin, requested_resource

# Scopes about a user make no sense in a token that has none.
USER_SCOPES = {"openid", "profile", "email"}


class ClientCredentialsGrant(IssuingGrantMixin, grants.ClientCredentialsGrant):
    def validate_token_request(self):
        super().validate_token_request()
        requested = set(scope_to_list(self.request.payload.scope) or [])
        allowed = set(scope_to_list(self.request.client.scope) or []) - USER_SCOPES
        if not requested <= allowed:
            raise InvalidScopeError("The client may not request these scopes with client_credentials.")

    def token_context(self) -> dict:
        return {"resource": requested_resource(self.request, self.request.client), "context": None}
