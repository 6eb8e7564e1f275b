"""Token exchange grant (RFC 8693 §2), a thin adapter over ``idp.rights.exchange``."""
from __future__ import annotations

from authlib.oauth2.rfc6749.grants import BaseGrant, TokenEndpointMixin
from authlib.oauth2.rfc6749.hooks import hooked

from ...rights.exchange import GRANT_TYPE, check_exchange, issue_exchanged_token
from .common import AUTH_METHODS


class TokenExchangeGrant(BaseGrant, TokenEndpointMixin):
    """``urn:ietf:params:oauth:grant-type:token-exchange``, for confidential clients only."""

    GRANT_TYPE = GRANT_TYPE
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        self.request.client = client
        self.request.exchange = check_exchange(client, self.request.payload)

    @hooked
    def create_token_response(self):
        token = issue_exchanged_token(self.request.client, self.request.exchange)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
