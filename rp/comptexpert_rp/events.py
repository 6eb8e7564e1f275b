"""Security events pushed by Comptexpert to a relying site.

Two deliveries, one receiver:

- Security Event Tokens (RFC 8417) carrying CAEP ``token-claims-change`` or
  ``session-revoked``, POSTed as ``application/secevent+jwt`` and answered
  202 (RFC 8935 §2);
- OpenID Connect Back-Channel Logout tokens, POSTed as a form field
  ``logout_token`` and answered 200 (Back-Channel Logout §2.5, §2.8).

Each token is verified (signature, ``typ``, ``iss``, ``aud``, ``iat`` not too
old, required claims), checked against a ``jti`` replay cache, parsed into a
:class:`SecurityEvent` and handed to ``on_event``. The site then drops its
sessions or cached rights for that person or session.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from . import _jose
from .errors import EventError, KeySetUnavailable, TokenError
from .jwks import JWKSCache

__all__ = [
    "EVENT_TYPES",
    "BACKCHANNEL_LOGOUT",
    "SecurityEvent",
    "ReplayCache",
    "MemoryReplayCache",
    "EventResponse",
    "EventReceiver",
]

log = logging.getLogger(__name__)

CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
#: Event type URIs understood in SETs, and the ``kind`` they become.
EVENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        CAEP + "token-claims-change": "token-claims-change",
        CAEP + "session-revoked": "session-revoked",
    }
)
BACKCHANNEL_LOGOUT = "http://schemas.openid.net/event/backchannel-logout"

SET_TYP = "secevent+jwt"  # RFC 8417 §2.3
LOGOUT_TYP = "logout+jwt"  # Back-Channel Logout §2.4
REQUIRED_CLAIMS = ("iss", "aud", "iat", "jti", "events")

MAX_BODY_BYTES = 64 * 1024

# RFC 8935 §2.4 error codes for token verification failures, by reason.
_ERR_BY_REASON = {
    "issuer": "invalid_issuer",
    "audience": "invalid_audience",
    "unknown_key": "invalid_key",
    "key": "invalid_key",
    "signature": "invalid_key",
    "algorithm": "invalid_key",
}


@dataclass(frozen=True)
class SecurityEvent:
    """A verified event.

    ``kind`` is ``token-claims-change``, ``session-revoked`` or
    ``backchannel-logout``; ``sub`` the person's identifiant and ``sid`` the
    provider's session id (either may be None, not both). ``raw`` is the
    whole verified claims set. ``replayed`` is True when this ``jti`` was
    already received: the event was then ignored.
    """

    kind: str
    sub: str | None
    sid: str | None
    jti: str
    raw: Mapping[str, Any] = field(repr=False)
    replayed: bool = False

    @property
    def payload(self) -> Mapping[str, Any]:
        """The event's own object inside ``events`` (e.g. changed ``claims``)."""
        events = self.raw.get("events", {})
        if self.kind == "backchannel-logout":
            return events.get(BACKCHANNEL_LOGOUT, {})
        for uri, kind in EVENT_TYPES.items():
            if kind == self.kind:
                return events.get(uri, {})
        return {}


class ReplayCache(Protocol):
    """Where seen ``jti`` values are remembered.

    The default is in-process memory; with several worker processes plug in a
    shared store (e.g. Redis ``SET key 1 NX EX ttl``) so that a replay sent to
    another worker is still caught.
    """

    def add(self, key: str, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds; False if already present."""

    def discard(self, key: str) -> None:
        """Forget ``key`` (processing failed, so a retry must be accepted)."""


class MemoryReplayCache:
    """Thread-safe in-memory :class:`ReplayCache` with expiry."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def add(self, key: str, ttl: float) -> bool:  # noqa: D102
        with self._lock:
            now = self._clock()
            # Purge as we go: the cache holds at most one window of events.
            self._expiry = {k: t for k, t in self._expiry.items() if t > now}
            if key in self._expiry:
                return False
            self._expiry[key] = now + ttl
            return True

    def discard(self, key: str) -> None:  # noqa: D102
        with self._lock:
            self._expiry.pop(key, None)

    def __len__(self) -> int:
        return len(self._expiry)


class EventResponse(NamedTuple):
    """What to answer: ``status`` and ``body`` (JSON bytes, or empty)."""

    status: int
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        """Headers to send with it."""
        # Back-Channel Logout §2.8: responses should not be cached.
        headers = {"Cache-Control": "no-store"}
        if self.body:
            headers["Content-Type"] = "application/json"
        return headers


def _json(**members: Any) -> bytes:
    return json.dumps(members).encode()


class EventReceiver:
    """Receives SETs and logout tokens for one client of the provider.

    ``audience`` is the relying site's ``client_id``; ``jwks`` a
    :class:`JWKSCache` (or the provider's ``jwks_uri``). ``on_event`` is
    called with each new :class:`SecurityEvent`. Tokens whose ``iat`` is
    older than ``max_age`` seconds (plus ``leeway``) are refused, which bounds
    how long a ``jti`` must be remembered.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks: JWKSCache | str,
        on_event: Callable[[SecurityEvent], Any] | None = None,
        *,
        algorithms: Sequence[str] = ("ES256", "RS256"),
        max_age: float = 300,
        leeway: float = 30,
        replay_cache: ReplayCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks = JWKSCache(jwks) if isinstance(jwks, str) else jwks
        self.on_event = on_event
        self.algorithms = _jose.check_algorithms(algorithms)
        self.max_age = max_age
        self.leeway = leeway
        self.replay_cache: ReplayCache = replay_cache or MemoryReplayCache()
        self._clock = clock

    # -- verification ---------------------------------------------------------

    def _decode(self, token: str | bytes, typ: str) -> dict[str, Any]:
        try:
            _header, claims = _jose.decode(
                token,
                jwks=self.jwks,
                algorithms=self.algorithms,
                typ=typ,
                issuer=self.issuer,
                audience=self.audience,
                require=REQUIRED_CLAIMS,
                leeway=self.leeway,
            )
            # Events carry no exp as a rule; iat is what limits a replay
            # window, and bounds the replay cache.
            iat = claims["iat"]
            if not isinstance(iat, (int, float)) or isinstance(iat, bool):
                raise TokenError("claims", "iat is not a number")
            if self._clock() - iat > self.max_age + self.leeway:
                raise TokenError("too_old", f"iat {claims['iat']}")
        except TokenError as exc:
            raise EventError(
                _ERR_BY_REASON.get(exc.reason, "invalid_request"), exc.description, exc.detail
            ) from exc
        if not isinstance(claims["events"], dict):
            raise EventError("invalid_request", "The events claim is not an object")
        return claims

    def _subject(self, claims: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
        # CAEP puts the subject in the event (RFC 9493 formats); newer SSF
        # drafts use a top-level sub_id. Only formats naming our users.
        subject = payload.get("subject", claims.get("sub_id"))
        if subject is None:
            return None
        if isinstance(subject, dict):
            fmt = subject.get("format")
            if fmt == "opaque" and isinstance(subject.get("id"), str):
                return subject["id"]
            # An iss_sub from another issuer names someone else's user: the
            # same sub string could be one of ours.
            if fmt == "iss_sub" and subject.get("iss") == self.issuer:
                if isinstance(subject.get("sub"), str):
                    return subject["sub"]
        raise EventError("invalid_request", "The event subject is not supported")

    def verify_set(self, token: str | bytes) -> SecurityEvent | None:
        """Verify a SET; None if it carries an event type we do not handle.

        Raises :class:`EventError` (RFC 8935 error codes) or
        :class:`KeySetUnavailable`. Does not check replays.
        """
        claims = self._decode(token, SET_TYP)
        events = claims["events"]
        # CAEP SETs carry one event each; several would leave us guessing
        # which subject and session each statement is about.
        if len(events) != 1:
            raise EventError("invalid_request", "The SET must carry exactly one event")
        ((uri, payload),) = events.items()
        if not isinstance(payload, dict):
            raise EventError("invalid_request", "The event payload is not an object")
        kind = EVENT_TYPES.get(uri)
        if kind is None:
            log.info("ignoring SET %s of unsupported type %s", claims["jti"], uri)
            return None
        sub = self._subject(claims, payload)
        sid = payload.get("sid")
        if sid is not None and not isinstance(sid, str):
            raise EventError("invalid_request", "The event sid is not a string")
        if sub is None and sid is None:
            raise EventError("invalid_request", "The event names no subject")
        return SecurityEvent(kind, sub, sid, claims["jti"], MappingProxyType(claims))

    def verify_logout_token(self, token: str | bytes) -> SecurityEvent:
        """Verify a Back-Channel Logout token (§2.6), except the jti check.

        Raises :class:`EventError` or :class:`KeySetUnavailable`.
        """
        claims = self._decode(token, LOGOUT_TYP)
        if not isinstance(claims["events"].get(BACKCHANNEL_LOGOUT), dict):
            raise EventError("invalid_request", "The token is not a logout token")
        # A nonce marks an ID token: refusing it stops an ID token being
        # passed off as a logout token (Back-Channel Logout §2.4, §4.1).
        if "nonce" in claims:
            raise EventError("invalid_request", "A logout token must not contain a nonce")
        sub, sid = claims.get("sub"), claims.get("sid")
        if sub is not None and not isinstance(sub, str):
            raise EventError("invalid_request", "The token sub is not a string")
        if sid is not None and not isinstance(sid, str):
            raise EventError("invalid_request", "The token sid is not a string")
        if sub is None and sid is None:
            raise EventError("invalid_request", "A logout token needs a sub or a sid")
        return SecurityEvent("backchannel-logout", sub, sid, claims["jti"], MappingProxyType(claims))

    # -- reception --------------------------------------------------------------

    def receive(self, token: str | bytes, *, logout: bool = False) -> SecurityEvent | None:
        """Verify a SET (or, with ``logout=True``, a logout token), drop
        replays, and call ``on_event`` with new events.

        Returns the event, with ``replayed=True`` if its ``jti`` was already
        seen (``on_event`` is then not called); None for an unsupported SET
        event type. If ``on_event`` raises, the ``jti`` is forgotten so the
        provider's retry is processed, and the exception propagates.
        """
        event = self.verify_logout_token(token) if logout else self.verify_set(token)
        if event is None:
            return None
        # Remember each jti at least as long as its token could still pass
        # the iat check (iat may also be up to `leeway` in the future).
        key = f"{self.issuer} {event.jti}"
        if not self.replay_cache.add(key, self.max_age + 2 * self.leeway):
            log.warning("replayed %s event jti=%s ignored", event.kind, event.jti)
            return SecurityEvent(event.kind, event.sub, event.sid, event.jti, event.raw, True)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except BaseException:
                self.replay_cache.discard(key)
                raise
        return event

    def handle(self, body: bytes, content_type: str | None) -> EventResponse:
        """Process one HTTP POST and say what to answer.

        ``application/secevent+jwt``: the body is a SET; 202 on success or
        replay (the provider may resend a SET whose 202 it never got), 400
        with ``{"err", "description"}`` (RFC 8935 §2.3) otherwise.
        ``application/x-www-form-urlencoded`` with ``logout_token``: 200 on
        success, 400 with ``{"error", "error_description"}`` otherwise,
        replays included (Back-Channel Logout §2.6 makes the jti check part
        of validation). 503 when the provider's keys cannot be fetched, 500
        when ``on_event`` failed.
        """
        mime = (content_type or "").split(";")[0].strip().lower()
        if len(body) > MAX_BODY_BYTES:
            return EventResponse(413, _json(err="invalid_request", description="Body too large"))
        if mime == "application/secevent+jwt":
            return self._handle_set(body.strip())
        if mime == "application/x-www-form-urlencoded":
            return self._handle_logout(body)
        return EventResponse(415, _json(err="invalid_request", description="Unsupported content type"))

    def _handle_set(self, token: bytes) -> EventResponse:
        try:
            self.receive(token)
        except EventError as exc:
            log.info("SET refused: %s %s", exc.err, exc.detail or exc.description)
            return EventResponse(400, _json(err=exc.err, description=exc.description))
        except KeySetUnavailable as exc:
            log.error("SET not verifiable: %s", exc)
            return EventResponse(503, _json(err="temporarily_unavailable", description=exc.description))
        except Exception:
            log.exception("on_event failed")
            return EventResponse(500, _json(err="server_error", description="The event could not be processed"))
        return EventResponse(202, b"")

    def _handle_logout(self, body: bytes) -> EventResponse:
        def refuse(description: str) -> EventResponse:
            return EventResponse(400, _json(error="invalid_request", error_description=description))

        try:
            form = urllib.parse.parse_qs(body.decode("ascii"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return refuse("The body is not a form")
        tokens = form.get("logout_token", [])
        if len(tokens) != 1 or not tokens[0]:
            return refuse("Exactly one logout_token is required")
        try:
            event = self.receive(tokens[0], logout=True)
        except EventError as exc:
            log.info("logout token refused: %s", exc.detail or exc.description)
            return refuse(exc.description)
        except KeySetUnavailable as exc:
            log.error("logout token not verifiable: %s", exc)
            return EventResponse(503, _json(error="temporarily_unavailable", error_description=exc.description))
        except Exception:
            log.exception("on_event failed")
            return EventResponse(500, _json(error="server_error", error_description="The logout failed"))
        if event is not None and event.replayed:
            return refuse("The logout token was already received")
        return EventResponse(200, b"")

    def flask_blueprint(self, name: str = "comptexpert_events", path: str = "/comptexpert/events"):
        """A Flask blueprint with one POST route at ``path`` for both SETs and
        logout tokens (register it as the push endpoint and as the
        ``backchannel_logout_uri``). Exempt it from CSRF protection: the
        signed token is the authentication.
        """
        import flask  # optional dependency, only for this method

        blueprint = flask.Blueprint(name, __name__)

        @blueprint.post(path)
        def receive_event() -> flask.Response:
            response = self.handle(flask.request.get_data(), flask.request.content_type)
            return flask.Response(response.body, status=response.status, headers=response.headers)

        return blueprint
