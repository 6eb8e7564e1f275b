"""Stored protocol objects: clients, codes, refresh tokens, issued access tokens, consents.

Every secret (client secret, code, refresh token) is stored as its SHA-256
digest (``idp.db.digest``); the clear value exists only in the response.
"""
from __future__ import annotations

from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import scope_to_list
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import epoch, same_digest, utcnow
from ..extensions import db


class Client(db.Model, ClientMixin):
    """A relying site (or its back end) registered with the provider."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    grant_types: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    scope: Mapped[str] = mapped_column(Text, default="openid", nullable=False)
    # RFC 8707 resources (audiences) the client may ask tokens for; the
    # first is the default when the request names none.
    resources: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32), default="client_secret_basic", nullable=False)
    jwks: Mapped[dict | None] = mapped_column(JSON)
    # OIDC Registration: RS256 for clients that cannot verify ES256.
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(8))
    first_party: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # RFC 8935 push endpoint for Security Event Tokens (CAEP), and the OpenID
    # Back-Channel Logout URI.
    events_uri: Mapped[str | None] = mapped_column(Text)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text)
    # RFC 8693: audiences this client may exchange a user's token for (empty: no exchange).
    exchange_audiences: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    # -- Authlib ClientMixin -------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OIDC requires redirect_uri in every request; never guess one.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes this client may have; ``None`` when none are."""
        if not scope:
            return None
        allowed = set(scope_to_list(self.scope))
        granted = [s for s in scope_to_list(scope) if s in allowed]
        return " ".join(dict.fromkeys(granted)) or None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # RFC 9700 §4.1.3: exact string comparison, no pattern, no prefix.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return same_digest(client_secret, self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @property
    def client_metadata(self) -> dict:
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris}

    @property
    def default_resource(self) -> str | None:
        return self.resources[0] if self.resources else None


class AuthorizationCode(db.Model):
    """An authorization code: 60 s, single use, bound to client, redirect URI and PKCE."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    resource: Mapped[str | None] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128), nullable=False)
    code_challenge_method: Mapped[str] = mapped_column(String(8), nullable=False)
    sid: Mapped[str | None] = mapped_column(String(64))
    auth_time: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    acr: Mapped[str] = mapped_column(String(32), nullable=False)
    amr: Mapped[list] = mapped_column(JSON, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    # -- Authlib AuthorizationCodeMixin -------------------------------------
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return epoch(self.auth_time)

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list:
        return list(self.amr)


class RefreshToken(db.Model):
    """A refresh token. Rotated on every use; all tokens of one login share a ``family_id``."""

    __tablename__ = "oauth_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    resource: Mapped[str | None] = mapped_column(Text)
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    auth_time: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    acr: Mapped[str] = mapped_column(String(32), nullable=False)
    amr: Mapped[list] = mapped_column(JSON, nullable=False)
    # The code that started the family: a replayed code revokes it.
    code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    def check_client(self, client) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_client_id(self) -> str:
        return self.client_id

    def is_usable(self, now: datetime) -> bool:
        return self.rotated_at is None and self.revoked_at is None and self.expires_at > now


class IssuedAccessToken(db.Model):
    """The record of a JWT access token, so it can be revoked before it expires."""

    __tablename__ = "oauth_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str | None] = mapped_column(String(64), index=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Consent(db.Model):
    """What a user allowed a client to have; remembered until withdrawn."""

    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class UsedAssertion(db.Model):
    """``jti`` of client assertions already seen (RFC 7523 §3 replay protection)."""

    __tablename__ = "oauth_used_assertions"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)


class Interaction(db.Model):
    """An authorization request waiting for the user (login or consent).

    Kept server-side: the request can be several kilobytes, too big for a
    cookie, and any node must be able to resume it.
    """

    __tablename__ = "oauth_interactions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    params: Mapped[list] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)
    consented_at: Mapped[datetime | None] = mapped_column(DateTime)
