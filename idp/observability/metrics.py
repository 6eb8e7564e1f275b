"""Prometheus metrics, safe under gunicorn's several worker processes.

When ``PROMETHEUS_MULTIPROC_DIR`` is set (``gunicorn.conf.py`` sets it),
every process writes its samples to memory-mapped files there and
``/metrics`` adds them up, so one scrape of a node sees all its workers.
Without it (``idp run``, tests) the samples live in the process.

Hooks for the other parts of the provider:

- ``record_login(method, result)``: one login attempt made elsewhere than
  the login pages, which are counted from their answers (``LOGIN_PAGES``);
- ``record_event_delivery(result)``: one push of a security event by the
  delivery loop (``idp events deliver``), delivered or failed.

Requests, latencies, tokens issued by grant type, throttled requests and
the database pool are measured here, around every request; the events
waiting in the outbox (how many, and how long the oldest has waited) are
read from the database at each scrape, the same on every node.
"""
from __future__ import annotations

import logging
import os
import re
import time

from flask import Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "idp_http_requests_total", "HTTP requests answered, by endpoint (route), method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "idp_http_request_duration_seconds", "Time to answer a request, by endpoint (route).", ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TOKENS_ISSUED = Counter(
    "idp_tokens_issued_total", "Successful token responses, by grant type.", ["grant_type"],
)
LOGINS = Counter("idp_logins_total", "Login attempts, by method and result.", ["method", "result"])
THROTTLED = Counter(
    "idp_throttled_requests_total", "Requests refused by rate limiting (429), by endpoint.", ["endpoint"],
)
EVENT_DELIVERIES = Counter(
    "idp_events_deliveries_total", "Pushes of security events to relying sites, by result.", ["result"],
)
# "livesum": the sum over the live processes of a node, each reporting its own pool.
DB_POOL = Gauge(
    "idp_db_pool_connections", "Database connections of the pool, by state.", ["state"],
    multiprocess_mode="livesum",
)

UNMATCHED = "<unmatched>"
# The login pages, counted from their answers to POST, so that their code
# stays free of measuring: endpoint -> method.
LOGIN_PAGES = {"auth.login": "password", "auth.login_code": "second_factor",
               "certificates.login_submit": "certificate"}
_LABEL = re.compile(r"[^a-z0-9_:.\-]")


def _label(value: str | None, default: str = "unknown") -> str:
    # Label values come from code, but a bounded charset and length keeps
    # a mistake from creating a series per request.
    return _LABEL.sub("_", (value or default).lower())[:48] or default


def record_login(method: str, result: str) -> None:
    """Count one login attempt: ``method`` (password, certificate...), ``result`` (success, failure...).

    Not for the pages of ``LOGIN_PAGES``: they are counted already.
    """
    LOGINS.labels(method=_label(method), result=_label(result)).inc()


def record_event_delivery(result: str, count: int = 1) -> None:
    """Count pushes of security events: ``result`` is delivered or failed."""
    EVENT_DELIVERIES.labels(result=_label(result)).inc(count)


def outbox_backlog() -> tuple[int, float]:
    """``(events not delivered yet, seconds the oldest of them has waited)``; served by the outbox's index."""
    from sqlalchemy import func, select

    from ..db import utcnow
    from ..events.models import OutboxEvent

    count, oldest = db_session().execute(
        select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.delivered_at.is_(None))
    ).one()
    return count, (utcnow() - oldest).total_seconds() if oldest is not None else 0.0


def db_session():
    from ..extensions import db

    return db.session


def login_result(endpoint: str, status: int, location: str) -> str:
    """What the answer of a login page says of the attempt."""
    if status in (301, 302, 303):
        path = location.split("?", 1)[0]
        if endpoint == "auth.login" and path.endswith("/login/code"):
            return "second_factor_required"
        if endpoint == "auth.login_code" and path.endswith("/login"):
            return "expired"  # the password step is too old: start again
        return "success"
    return {401: "failure", 403: "refused", 429: "throttled"}.get(status, "rejected")


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def endpoint_label() -> str:
    """The route template (``/token``, ``/static/<path:filename>``): bounded, unlike paths."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


# -- around every request ----------------------------------------------------------
def start_timer() -> None:
    g.idp_started = time.perf_counter()


def observe_response(response):
    try:
        endpoint = endpoint_label()
        status = response.status_code
        REQUESTS.labels(endpoint=endpoint, method=request.method, status=str(status)).inc()
        started = g.get("idp_started")
        if started is not None:
            LATENCY.labels(endpoint=endpoint).observe(time.perf_counter() - started)
        if status == 429:
            THROTTLED.labels(endpoint=endpoint).inc()
        elif status == 200 and request.endpoint == "oauth.token":
            # Counted on the answer, not when the token is built: a token whose
            # transaction failed (database gone at commit) was never issued.
            TOKENS_ISSUED.labels(grant_type=_label(request.form.get("grant_type"))).inc()
        if request.method == "POST" and request.endpoint in LOGIN_PAGES and status < 500:
            result = login_result(request.endpoint, status, response.headers.get("Location", ""))
            LOGINS.labels(method=LOGIN_PAGES[request.endpoint], result=result).inc()
    except Exception:  # noqa: BLE001 - measuring must never break an answer
        log.exception("metrics: could not record a request")
    return response


def observe_pool(_exc=None) -> None:
    """Report this process's pool (after the request gave its connection back)."""
    try:
        from ..extensions import db

        engines = current_app.extensions.get("sqlalchemy") and db.engines
        pool = engines[None].pool if engines else None
        if pool is None or not hasattr(pool, "checkedout"):
            return
        checked_out = pool.checkedout()
        DB_POOL.labels(state="checked_out").set(checked_out)
        DB_POOL.labels(state="idle").set(pool.checkedin())
        DB_POOL.labels(state="overflow").set(max(pool.overflow(), 0))
    except Exception:  # noqa: BLE001
        log.debug("metrics: no pool statistics", exc_info=True)


# -- the scrape ------------------------------------------------------------------------
class _ScrapeTimeCollector:
    """Values computed when scraped: the events waiting in the outbox."""

    def collect(self):
        try:
            pending, oldest = outbox_backlog()
        except Exception:  # noqa: BLE001 - a scrape during an outage still answers
            log.warning("metrics: could not read the events outbox")
            try:
                db_session().rollback()
            except Exception:  # noqa: BLE001 - the connection is gone; nothing to roll back
                pass
            return
        yield GaugeMetricFamily("idp_events_pending", "Security events waiting to be delivered.", value=pending)
        yield GaugeMetricFamily("idp_events_oldest_pending_seconds",
                                "How long the oldest undelivered event has waited.", value=oldest)


class _ProcessCollector:
    """This process's own metrics (single-process mode)."""

    def collect(self):
        yield from REGISTRY.collect()


def render() -> Response:
    """The exposition of every metric of this node, in Prometheus text format."""
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    directory = multiprocess_dir()
    observe_pool()
    if directory:
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ProcessCollector())
    registry.register(_ScrapeTimeCollector())
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app) -> None:
    app.before_request(start_timer)
    app.after_request(observe_response)
    # Teardowns run last-registered first: put this one first in the list so
    # it runs after Flask-SQLAlchemy's, once the request's connection is back.
    app.teardown_appcontext_funcs.insert(0, observe_pool)
