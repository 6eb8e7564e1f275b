"""The client's address behind nginx: ``X-Forwarded-For``, believed only from ``IDP_TRUSTED_PROXIES``.

Behind a reverse proxy every request comes from the proxy's address. The
access log, the sessions' "last seen from" and, above all, the rate limits
per address need the client's: without it, one client's failures would
throttle the whole profession. The header is only believed when the TCP
peer is a trusted proxy; the right-most address that is not a trusted
proxy is the client (the left part of the header is whatever the client
wrote). The TCP peer stays in ``werkzeug.proxy_fix.orig``, where the
certificate login looks for it.
"""
from __future__ import annotations

import ipaddress

from ..certificates.web import is_trusted_proxy


def _address(value: str) -> str | None:
    value = value.strip()
    try:
        ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    return value


def client_address(peer: str | None, forwarded_for: str, trusted: list[str]) -> str | None:
    """The client's address, or ``None`` to keep the peer's."""
    if not is_trusted_proxy(peer, trusted):
        return None
    hops = [hop for hop in (_address(part) for part in forwarded_for.split(",")) if hop]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop, trusted):
            return hop
    return hops[0] if hops else None


class TrustedProxies:
    """WSGI middleware: ``REMOTE_ADDR`` becomes the client's address when a trusted proxy says so."""

    def __init__(self, wsgi_app, trusted: list[str]):
        self.wsgi_app = wsgi_app
        self.trusted = list(trusted)

    def __call__(self, environ, start_response):
        client = client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR", ""), self.trusted)
        if client is not None:
            environ.setdefault("werkzeug.proxy_fix.orig", {"REMOTE_ADDR": environ.get("REMOTE_ADDR")})
            environ["REMOTE_ADDR"] = client
        return self.wsgi_app(environ, start_response)


def init_app(app) -> None:
    trusted = app.config.get("IDP_TRUSTED_PROXIES") or []
    if trusted:
        app.wsgi_app = TrustedProxies(app.wsgi_app, trusted)
