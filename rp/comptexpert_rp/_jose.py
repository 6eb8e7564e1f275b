"""Verification of a signed JWT against the provider's JWKS, shared by access
tokens (RFC 9068) and pushed events (RFC 8417, Back-Channel Logout).

This is the one place where PyJWT exceptions become :class:`TokenError`.
"""

from __future__ import annotations

import binascii
import json
import time
from collections.abc import Collection, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwt import PyJWK
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


# The base64url alphabet (RFC 4648 §5), without padding: a JWS compact
# serialisation never pads (RFC 7515 §2, §7.1).
_BASE64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")

# A segment whose length is 2 or 3 modulo 4 ends in a character carrying 4 or
# 2 unused bits; only the characters with those bits at zero are canonical.
# Refusing the others means one token has exactly one spelling (PyJWT does the
# same by re-encoding and comparing).
_CANONICAL_LAST = {2: frozenset(b"AQgw"), 3: frozenset(b"AEIMQUYcgkosw048")}
_PADDING = {0: b"", 2: b"==", 3: b"="}


def _b64decode(segment: bytes, name: str) -> bytes:
    # Written by hand rather than left to PyJWT: PyJWT 2.15 checks the
    # alphabet character by character in a Python generator, which cost ~40 %
    # of a verification (more for larger tokens, docs/benchmarks.md item 8).
    # Deleting every alphabet character with bytes.translate does the same
    # check in C: anything left over is outside the alphabet. Padding ("=")
    # is refused: the compact serialisation has none, and accepting it would
    # give a token two spellings.
    remainder = len(segment) % 4
    if (
        remainder == 1
        or segment.translate(None, _BASE64URL_ALPHABET)
        or (remainder and segment[-1] not in _CANONICAL_LAST[remainder])
    ):
        raise jwt_exc.DecodeError(f"Invalid {name} padding")
    return binascii.a2b_base64(segment.translate(_URLSAFE_TO_STANDARD) + _PADDING[remainder])


# JSON in a JWT is UTF-8 (RFC 7519 §7.2, RFC 8259 §8.1): decoding it as such
# and calling a decoder made once skips json.loads's encoding detection.
_json_decode = json.JSONDecoder().decode


def _load_json(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = _json_decode(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise jwt_exc.DecodeError(f"Invalid {name} string: {exc}") from exc
    if not isinstance(value, dict):
        raise jwt_exc.DecodeError(f"Invalid {name} string: must be a json object")
    return value


def _parse(token: bytes) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """Split and decode a compact JWS: ``(header, signing_input, payload, signature)``.

    The payload stays bytes: its JSON is parsed only once the signature holds.
    """
    signing_input, dot, signature_segment = token.rpartition(b".")
    header_segment, dot2, payload_segment = signing_input.partition(b".")
    if not dot or not dot2:
        raise jwt_exc.DecodeError("Not enough segments")
    header = _load_json(_b64decode(header_segment, "header"), "header")
    if "crit" in header:
        # RFC 7515 §4.1.11: a critical extension we do not implement must be
        # refused, and we implement none (b64=false needs a detached payload,
        # which access tokens and events never have).
        raise jwt_exc.InvalidTokenError("Unsupported critical extension")
    if header.get("b64", True) is False:
        raise jwt_exc.InvalidTokenError("Unencoded payloads (b64 false) are not supported")
    payload = _b64decode(payload_segment, "payload")
    signature = _b64decode(signature_segment, "crypto")
    return header, signing_input, payload, signature


def _numeric_date(
    claims: dict[str, Any], name: str, error: type[jwt_exc.PyJWTError], message: str
) -> int:
    try:
        return int(claims[name])
    except (ValueError, TypeError, OverflowError):
        raise error(message) from None


def validate_claims(
    claims: dict[str, Any],
    *,
    issuer: str,
    audience: str,
    require: Sequence[str],
    leeway: float,
    now: float | None = None,
) -> None:
    """Check the registered claims as ``jwt.decode`` does with every
    verification on, ``strict_aud`` and ``require``; raise PyJWT's exceptions
    (same classes, same messages) so that :func:`translate` maps them.

    By hand because the claims are parsed here once, after the signature
    check; PyJWT would re-parse the whole token to get to them.
    """
    for name in require:
        if claims.get(name) is None:
            raise jwt_exc.MissingRequiredClaimError(name)
    now = time.time() if now is None else now
    if "iat" in claims:
        iat = _numeric_date(
            claims, "iat", jwt_exc.InvalidIssuedAtError, "Issued At claim (iat) must be an integer."
        )
        if iat > now + leeway:
            raise jwt_exc.ImmatureSignatureError("The token is not yet valid (iat)")
    if "nbf" in claims:
        nbf = _numeric_date(
            claims, "nbf", jwt_exc.DecodeError, "Not Before claim (nbf) must be an integer."
        )
        if nbf > now + leeway:
            raise jwt_exc.ImmatureSignatureError("The token is not yet valid (nbf)")
    if "exp" in claims:
        exp = _numeric_date(
            claims, "exp", jwt_exc.DecodeError, "Expiration Time claim (exp) must be an integer."
        )
        if exp <= now - leeway:
            raise jwt_exc.ExpiredSignatureError("Signature has expired")
    if "iss" not in claims:
        raise jwt_exc.MissingRequiredClaimError("iss")
    if not isinstance(claims["iss"], str):
        raise jwt_exc.InvalidIssuerError("Payload Issuer (iss) must be a string")
    if claims["iss"] != issuer:
        raise jwt_exc.InvalidIssuerError("Invalid issuer")
    # One audience per token, a plain string (RFC 8707 resource indicators):
    # a token valid for several sites could be replayed by any of them at the
    # others.
    aud = claims.get("aud")
    if not aud:
        raise jwt_exc.MissingRequiredClaimError("aud")
    if not isinstance(audience, str):
        raise jwt_exc.InvalidAudienceError("Invalid audience (strict)")
    if not isinstance(aud, str):
        raise jwt_exc.InvalidAudienceError("Invalid claim format in token (strict)")
    if aud != audience:
        raise jwt_exc.InvalidAudienceError("Audience doesn't match (strict)")
    if "sub" in claims and not isinstance(claims["sub"], str):
        raise jwt_exc.InvalidSubjectError("Subject must be a string")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise jwt_exc.InvalidJTIError("JWT ID must be a string")


# The algorithms Comptexpert signs with, checked with cryptography directly:
# PyJWT's wrappers (key preparation, a new ECDSA object, its own r||s to DER
# conversion) cost a few microseconds per token, a tenth of what a relying
# site's verification may take on top of the bare signature check.
_ECDSA = {
    "ES256": (ec.SECP256R1, 32, ec.ECDSA(hashes.SHA256())),
    "ES384": (ec.SECP384R1, 48, ec.ECDSA(hashes.SHA384())),
    "ES512": (ec.SECP521R1, 66, ec.ECDSA(hashes.SHA512())),
}
_RSA_PKCS1 = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
# PyJWT's minimum (NIST SP 800-131A); shorter keys take the general path,
# which refuses them with PyJWT's message.
_MIN_RSA_BITS = 2048


def verify_signature(key: PyJWK, signing_input: bytes, signature: bytes) -> None:
    """Check ``signature`` with ``key`` and the key's own algorithm.

    ES256/384/512 and RS256/384/512 with a public key of the expected kind
    are checked with ``cryptography`` directly; anything else (PS256,
    EdDSA, a short RSA key, a curve not matching the algorithm...) goes
    through PyJWT's algorithm object, which refuses short keys.
    """
    public_key, alg = key.key, key.algorithm_name
    try:
        if alg in _ECDSA:
            curve, size, ecdsa = _ECDSA[alg]
            if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(
                public_key.curve, curve
            ):
                if len(signature) != 2 * size:
                    raise jwt_exc.InvalidSignatureError("Signature verification failed")
                # JWS carries r||s (RFC 7518 §3.4), cryptography wants DER.
                der = encode_dss_signature(
                    int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
                )
                public_key.verify(der, signing_input, ecdsa)
                return
        elif alg in _RSA_PKCS1:
            if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size >= _MIN_RSA_BITS:
                public_key.verify(signature, signing_input, padding.PKCS1v15(), _RSA_PKCS1[alg])
                return
    except InvalidSignature:
        raise jwt_exc.InvalidSignatureError("Signature verification failed") from None
    algorithm = key.Algorithm
    prepared = algorithm.prepare_key(public_key)
    # Refuse short RSA keys instead of merely warning.
    message = algorithm.check_key_length(prepared)
    if message:
        raise jwt_exc.InvalidKeyError(message)
    if not algorithm.verify(signing_input, prepared, signature):
        raise jwt_exc.InvalidSignatureError("Signature verification failed")


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

    The token is parsed once, here, rather than by ``jwt.get_unverified_header``
    then ``jwt.decode_complete`` (which parsed it twice and validated base64
    in Python): that halved the verifications per second (docs/benchmarks.md,
    item 8). The checks are PyJWT's, with its exception classes and messages.
    """
    if isinstance(token, str):
        token = token.encode("ascii", "replace")
    if not token or len(token) > MAX_TOKEN_BYTES:
        raise TokenError("malformed", "empty or oversized token")
    try:
        header, signing_input, payload, signature = _parse(token)
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
        verify_signature(key, signing_input, signature)
        claims = _load_json(payload, "payload")
        validate_claims(claims, issuer=issuer, audience=audience, require=require, leeway=leeway)
    except jwt_exc.PyJWTError as exc:
        raise translate(exc) from exc
    return header, claims
