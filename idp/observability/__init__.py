"""Health, metrics and structured logs.

``init_app`` plugs them into the application: JSON logs with secrets
redacted (``logging``), a request id on every request and response
(``requestid``), Prometheus metrics around every request (``metrics``) and
one access-log line per request (``access``), with the client's address
as trusted proxies give it (``proxy``). The endpoints are in
``views``, the ``idp cleanup`` command in ``cli``.
"""
from __future__ import annotations


def init_app(app) -> None:
    from . import access, logging, metrics, proxy, requestid

    logging.init_app(app)
    proxy.init_app(app)
    requestid.init_app(app)
    metrics.init_app(app)
    access.init_app(app)
