"""The provider's signing keys, fetched from its ``jwks_uri`` (RFC 7517 §5)
and cached by ``kid``."""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWTError

from .errors import KeySetUnavailable, UnknownKeyError

__all__ = ["JWKSCache", "HttpGet"]

log = logging.getLogger(__name__)

#: ``http_get(url, timeout) -> bytes``: fetches a URL, returns the body of a
#: 200 answer, raises ``OSError`` (``urllib.error.URLError`` is one) otherwise.
HttpGet = Callable[[str, float], bytes]

# A JWKS is a few kilobytes; refusing more bounds the memory a hostile or
# broken endpoint can make us use.
MAX_JWKS_BYTES = 512 * 1024

# Key types a provider may sign with. "oct" (a shared secret) must never come
# from a public JWKS: anyone who can read the set could then forge tokens.
_ASYMMETRIC_KTY = frozenset({"EC", "RSA", "OKP"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Following redirects could downgrade https to http or leave the
    # provider's host; a JWKS endpoint has no reason to redirect.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def urllib_get(url: str, timeout: float) -> bytes:
    """Default :data:`HttpGet`: a GET with urllib, no redirects, size-capped."""
    request = urllib.request.Request(
        url, headers={"Accept": "application/jwk-set+json, application/json"}
    )
    with _opener.open(request, timeout=timeout) as response:
        if response.status != 200:
            raise urllib.error.URLError(f"HTTP {response.status}")
        body = response.read(MAX_JWKS_BYTES + 1)
    if len(body) > MAX_JWKS_BYTES:
        raise urllib.error.URLError("JWKS larger than %d bytes" % MAX_JWKS_BYTES)
    return body


def check_jwks_uri(jwks_uri: str) -> None:
    """Refuse a ``jwks_uri`` that is not https, except on the loopback.

    Keys fetched over plain http could be swapped by anyone on the path, who
    could then sign tokens of their own; loopback http is allowed for tests
    and local development only.
    """
    parsed = urllib.parse.urlsplit(jwks_uri)
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and parsed.hostname:
        if parsed.hostname == "localhost":
            return
        try:
            if ipaddress.ip_address(parsed.hostname).is_loopback:
                return
        except ValueError:
            pass
    raise ValueError(f"jwks_uri must be an https URL (http only on loopback): {jwks_uri!r}")


def parse_jwks(document: Any) -> dict[str, PyJWK]:
    """Turn a JWKS document into ``{kid: PyJWK}``, keeping only signing keys.

    Keys without ``kid``, with ``use`` other than ``sig``, symmetric keys and
    keys PyJWT cannot load are skipped (and logged) rather than failing the
    whole set, so that one exotic key does not lock every token out.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeySetUnavailable("JWKS document has no 'keys' list")
    keys: dict[str, PyJWK] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            log.warning("JWKS: skipping a key without kid")
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        if jwk.get("kty") not in _ASYMMETRIC_KTY:
            log.warning("JWKS: skipping key %r of type %r", kid, jwk.get("kty"))
            continue
        if kid in keys:
            # Two keys under one kid would make the choice of key depend on
            # document order; refuse to guess.
            log.warning("JWKS: duplicate kid %r, ignoring both", kid)
            keys[kid] = None  # type: ignore[assignment]
            continue
        try:
            keys[kid] = PyJWK(jwk)
        except PyJWTError as exc:
            log.warning("JWKS: skipping key %r: %s", kid, exc)
    return {kid: key for kid, key in keys.items() if key is not None}


class JWKSCache:
    """The provider's public keys, fetched lazily and cached by ``kid``.

    An unknown ``kid`` (the provider rotated its keys) triggers a refetch, at
    most once per ``min_refetch_interval`` seconds: tokens carrying made-up
    ``kid`` values must not turn this process into an amplifier against the
    provider. Within the interval an unknown ``kid`` fails at once, without a
    network call. The whole set is also refreshed when older than ``max_age``
    so that keys the provider withdrew stop being accepted.

    Thread-safe: lookups of known keys take no lock; fetches are serialised so
    that a burst of requests after a rotation causes a single fetch.
    """

    def __init__(
        self,
        jwks_uri: str,
        min_refetch_interval: float = 60,
        http_get: HttpGet | None = None,
        *,
        max_age: float = 3600,
        timeout: float = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_jwks_uri(jwks_uri)
        self.jwks_uri = jwks_uri
        self.min_refetch_interval = min_refetch_interval
        self.max_age = max_age
        self.timeout = timeout
        self._http_get = http_get or urllib_get
        self._clock = clock
        self._lock = threading.Lock()
        # Replaced wholesale, never mutated, so readers need no lock.
        self._keys: Mapping[str, PyJWK] | None = None
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last attempt, successful or not

    @property
    def keys(self) -> Mapping[str, PyJWK]:
        """The keys currently cached (read-only, possibly empty)."""
        return self._keys or MappingProxyType({})

    def get_key(self, kid: str) -> PyJWK:
        """Return the key with this ``kid``, fetching the JWKS if needed.

        Raises :class:`UnknownKeyError` if the provider does not publish it
        (or a refetch is throttled), :class:`KeySetUnavailable` if the JWKS
        has never been fetched successfully and cannot be now.
        """
        keys, fetched_at = self._keys, self._fetched_at
        if keys is not None and kid in keys and not self._is_stale(fetched_at):
            return keys[kid]
        with self._lock:
            now = self._clock()
            # Another thread may have fetched while we waited for the lock.
            if self._keys is not None and self._is_stale(self._fetched_at) and self._may_fetch(now):
                try:
                    self._fetch(now)
                except KeySetUnavailable as exc:
                    # Keep serving the keys we have: an outage at the
                    # provider should not take every relying site down.
                    log.warning("JWKS refresh failed, keeping cached keys: %s", exc.detail)
            if self._keys is not None and kid in self._keys:
                return self._keys[kid]
            if not self._may_fetch(now):
                if self._keys is None:
                    raise KeySetUnavailable("JWKS fetch failed recently, retry throttled")
                raise UnknownKeyError(f"kid {kid!r} unknown, refetch throttled")
            self._fetch(now)
            if kid in self._keys:  # type: ignore[operator]
                return self._keys[kid]  # type: ignore[index]
            raise UnknownKeyError(f"kid {kid!r} not in the provider's JWKS")

    def refresh(self) -> None:
        """Fetch the JWKS now, ignoring throttling (e.g. at start-up)."""
        with self._lock:
            self._fetch(self._clock())

    def _is_stale(self, fetched_at: float | None) -> bool:
        return fetched_at is None or self._clock() - fetched_at >= self.max_age

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refetch_interval

    def _fetch(self, now: float) -> None:
        # Record the attempt first: a failing endpoint is throttled too.
        self._attempted_at = now
        try:
            body = self._http_get(self.jwks_uri, self.timeout)
            document = json.loads(body)
        except (OSError, ValueError) as exc:
            raise KeySetUnavailable(f"cannot fetch {self.jwks_uri}: {exc}") from exc
        self._keys = MappingProxyType(parse_jwks(document))
        self._fetched_at = now
        log.info("JWKS fetched from %s: %s", self.jwks_uri, sorted(self._keys))
