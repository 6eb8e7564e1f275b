"""Userinfo endpoint (OIDC Core §5.3), protected by our own access tokens."""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import current_token
from authlib.oauth2.rfc6750 import BearerTokenValidator as _BearerTokenValidator
from authlib.oidc.core import UserInfo
from authlib.oidc.core import UserInfoEndpoint as _UserInfoEndpoint
from flask import current_app

from ...extensions import db
from ..claims import user_claims
from ..models import Client
from ..tokens import verify_access_token


class _BearerToken:
    """The adapter Authlib's ResourceProtector expects around a verified JWT."""

    def __init__(self, verified):
        self.verified = verified
        self.scope = verified.scope

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return False  # verify_access_token refuses expired tokens

    def is_revoked(self) -> bool:
        return False  # verify_access_token refuses revoked tokens

    def get_client(self):
        return db.session.get(Client, self.verified.claims["client_id"])

    def get_user(self):
        from ...accounts.models import User

        return db.session.get(User, self.verified.record.user_id) if self.verified.record.user_id else None


class BearerTokenValidator(_BearerTokenValidator):
    def authenticate_token(self, token_string):
        verified = verify_access_token(token_string)
        return _BearerToken(verified) if verified is not None else None


class UserInfoEndpoint(_UserInfoEndpoint):
    def generate_user_info(self, user, scope) -> UserInfo:
        # The token Authlib just accepted: its client and session level
        # decide which rights the ``rights`` scope releases.
        return UserInfo(user_claims(user, scope, client=current_token.get_client(),
                                    acr=current_token.verified.claims.get("acr")))

    def get_issuer(self) -> str:
        return current_app.config["IDP_ISSUER"]
