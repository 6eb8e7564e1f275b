"""Verification of a signed JWT against the provider's JWKS, shared by access
tokens (RFC 9068) and pushed events (RFC 8417, Back-Channel Logout).

This is the one place where PyJWT exceptions become :class:`TokenError`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import jwt
from jwt import exceptions as jwt_exc

from .errors import TokenError
from .jwks import JWKSCache

# Only asymmetric algorithms: the keys come from a public JWKS, and an HMAC
# "verified" with a public key proves nothing (the classic RS256/HS256
# confusion). "none" is obviously out.
SUPPORTED_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}
)

# Tokens are a few kilobytes; refusing huge ones before base64/JSON decoding
# bounds the work an anonymous caller can make us do.
MAX_TOKEN_BYTES = 64 * 1024

# PyJWT exceptions to reasons, most specific first (InvalidSignatureError is a
# DecodeError, ExpiredSignatureError an InvalidTokenError...).
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt_exc.InvalidSignatureError, "signature"),
    (jwt_exc.ExpiredSignatureError, "expired"),
    (jwt_exc.ImmatureSignatureError, "not_yet_valid"),
    (jwt_exc.InvalidAudienceError, "audience"),
    (jwt_exc.InvalidIssuerError, "issuer"),
    (jwt_exc.MissingRequiredClaimError, "missing_claim"),
    (jwt_exc.InvalidAlgorithmError, "algorithm"),
    (jwt_exc.InvalidIssuedAtError, "claims"),
    (jwt_exc.InvalidSubjectError, "claims"),
    (jwt_exc.InvalidJTIError, "claims"),
    (jwt_exc.InvalidKeyError, "key"),
    (jwt_exc.PyJWKError, "key"),
)


def check_algorithms(algorithms: Sequence[str]) -> tuple[str, ...]:
    """Validate a configured algorithm list; refuse symmetric ones and none."""
    algorithms = tuple(algorithms)
    if not algorithms:
        raise ValueError("at least one algorithm is required")
    refused = [alg for alg in algorithms if alg not in SUPPORTED_ALGORITHMS]
    if refused:
        raise ValueError(f"algorithms not accepted (asymmetric only): {refused}")
    return algorithms


def media_type_matches(typ: Any, expected: str) -> bool:
    """Compare a JOSE ``typ`` to ``expected`` (e.g. ``at+jwt``).

    RFC 7515 §4.1.9: media types compare case-insensitively and the
    ``application/`` prefix may be omitted.
    """
    if not isinstance(typ, str):
        return False
    typ = typ.strip().lower()
    if typ.startswith("application/"):
        typ = typ[len("application/") :]
    return typ == expected


def translate(exc: jwt_exc.PyJWTError) -> TokenError:
    """Map a PyJWT exception to a :class:`TokenError` with a reason."""
    for cls, reason in _REASONS:
        if isinstance(exc, cls):
            return TokenError(reason, str(exc))
    return TokenError("malformed", str(exc))


def decode(
    token: str | bytes,
    *,
    jwks: JWKSCache,
    algorithms: Collection[str],
    typ: str,
    issuer: str,
    audience: str,
    require: Sequence[str],
    leeway: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify ``token`` and return ``(header, claims)``.

    Order matters: everything that can be decided from the header (size,
    ``alg``, ``typ``, ``kid``) is checked before any key is looked up, so a
    forged header costs us neither a JWKS fetch nor a signature check.
    """
    if isinstance(token, str):
        token = token.encode("ascii", "replace")
    if not token or len(token) > MAX_TOKEN_BYTES:
        raise TokenError("malformed", "empty or oversized token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt_exc.PyJWTError as exc:
        raise translate(exc) from exc

    alg = header.get("alg")
    # Never let the token choose the algorithm (RFC 8725 §2.1, §3.1): it must
    # be one we configured, and "none" never is.
    if not isinstance(alg, str) or alg not in algorithms:
        raise TokenError("algorithm", f"alg {alg!r} not in {sorted(algorithms)}")
    # Explicit typing (RFC 8725 §3.11) is what stops an ID token, a logout
    # token or any other JWT from this provider being replayed as another kind.
    if not media_type_matches(header.get("typ"), typ):
        raise TokenError("typ", f"typ {header.get('typ')!r}, expected {typ!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenError("malformed", "no kid in header")

    key = jwks.get_key(kid)
    # The key decides the algorithm, not the header: a key published for
    # ES256 must not verify an RS256 or PS256 signature, whatever the token
    # claims.
    if key.algorithm_name != alg:
        raise TokenError("algorithm", f"alg {alg!r} but key {kid!r} is {key.algorithm_name!r}")

    try:
        # Every option spelled out, to assert the intended behaviour rather
        # than inherit PyJWT's defaults.
        decoded = jwt.decode_complete(
            token,
            key=key,
            algorithms=[alg],
            options={
                "verify_signature": True,
                "verify_exp": True,
                "verify_nbf": True,
                "verify_iat": True,
                "verify_aud": True,
                "verify_iss": True,
                "verify_sub": True,
                "verify_jti": True,
                # One audience per token, a plain string (RFC 8707 resource
                # indicators): a token valid for several sites could be
                # replayed by any of them at the others.
                "strict_aud": True,
                # Refuse short RSA keys instead of merely warning.
                "enforce_minimum_key_length": True,
                "require": list(require),
            },
            audience=audience,
            issuer=issuer,
            leeway=leeway,
        )
    except jwt_exc.PyJWTError as exc:
        raise translate(exc) from exc
    return decoded["header"], decoded["payload"]
