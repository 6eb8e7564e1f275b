"""Which address is the client's, given the TCP peer and ``X-Forwarded-For``."""
from __future__ import annotations

import pytest

from idp.observability.proxy import TrustedProxies, client_address

TRUSTED = ["127.0.0.1", "10.0.0.0/8"]


@pytest.mark.parametrize("peer, forwarded_for, client", [
    ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
    ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),     # the left part is the client's own writing
    ("127.0.0.1", "203.0.113.7, 10.1.2.3", "203.0.113.7"),          # through two proxies of ours
    ("10.9.9.9", "2001:db8::1", "2001:db8::1"),
    ("127.0.0.1", "", None),                                        # no header: the peer it is
    ("127.0.0.1", "not-an-address", None),
    ("127.0.0.1", "10.0.0.5", "10.0.0.5"),                          # only proxies: the farthest one
    ("203.0.113.9", "198.51.100.1", None),                          # an untrusted peer's header is ignored
])
def test_the_client_address(peer, forwarded_for, client):
    assert client_address(peer, forwarded_for, TRUSTED) == client


def test_the_middleware_keeps_the_peer_for_whoever_needs_the_proxy_address():
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    TrustedProxies(app, TRUSTED)({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}, None)

    assert seen["REMOTE_ADDR"] == "203.0.113.7"
    assert seen["werkzeug.proxy_fix.orig"] == {"REMOTE_ADDR": "127.0.0.1"}
