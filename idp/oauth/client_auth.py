"""``private_key_jwt`` client authentication (RFC 7523 §2.2, OIDC Core §9)."""
from __future__ import annotations

from datetime import datetime, timezone

from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import current_app, url_for
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError

from ..db import digest
from ..extensions import db
from .models import UsedAssertion


class PrivateKeyJWT(JWTBearerClientAssertion):
    """Authlib's assertion checks, with our key source and a shared ``jti`` registry."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self):
        issuer = current_app.config["IDP_ISSUER"]
        # OIDC Core §9: the aud SHOULD be the token endpoint URL; RFC 7523
        # allows the issuer. Both are accepted, nothing else.
        return [issuer, issuer + url_for("oauth.token")]

    def resolve_client_public_key(self, client):
        return KeySet.import_key_set(client.jwks or {"keys": []})

    def validate_jti(self, claims, jti) -> bool:
        # The primary key is the lock: a second insert of the same jti fails,
        # on one node or many. Savepoint so a failure keeps the outer request.
        expires = datetime.fromtimestamp(int(claims["exp"]), timezone.utc).replace(tzinfo=None)
        try:
            with db.session.begin_nested():
                db.session.add(UsedAssertion(jti_hash=digest(f"{claims['iss']}:{jti}"), expires_at=expires))
        except IntegrityError:
            return False
        return True
