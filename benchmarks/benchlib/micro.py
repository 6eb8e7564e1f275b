"""Rates measured without a server: the physical limits the served paths are compared with.

- argon2id verifications per second with the login's parameters, in as many
  processes as the server has workers (the ceiling for logins per second);
- access-token verifications per second, one process each: our relying-party
  library (``AccessTokenVerifier.verify``), a bare ``cryptography`` ECDSA
  check of the same token (signature only: the floor no library can beat),
  and the node ecosystem's ``jose`` (``jwtVerify``).
"""
from __future__ import annotations

import base64
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .servers import REPO

# The login's parameters (idp/accounts/passwords.py, OWASP's argon2id
# recommendation): the raw rate is measured with exactly these.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_COST = 19 * 1024
ARGON2_PARALLELISM = 1


def _argon2_worker(seconds: float, start_at: float, queue) -> None:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_COST,
                            parallelism=ARGON2_PARALLELISM)
    password = "bench-Mot-de-passe-2026!"
    stored = hasher.hash(password)
    while time.time() < start_at:
        time.sleep(0.001)
    started = time.perf_counter()
    count = 0
    while time.perf_counter() - started < seconds:
        hasher.verify(stored, password)
        count += 1
    queue.put((count, time.perf_counter() - started))


def argon2_rate(processes: int, seconds: float) -> float:
    """argon2id verifications per second, all ``processes`` hashing at once."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 0.5
    workers = [context.Process(target=_argon2_worker, args=(seconds, start_at, queue)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join()
    return round(sum(count / elapsed for count, elapsed in results), 1)


def _loop(function, seconds: float) -> float:
    function()  # a set-up error shows here, not as a rate
    count, started = 0, time.perf_counter()
    while True:
        for _ in range(50):
            function()
        count += 50
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return round(count / elapsed, 1)


def rp_library_rate(token: str, issuer: str, audience: str, jwks_uri: str, seconds: float) -> float:
    """``AccessTokenVerifier.verify`` per second, keys cached as a relying site has them."""
    try:
        from comptexpert_rp import AccessTokenVerifier, JWKSCache
    except ImportError:  # not installed (make install does it): the library from the checkout
        sys.path.insert(0, str(REPO / "rp"))
        from comptexpert_rp import AccessTokenVerifier, JWKSCache

    verifier = AccessTokenVerifier(issuer, audience, JWKSCache(jwks_uri))
    return _loop(lambda: verifier.verify(token), seconds)


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_of(jwk: dict):
    from cryptography.hazmat.primitives.asymmetric import ec

    numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(_b64decode(jwk["x"]), "big"),
                                            int.from_bytes(_b64decode(jwk["y"]), "big"), ec.SECP256R1())
    return numbers.public_key()


def raw_signature_rate(token: str, jwk: dict, seconds: float) -> float:
    """A bare ES256 signature check of ``token`` with ``cryptography`` per second.

    Only what cannot be skipped: split the token, decode the signature, turn
    the JWS form (r‖s) into DER, verify. No claim is read.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = public_key_of(jwk)
    algorithm = ec.ECDSA(hashes.SHA256())

    def verify():
        signing_input, _, signature = token.rpartition(".")
        raw = _b64decode(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, signing_input.encode(), algorithm)

    return _loop(verify, seconds)


def jose_rate(node: str, peer_dir: Path, token: str, jwk: dict, issuer: str, audience: str, seconds: float) -> float:
    """node ``jose`` ``jwtVerify`` of the same token per second (benchmarks/peer/verify.js)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"token": token, "jwk": jwk, "issuer": issuer, "audience": audience}, handle)
        path = handle.name
    try:
        result = subprocess.run([node, "verify.js", path, str(seconds)], cwd=peer_dir, capture_output=True,
                                text=True, timeout=seconds + 60)
    finally:
        Path(path).unlink()
    if result.returncode != 0:
        raise RuntimeError(f"jose verify failed: {result.stderr[-1500:]}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return round(data["ops"] / data["seconds"], 1)
