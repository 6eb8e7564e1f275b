"""What every grant shares: resource indicators and token issuance."""
from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error

from ..tokens import AuthContext, issue_tokens

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is invalid, unknown or not allowed."""

    error = "invalid_target"


def requested_resource(request, client, allowed: list[str] | None = None) -> str | None:
    """The single RFC 8707 ``resource`` of a request, checked against what is allowed.

    One audience per token keeps a token useless anywhere but where it was
    meant; a client wanting two audiences asks twice.
    """
    values = request.payload.datalist.get("resource", [])
    if not values:
        return None
    if len(values) > 1:
        raise InvalidTargetError("Only one 'resource' per request is supported.")
    resource = values[0]
    parts = urlsplit(resource)
    if not parts.scheme or not parts.netloc or parts.fragment:
        raise InvalidTargetError("'resource' must be an absolute URI without a fragment.")
    if resource not in (allowed if allowed is not None else client.resources):
        raise InvalidTargetError("The client may not obtain tokens for this 'resource'.")
    return resource


class IssuingGrantMixin:
    """Routes Authlib's ``generate_token`` to ``issue_tokens`` with the grant's context.

    Authlib's generator signature carries no request; the grant has it, so
    the grant builds the context (resource, session facts, family) itself.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def token_context(self) -> dict:
        raise NotImplementedError

    def generate_token(self, user=None, scope=None, grant_type=None, expires_in=None, include_refresh_token=True):
        return issue_tokens(
            client=self.request.client,
            grant_type=grant_type or self.GRANT_TYPE,
            user=user,
            scope=scope,
            include_refresh_token=include_refresh_token,
            **self.token_context(),
        )


__all__ = ["AUTH_METHODS", "AuthContext", "InvalidTargetError", "IssuingGrantMixin", "requested_resource"]
