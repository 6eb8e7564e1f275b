"""Delivering the outbox to relying sites: at least once, whatever restarts.

    run(settings)        the loop behind ``idp events deliver``: passes, then a pause
      deliver_due()      one pass: every event due when the pass started
        claim_next()     take one due event, in a short transaction of its own
        attempt()        sign it afresh (new iat, same jti) and POST it
        record()         delivered, or the error and when to try again

Claiming sets ``next_attempt_at`` to a lease in the future and counts the
attempt, then commits before any HTTP: several delivery processes (on one
node or many) never hold a database lock while they wait for a site, and
never take the same event while its lease runs. On PostgreSQL the claim
reads with ``FOR UPDATE SKIP LOCKED``, so processes pass each other by;
on SQLite (one writer at a time anyway) the claim is a conditional UPDATE
on the ``next_attempt_at`` it read, which only one process can win. A
process killed in the middle of a POST leaves the lease to run out: the
event is due again afterwards, and the receiver drops a duplicate by its
``jti``. That is the at-least-once promise: an event is delivered once the
site answers 2xx, however long it was away, and lost only if its client
is deleted.

Retries back off exponentially with jitter, up to a cap: a site that is
down is not hammered, and the sites' retries do not synchronise.
"""
from __future__ import annotations

import json
import logging
import random
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from ..db import epoch
from ..extensions import db
from ..observability.metrics import record_event_delivery
from ..oauth.models import Client
from ..oauth.tokens import signing_alg
from ..signing.services import load_ring
from .models import OutboxEvent
from .services import LOGOUT, SET

log = logging.getLogger(__name__)

SET_TYP = "secevent+jwt"        # RFC 8417 §2.3
LOGOUT_TYP = "logout+jwt"       # Back-Channel Logout §2.4
MAX_ERROR_LENGTH = 500
MAX_ANSWER_BYTES = 4096


@dataclass(frozen=True)
class Settings:
    """How the loop delivers; every value has a command-line option."""

    #: Seconds to connect and to read the answer, per attempt.
    timeout: float = 5.0
    #: Delay before the first retry (seconds); doubled at each failure...
    backoff_base: float = 5.0
    #: ...up to this (one hour).
    backoff_cap: float = 3600.0
    #: Lifetime of a logout token (Back-Channel Logout §2.4 wants it short).
    logout_token_ttl: int = 120

    @property
    def lease(self) -> timedelta:
        """How long a claimed event is left to its process: longer than an attempt can take.

        ``timeout`` bounds each socket operation (connect, send, each read),
        not the whole exchange; three of them and a margin cover an
        answer that is slow but not stuck.
        """
        return timedelta(seconds=3 * self.timeout + 5)


@dataclass(frozen=True)
class Claimed:
    """An event taken by this process for one attempt, with where and how to send it."""

    id: int
    client_id: str
    kind: str
    jti: str
    payload: dict
    attempts: int
    uri: str | None
    alg: str


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    error: str | None = None


def now_utc() -> datetime:
    """Naive UTC with microseconds: retries can be due within the second."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def backoff(attempts: int, settings: Settings, rng=random.random) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones.

    Exponential (``base * 2^(attempts-1)``), capped, with "equal jitter":
    between half and all of it, so that events that failed together do not
    all come back at the same instant.
    """
    delay = min(settings.backoff_cap, settings.backoff_base * 2 ** max(attempts - 1, 0))
    return delay / 2 + rng() * delay / 2


# -- claiming -------------------------------------------------------------------------------------
def _due(due_at: datetime):
    return (
        select(OutboxEvent)
        .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.next_attempt_at <= due_at)
        .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id)
    )


def _claimed(event: OutboxEvent, attempts: int) -> Claimed:
    client = db.session.get(Client, event.client_id)
    uri = None
    if client is not None:
        uri = client.events_uri if event.kind == SET else client.backchannel_logout_uri
    return Claimed(event.id, event.client_id, event.kind, event.jti, dict(event.payload), attempts, uri,
                   signing_alg(client) if client is not None else current_app.config["IDP_SIGNING_ALG"])


def claim_next(due_at: datetime, settings: Settings) -> Claimed | None:
    """Take the oldest event due at ``due_at`` for one attempt; None when there is none. Commits."""
    lease_until = now_utc() + settings.lease
    try:
        if db.engine.dialect.name == "postgresql":
            event = db.session.scalars(
                _due(due_at).limit(1).with_for_update(skip_locked=True).execution_options(populate_existing=True)
            ).first()
            if event is None:
                db.session.rollback()
                return None
            event.attempts += 1
            event.next_attempt_at = lease_until
            claimed = _claimed(event, event.attempts)
            db.session.commit()
            return claimed
        # Another process may win any of these; a few candidates let this
        # one move on to the next instead of stopping the pass.
        for event in db.session.scalars(_due(due_at).limit(10)).all():
            won = db.session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event.id, OutboxEvent.delivered_at.is_(None),
                       OutboxEvent.next_attempt_at == event.next_attempt_at)
                .values(attempts=OutboxEvent.attempts + 1, next_attempt_at=lease_until)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won == 1:
                claimed = _claimed(event, event.attempts + 1)
                db.session.commit()
                return claimed
        db.session.rollback()
        return None
    except BaseException:
        db.session.rollback()
        raise


# -- one attempt -----------------------------------------------------------------------------------
def sign(event: Claimed, settings: Settings, now: datetime) -> str:
    """The token for this attempt: the stored claims with ``iss``, a fresh ``iat`` (and ``exp``).

    Signing at each attempt keeps ``iat`` recent, which receivers require
    (they bound their replay caches by it); the ``jti`` never changes.
    """
    issued_at = epoch(now)
    claims = {"iss": current_app.config["IDP_ISSUER"], **event.payload, "iat": issued_at, "jti": event.jti}
    if event.kind == LOGOUT:
        claims["exp"] = issued_at + settings.logout_token_ttl
        return load_ring().sign(claims, event.alg, typ=LOGOUT_TYP)
    return load_ring().sign(claims, event.alg, typ=SET_TYP)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A push endpoint has no reason to redirect, and following one could
    # send a signed event to a host nobody registered.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(event: Claimed, token: str, settings: Settings) -> Outcome:
    """POST the token: RFC 8935 (SET as the body) or Back-Channel Logout §2.5 (a form)."""
    if not event.uri:
        return Outcome(False, "no endpoint registered for this event")
    if event.kind == LOGOUT:
        body = urllib.parse.urlencode({"logout_token": token}).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body = token.encode()
        content_type = "application/secevent+jwt"
    request = urllib.request.Request(event.uri, data=body, method="POST", headers={
        "Content-Type": content_type, "Accept": "application/json", "User-Agent": "Comptexpert-events/1",
    })
    try:
        with _opener.open(request, timeout=settings.timeout) as answer:
            answer.read(MAX_ANSWER_BYTES)
            status = answer.status
    except urllib.error.HTTPError as exc:
        detail = _describe(exc.read(MAX_ANSWER_BYTES).decode("utf-8", "replace").strip())
        return Outcome(False, f"HTTP {exc.code}: {detail}" if detail else f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:  # refused, timeout, DNS, TLS, malformed URI
        reason = getattr(exc, "reason", None) or exc
        return Outcome(False, f"{type(exc).__name__}: {reason}")
    if 200 <= status < 300:
        return Outcome(True)
    return Outcome(False, f"HTTP {status}")


def _describe(body: str) -> str:
    """The RFC 8935 ``err``/``description`` (or OAuth ``error``) of an answer, else its start."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200]
    if isinstance(data, dict):
        err = data.get("err") or data.get("error")
        description = data.get("description") or data.get("error_description")
        if err:
            return f"{err}: {description}" if description else str(err)
    return body[:200]


def attempt(event: Claimed, settings: Settings) -> Outcome:
    """Sign and send one claimed event."""
    try:
        token = sign(event, settings, now_utc())
    except LookupError as exc:  # no current key for the client's algorithm
        return Outcome(False, f"cannot sign: {exc}")
    return post(event, token, settings)


def record(event: Claimed, outcome: Outcome, settings: Settings, rng=random.random) -> None:
    """Write the outcome of an attempt. Commits."""
    now = now_utc()
    if outcome.delivered:
        values = {"delivered_at": now.replace(microsecond=0), "last_error": None}
        log.info("event %s (%s) delivered to %s after %d attempt(s)", event.jti, event.kind, event.client_id,
                 event.attempts)
    else:
        delay = backoff(event.attempts, settings, rng)
        values = {"last_error": (outcome.error or "failed")[:MAX_ERROR_LENGTH],
                  "next_attempt_at": now + timedelta(seconds=delay)}
        log.warning("event %s (%s) to %s failed (attempt %d, next in %.1f s): %s", event.jti, event.kind,
                    event.client_id, event.attempts, delay, outcome.error)
    db.session.execute(
        update(OutboxEvent).where(OutboxEvent.id == event.id, OutboxEvent.delivered_at.is_(None)).values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    record_event_delivery("delivered" if outcome.delivered else "failed")


# -- the loop --------------------------------------------------------------------------------------
@dataclass
class PassResult:
    delivered: int = 0
    failed: int = 0

    @property
    def attempts(self) -> int:
        return self.delivered + self.failed


def deliver_due(settings: Settings | None = None, *, stop: threading.Event | None = None) -> PassResult:
    """One pass: attempt every event due when it started, once each. Commits as it goes.

    Events that fail during the pass are due again only later (backoff),
    so a pass always ends, even against a site that is down.
    """
    settings = settings or Settings()
    due_at = now_utc()
    result = PassResult()
    while stop is None or not stop.is_set():
        event = claim_next(due_at, settings)
        if event is None:
            break
        outcome = attempt(event, settings)
        record(event, outcome, settings)
        if outcome.delivered:
            result.delivered += 1
        else:
            result.failed += 1
    return result


def run(settings: Settings | None = None, *, interval: float = 2.0, once: bool = False,
        stop: threading.Event | None = None) -> PassResult:
    """Deliver until ``stop`` is set (or after one pass with ``once``); returns the totals.

    A database that goes away stops nothing: the error is logged, the
    session rolled back, and the next pass tries again.
    """
    settings = settings or Settings()
    stop = stop or threading.Event()
    total = PassResult()
    while not stop.is_set():
        try:
            result = deliver_due(settings, stop=stop)
        except SQLAlchemyError as exc:
            db.session.rollback()
            if once:
                raise
            log.error("event delivery pass failed, retrying in %.1f s: %s", interval, exc)
            result = PassResult()
        total.delivered += result.delivered
        total.failed += result.failed
        if once:
            break
        stop.wait(interval)
    db.session.remove()
    return total


# -- status ----------------------------------------------------------------------------------------
def status(now: datetime | None = None) -> dict:
    """Counts for ``idp events status``: overall, and per client for what is not delivered."""
    from sqlalchemy import func

    now = now or now_utc()
    undelivered = OutboxEvent.delivered_at.is_(None)
    total, delivered = db.session.execute(
        select(func.count(), func.count(OutboxEvent.delivered_at))
    ).one()
    due = db.session.scalar(select(func.count()).where(undelivered, OutboxEvent.next_attempt_at <= now))
    clients = []
    rows = db.session.execute(
        select(OutboxEvent.client_id, func.count(), func.min(OutboxEvent.created_at), func.max(OutboxEvent.attempts),
               func.min(OutboxEvent.next_attempt_at))
        .where(undelivered).group_by(OutboxEvent.client_id).order_by(OutboxEvent.client_id)
    ).all()
    for client_id, count, oldest, attempts, next_attempt in rows:
        last_error = db.session.scalar(
            select(OutboxEvent.last_error)
            .where(undelivered, OutboxEvent.client_id == client_id, OutboxEvent.last_error.is_not(None))
            .order_by(OutboxEvent.id.desc()).limit(1)
        )
        clients.append({"client_id": client_id, "pending": count, "oldest": oldest, "max_attempts": attempts,
                        "next_attempt_at": next_attempt, "last_error": last_error})
    return {"total": total, "delivered": delivered, "pending": total - delivered, "due": due, "clients": clients}
