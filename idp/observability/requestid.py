"""The request id: one per request, taken from ``X-Request-Id`` when usable, echoed back.

A proxy in front (nginx, a load balancer) or a relying site may name the
request; keeping its id lets one search follow a login across their logs
and ours. An id that is malformed, too long or shaped like a secret is
replaced by a fresh one: it goes into every log line unredacted.
"""
from __future__ import annotations

import re
import uuid

from flask import g, request

from .logging import redact

HEADER = "X-Request-Id"
_USABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/=\-]{0,127}")


def request_id_from(value: str | None) -> str:
    """``value`` when it is a usable request id, else a new random one."""
    if value and _USABLE.fullmatch(value) and redact(value) == value:
        return value
    return uuid.uuid4().hex


def assign_request_id() -> None:
    g.request_id = request_id_from(request.headers.get(HEADER))


def add_request_id_header(response):
    request_id = g.get("request_id")
    if request_id:
        response.headers[HEADER] = request_id
    return response


def init_app(app) -> None:
    app.before_request(assign_request_id)
    app.after_request(add_request_id_header)
