"""Issuing, verifying and revoking tokens.

Access and ID tokens are JWTs signed by the current key (``idp.signing``);
refresh tokens are opaque random strings stored as digests. Every access
token is also recorded by ``jti``, so that revocation (RFC 7009) takes
effect at introspection (RFC 7662) and userinfo before it expires.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from authlib.oidc.core.util import create_half_hash
from flask import current_app
from joserfc.errors import JoseError
from sqlalchemy import or_, select, update

from ..db import digest, epoch, new_secret, utcnow
from ..extensions import db
from ..rights.services import add_rights
from ..signing.services import load_ring
from .claims import user_claims
from .models import AuthorizationCode, IssuedAccessToken, RefreshToken

ACCESS_TOKEN_TYP = "at+jwt"


@dataclass(frozen=True)
class AuthContext:
    """How and when the user authenticated, carried from the session to every token."""

    acr: str
    amr: tuple[str, ...]
    auth_time: datetime
    sid: str | None

    @classmethod
    def of(cls, credential) -> "AuthContext | None":
        """The context recorded on a code, a refresh token or a login session."""
        if credential is None:
            return None
        return cls(credential.acr, tuple(credential.amr), credential.auth_time, credential.sid)


def signing_alg(client) -> str:
    """The client's registered algorithm, or the provider's default (ES256)."""
    return getattr(client, "id_token_signed_response_alg", None) or current_app.config["IDP_SIGNING_ALG"]


def audience_for(client, resource: str | None) -> str:
    """RFC 8707: the named resource, else the client's default resource, else the issuer."""
    return resource or client.default_resource or current_app.config["IDP_ISSUER"]


def issue_tokens(
    *,
    client,
    grant_type: str,
    user,
    scope: str,
    resource: str | None,
    context: AuthContext | None,
    family_id: str | None = None,
    code_hash: str | None = None,
    include_refresh_token: bool = False,
    act: dict | None = None,
    not_after: datetime | None = None,
    now: datetime | None = None,
) -> dict:
    """Build the token response body and record what was issued. The caller commits.

    A token for a person carries his rights at its audience (``idp.rights``),
    recomputed at every issuance, refresh included; its ``exp`` is bounded by
    the first delegation it carries and by ``not_after`` (token exchange:
    the subject token's expiry). ``act`` is the RFC 8693 §4.1 actor.
    """
    config = current_app.config
    now = now or utcnow()
    jti = new_secret(16)
    exp = epoch(now) + config["IDP_ACCESS_TOKEN_TTL"]
    if not_after is not None:
        exp = min(exp, epoch(not_after))
    claims = {
        "iss": config["IDP_ISSUER"],
        "sub": user.identifiant if user is not None else client.client_id,
        "aud": audience_for(client, resource),
        "exp": exp,
        "iat": epoch(now),
        "jti": jti,
        "client_id": client.client_id,
        "scope": scope or "",
    }
    if context is not None:
        claims.update(auth_time=epoch(context.auth_time), acr=context.acr, amr=list(context.amr))
        if context.sid:
            claims["sid"] = context.sid
    if act is not None:
        claims["act"] = act
    if user is not None and context is not None:
        claims = add_rights(claims, user=user, acr=context.acr, now=now)
    ttl = claims["exp"] - epoch(now)
    access_token = load_ring().sign(claims, signing_alg(client), typ=ACCESS_TOKEN_TYP)
    if include_refresh_token and user is not None:
        family_id = family_id or new_secret(16)
    db.session.add(
        IssuedAccessToken(
            jti=jti,
            client_id=client.client_id,
            user_id=user.id if user is not None else None,
            family_id=family_id,
            code_hash=code_hash,
            sid=context.sid if context else None,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    token = {"token_type": "Bearer", "access_token": access_token, "expires_in": ttl, "scope": scope or ""}
    if include_refresh_token and user is not None and context is not None:
        refresh = new_secret(32)
        db.session.add(
            RefreshToken(
                token_hash=digest(refresh),
                family_id=family_id,
                client_id=client.client_id,
                user_id=user.id,
                scope=scope,
                resource=resource,
                sid=context.sid,
                auth_time=context.auth_time,
                acr=context.acr,
                amr=list(context.amr),
                code_hash=code_hash,
                created_at=now,
                expires_at=now + timedelta(seconds=config["IDP_REFRESH_TOKEN_TTL"]),
            )
        )
        token["refresh_token"] = refresh
    return token


def encode_id_token(*, client, user, scope: str, context: AuthContext, nonce: str | None, access_token: str | None,
                    now: datetime | None = None) -> str:
    """An ID token (OIDC Core §2) for ``client``, carrying the session's acr/amr."""
    config = current_app.config
    now = now or utcnow()
    alg = signing_alg(client)
    claims = {
        "iss": config["IDP_ISSUER"],
        "sub": user.identifiant,
        "aud": client.client_id,
        "exp": epoch(now) + config["IDP_ID_TOKEN_TTL"],
        "iat": epoch(now),
        "auth_time": epoch(context.auth_time),
        "acr": context.acr,
        "amr": list(context.amr),
    }
    if context.sid:
        claims["sid"] = context.sid
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["at_hash"] = create_half_hash(access_token, alg).decode()
    claims.update(user_claims(user, scope, client=client, acr=context.acr, now=now, for_id_token=True))
    return load_ring().sign(claims, alg, typ="JWT")


@dataclass
class VerifiedAccessToken:
    """An access token we issued, verified and still live."""

    claims: dict
    record: IssuedAccessToken

    @property
    def scope(self) -> str:
        return self.claims.get("scope", "")


def verify_access_token(token: str, now: datetime | None = None) -> VerifiedAccessToken | None:
    """Verify one of our access tokens: signature, ``typ``, ``iss``, expiry, not revoked."""
    if not token or len(token) > 16384:
        return None
    try:
        header, claims = load_ring().verify(token)
    except (JoseError, ValueError):
        return None
    if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYP, "application/at+jwt"):
        return None
    now = now or utcnow()
    if claims.get("iss") != current_app.config["IDP_ISSUER"] or claims.get("exp", 0) <= epoch(now):
        return None
    record = db.session.get(IssuedAccessToken, claims.get("jti", ""))
    if record is None or record.revoked_at is not None:
        return None
    return VerifiedAccessToken(claims, record)


def revoke_family(family_id: str, now: datetime | None = None) -> None:
    """Revoke every refresh and access token of a family (reuse detected, or revocation)."""
    now = now or utcnow()
    db.session.execute(
        update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(IssuedAccessToken)
        .where(IssuedAccessToken.family_id == family_id, IssuedAccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_issued_by_code(code_hash: str, now: datetime | None = None) -> None:
    """RFC 6749 §4.1.2: a replayed code revokes what it issued."""
    now = now or utcnow()
    families = set(db.session.scalars(select(RefreshToken.family_id).where(RefreshToken.code_hash == code_hash)))
    db.session.execute(
        update(IssuedAccessToken)
        .where(or_(IssuedAccessToken.code_hash == code_hash, IssuedAccessToken.family_id.in_(families)))
        .values(revoked_at=now)
    )
    for family_id in families:
        revoke_family(family_id, now)


def revoke_session_tokens(sids: list[str], now: datetime | None = None) -> None:
    """Revoke the refresh and access tokens issued from the sessions ``sids`` (they ended)."""
    if not sids:
        return
    now = now or utcnow()
    db.session.execute(
        update(RefreshToken).where(RefreshToken.sid.in_(sids), RefreshToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    db.session.execute(
        update(IssuedAccessToken)
        .where(IssuedAccessToken.sid.in_(sids), IssuedAccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_access_token(jti: str, now: datetime | None = None) -> None:
    db.session.execute(
        update(IssuedAccessToken).where(IssuedAccessToken.jti == jti, IssuedAccessToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def consume_code(code: str, client_id: str, now: datetime | None = None) -> AuthorizationCode | None:
    """Redeem a code exactly once, across every node.

    The conditional UPDATE is the lock: of two concurrent redemptions only
    one changes the row. A code seen again is a replay: what it issued is
    revoked (committed at once, so the error answer cannot roll it back).
    """
    now = now or utcnow()
    code_hash = digest(code)
    # One round trip for the usual case: the claim returns the row.
    row = db.session.scalars(
        update(AuthorizationCode)
        .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.client_id == client_id,
               AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
        .returning(AuthorizationCode)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        # Unknown, another client's (left unclaimed and unrevoked), or used:
        # only a replay by the client it was issued to revokes.
        known = db.session.execute(
            select(AuthorizationCode.client_id).where(AuthorizationCode.code_hash == code_hash)
        ).scalar_one_or_none()
        if known is None or known != client_id:
            return None
        db.session.rollback()
        revoke_issued_by_code(code_hash, now)
        db.session.commit()
        return None
    if row.expires_at <= now:
        return None
    return row


def rotate_refresh_token(token: str, now: datetime | None = None) -> RefreshToken | None:
    """Claim a refresh token for rotation; detect reuse.

    Reuse of a token already rotated (or two nodes racing on one token)
    revokes the whole family: whoever holds a copy, attacker or client,
    must log in again (RFC 9700 §4.14.2).
    """
    now = now or utcnow()
    token_hash = digest(token)
    # One round trip for the usual case: the claim returns the row.
    row = db.session.scalars(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == token_hash,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(rotated_at=now)
        .returning(RefreshToken)
        .execution_options(populate_existing=True)
    ).first()
    if row is not None:
        return row
    seen = db.session.execute(
        select(RefreshToken.family_id, RefreshToken.rotated_at).where(RefreshToken.token_hash == token_hash)
    ).first()
    if seen is None:
        return None
    db.session.rollback()
    if seen.rotated_at is not None:
        revoke_family(seen.family_id, now)
        db.session.commit()
    return None
