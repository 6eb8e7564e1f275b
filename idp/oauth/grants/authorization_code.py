"""``authorization_code`` grant (RFC 6749 §4.1) with PKCE S256 (RFC 7636) and OIDC."""
from __future__ import annotations

from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from flask import current_app

from ...db import digest, utcnow
from ...extensions import db
from ..models import AuthorizationCode
from ..tokens import AuthContext, consume_code, encode_id_token
from .common import IssuingGrantMixin, requested_resource


class S256CodeChallenge(CodeChallenge):
    """PKCE, required for every client, S256 only (RFC 9700 §2.1.1).

    Authlib makes PKCE optional for confidential clients and defaults the
    method to ``plain``; we refuse both: a missing challenge or ``plain`` is
    an ``invalid_request``.
    """

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'.", redirect_uri=redirect_uri)
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be 'S256'.", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)


class AuthorizationCodeGrant(IssuingGrantMixin, grants.AuthorizationCodeGrant):
    """Codes live 60 s, are single use, and carry the session's acr/amr/auth_time."""

    def save_authorization_code(self, code: str, request) -> None:
        session = request.login_session
        data = request.payload.data
        now = utcnow()
        db.session.add(
            AuthorizationCode(
                code_hash=digest(code),
                client_id=request.client.client_id,
                user_id=request.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                resource=getattr(request, "resource", None),
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                sid=session.sid,
                auth_time=session.auth_time,
                acr=session.acr,
                amr=list(session.amr),
                expires_at=now + timedelta(seconds=current_app.config["IDP_CODE_TTL"]),
            )
        )

    def query_authorization_code(self, code: str, client):
        if not code or len(code) > 256:
            return None
        return consume_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code) -> None:
        # Kept (marked used) rather than deleted: a replay must be recognised
        # to revoke what the code issued. ``idp cleanup`` removes old rows.
        pass

    def authenticate_user(self, authorization_code):
        from ...accounts.models import User

        user = db.session.get(User, authorization_code.user_id)
        return user if user is not None and user.active else None

    def token_context(self) -> dict:
        code = self.request.authorization_code
        resource = code.resource
        asked = requested_resource(self.request, self.request.client, [code.resource] if code.resource else None)
        return {
            "resource": asked or resource,
            "context": AuthContext.of(code),
            "code_hash": code.code_hash,
        }


class OpenIDCodeExtension(OpenIDCode):
    """OIDC Core §3.1: the ID token, signed by our key ring."""

    def exists_nonce(self, nonce, request) -> bool:
        # Codes are single use and bound to PKCE; a nonce is the client's
        # own replay check on the ID token, not a server-side registry.
        return False

    def encode_id_token(self, token, request):
        code = request.authorization_code
        return encode_id_token(
            client=request.client,
            user=request.user,
            scope=token["scope"],
            context=AuthContext.of(code),
            nonce=code.nonce,
            access_token=token.get("access_token"),
        )
