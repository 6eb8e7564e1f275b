"""The access log: one JSON line per request, through ``logging`` (gunicorn's own is off)."""
from __future__ import annotations

import logging
import time

from flask import g, request

from .logging import redact_query

log = logging.getLogger("idp.access")

# Probes and scrapes come every few seconds; logged only when they fail.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def log_request(response):
    try:
        status = response.status_code
        level = logging.INFO
        if request.path in QUIET_PATHS and status < 400:
            level = logging.DEBUG
        if not log.isEnabledFor(level):
            return response
        started = g.get("idp_started")
        log.log(
            level, "%s %s %s", request.method, request.path, status,
            extra={
                "event": "request",
                "method": request.method,
                "path": request.path,
                "query": redact_query(request.query_string.decode("latin-1")),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
                "remote_addr": request.remote_addr,
                "user_agent": (request.user_agent.string or "")[:200],
            },
        )
    except Exception:  # noqa: BLE001 - logging must never break an answer
        logging.getLogger(__name__).exception("access log failed")
    return response


def init_app(app) -> None:
    app.after_request(log_request)
