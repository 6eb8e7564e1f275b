"""``refresh_token`` grant (RFC 6749 §6): rotation on every use, reuse revokes the family."""
from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oidc.core.grants.util import is_openid_scope

from ...extensions import db
from ..tokens import AuthContext, encode_id_token, rotate_refresh_token
from .common import IssuingGrantMixin, requested_resource


class RefreshTokenGrant(IssuingGrantMixin, grants.RefreshTokenGrant):
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str):
        if not refresh_token or len(refresh_token) > 256:
            return None
        return rotate_refresh_token(refresh_token)

    def authenticate_user(self, refresh_token):
        from ...accounts.models import User

        user = db.session.get(User, refresh_token.user_id)
        return user if user is not None and user.active else None

    def revoke_old_credential(self, refresh_token) -> None:
        # Already marked rotated by ``rotate_refresh_token`` (atomically).
        pass

    def token_context(self) -> dict:
        old = self.request.refresh_token
        asked = requested_resource(self.request, self.request.client)
        return {
            "resource": asked or old.resource,
            "context": AuthContext.of(old),
            "family_id": old.family_id,
            "code_hash": old.code_hash,
        }

    def create_token_response(self):
        status, token, headers = super().create_token_response()
        # OIDC Core §12.2: a refreshed ID token keeps the original auth facts.
        if is_openid_scope(token.get("scope")):
            token["id_token"] = encode_id_token(
                client=self.request.client,
                user=self.request.user,
                scope=token["scope"],
                context=AuthContext.of(self.request.refresh_token),
                nonce=None,
                access_token=token["access_token"],
            )
        return status, token, headers
