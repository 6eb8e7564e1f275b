"""Factories for the tests: real keys, a real JWKS server on 127.0.0.1,
hand-made and PyJWT-signed tokens. Fixtures built on them are in conftest.

Nothing of the HTTP layer is mocked: the JWKS is served by ``http.server``
in a thread and fetched with urllib. Only time is controlled, through the
clocks the library accepts.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


ISSUER = "https://comptexpert.experts-comptables.org"
AUDIENCE = "https://jesignexpert.com"
CLIENT_ID = "jesignexpert"
EXPERT = "pub09HP9"
COLLABORATOR = "pub7QX2a"
SIRET = "44523611200025"
OTHER_SIRET = "73282932000074"

ALGORITHMS = ("ES256", "RS256")


# -- keys -------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    alg: str
    kid: str
    private_key: Any = field(repr=False)

    @property
    def public_jwk(self) -> dict[str, Any]:
        algorithm = ECAlgorithm if self.alg.startswith("ES") else RSAAlgorithm
        jwk = algorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    @property
    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@functools.lru_cache(maxsize=None)
def make_key(alg: str, kid: str, rsa_bits: int = 2048) -> SigningKey:
    """A key pair, generated once per (alg, kid) for the whole session."""
    if alg == "ES256":
        private_key = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    else:
        raise ValueError(alg)
    return SigningKey(alg, kid, private_key)


# -- JWKS server ----------------------------------------------------------------


class JWKSServer:
    """A JWKS endpoint on 127.0.0.1, in a thread; counts the fetches."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.status = 200
        self.fetches = 0
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.fetches += 1
                if server.delay:
                    time.sleep(server.delay)
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/jwk-set+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        # A short poll interval keeps shutdown() (one per test) quick.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)

    def publish(self, *keys: SigningKey) -> None:
        self.keys = [key.public_jwk for key in keys]


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- tokens -------------------------------------------------------------------------


def b64url(data: bytes | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def craft(header: dict, payload: dict, signature: bytes = b"") -> str:
    """A JWT assembled by hand, for tokens PyJWT would refuse to produce."""
    return f"{b64url(header)}.{b64url(payload)}.{b64url(signature)}"


def access_claims(**overrides: Any) -> dict[str, Any]:
    """Claims of a valid access token for an expert with a delegation."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": EXPERT,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "client_id": CLIENT_ID,
        "scope": "openid jesignexpert",
        "auth_time": now - 60,
        "acr": "eidas2",
        "amr": ["pwd", "otp"],
        "sid": "sess-1",
        "authorization_details": [
            {"type": "jesignexpert", "actions": ["signer", "sceller"], "firms": [{"siret": SIRET}]},
            {"type": "ordre", "actions": ["site_prive"], "firms": [{"siret": SIRET}]},
        ],
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], key: SigningKey, typ: str | None = "at+jwt", **header: Any) -> str:
    headers = {"kid": key.kid, **header}
    if typ is not None:
        headers["typ"] = typ
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers=headers)


# -- events -------------------------------------------------------------------------

CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
SESSION_REVOKED = CAEP + "session-revoked"
TOKEN_CLAIMS_CHANGE = CAEP + "token-claims-change"
BACKCHANNEL_LOGOUT = "http://schemas.openid.net/event/backchannel-logout"


def event_claims(events: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "events": events,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


class FromNow:
    """A time relative to when the test runs, for parametrize lists.

    A parametrize list is built at collection; a time computed there is
    minutes old by the time the test runs in a long suite.
    """

    def __init__(self, seconds: int):
        self.seconds = seconds


def at_run_time(overrides: dict) -> dict:
    """``overrides`` with every :class:`FromNow` turned into epoch seconds now."""
    now = int(time.time())
    return {k: now + v.seconds if isinstance(v, FromNow) else v for k, v in overrides.items()}
