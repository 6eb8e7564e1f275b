"""The direct TLS listener (``idp serve-tls``): HTTPS with optional client certificates.

For installations without a reverse proxy. It is Werkzeug's threaded WSGI
server with two changes:

* the TLS handshake runs in the connection's own thread, under a timeout,
  not in the accept loop, so a client that connects and says nothing holds
  one thread for a few seconds instead of the whole listener;
* the peer certificate's DER goes into the WSGI environ under
  ``idp.client_cert_der`` (``web.CLIENT_CERT_ENVIRON_KEY``), where
  ``web.presented_certificate`` finds it.

What OpenSSL checks during the handshake. The standard library's ``ssl``
offers no way to ask for a client certificate and accept one it cannot
verify, so with ``CERT_OPTIONAL`` OpenSSL verifies a presented certificate
against ``IDP_CLIENT_CA_FILE``: one from another CA, or without the
``clientAuth`` usage, ends the handshake with a TLS alert (the browser shows
its own error page). Dates are the exception: ``X509_V_FLAG_NO_CHECK_TIME``
lets an expired or not yet valid certificate through, so that the
application refuses it with the date in French, expiry being by far the
commonest case. CRLs are not given to OpenSSL: the application checks them,
and re-reads them when they change. Behind nginx (the production set-up)
every refusal comes from the application, with its reason.
"""
from __future__ import annotations

import logging
import os
import ssl
import threading
from pathlib import Path

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from .web import CLIENT_CERT_ENVIRON_KEY

log = logging.getLogger(__name__)

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME, which ``ssl.VerifyFlags`` does not name.
X509_V_FLAG_NO_CHECK_TIME = 0x200000


class ClientCertificateRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, plus the peer certificate in the environ."""

    # Seconds a connection may stay silent once the handshake is done.
    timeout = 60

    def make_environ(self):
        environ = super().make_environ()
        try:
            der = self.connection.getpeercert(binary_form=True)
        except (AttributeError, ValueError):  # not TLS, or no handshake
            der = None
        if der:
            environ[CLIENT_CERT_ENVIRON_KEY] = der
        return environ


def client_certificate_context(cert_file: str | os.PathLike[str], key_file: str | os.PathLike[str],
                               client_ca_file: str | os.PathLike[str] | None) -> ssl.SSLContext:
    """A server context: our certificate, TLS 1.2 or later, client certificates asked for when a CA is given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    if client_ca_file:
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(cafile=str(client_ca_file))
        context.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
    return context


class TLSServer(ThreadedWSGIServer):
    """A threaded WSGI server speaking TLS, handshaking in the connection's thread.

    The client CA bundle is re-read when the file changes, like the
    application's own trust store, so a new intermediate CA needs no restart.
    """

    def __init__(self, host: str, port: int, app, *, cert_file, key_file, client_ca_file=None,
                 handshake_timeout: float = 10.0):
        # No ssl_context for Werkzeug: it would wrap the listening socket and
        # handshake inside accept(), in the serving loop.
        super().__init__(host, port, app, handler=ClientCertificateRequestHandler)
        self.cert_file, self.key_file = cert_file, key_file
        self.client_ca_file = Path(client_ca_file) if client_ca_file else None
        self.handshake_timeout = handshake_timeout
        self._context_lock = threading.Lock()
        self._stamp = self._ca_stamp()
        # Werkzeug reads ``ssl_context`` to tell http from https.
        self.ssl_context = client_certificate_context(cert_file, key_file, client_ca_file)

    def _ca_stamp(self):
        if self.client_ca_file is None:
            return None
        try:
            stat = self.client_ca_file.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def current_context(self) -> ssl.SSLContext:
        stamp = self._ca_stamp()
        if stamp is not None and stamp != self._stamp:
            with self._context_lock:
                if stamp != self._stamp:
                    try:
                        self.ssl_context = client_certificate_context(self.cert_file, self.key_file,
                                                                      self.client_ca_file)
                        log.info("client CA bundle reloaded for the TLS listener")
                    except (OSError, ssl.SSLError):
                        log.exception("client CA bundle changed but cannot be used; keeping the previous one")
                    self._stamp = stamp
        return self.ssl_context

    def finish_request(self, request, client_address):
        request.settimeout(self.handshake_timeout)
        try:
            connection = self.current_context().wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            # A refused client certificate ends here, as does a port scan.
            log.info("TLS handshake with %s failed: %s", client_address[0], error)
            return
        try:
            super().finish_request(connection, client_address)
        finally:
            self.shutdown_request(connection)


def make_tls_server(host: str, port: int, app, *, cert_file, key_file, client_ca_file=None) -> TLSServer:
    """Build (and bind) the listener; ``serve_forever()`` runs it."""
    return TLSServer(host, port, app, cert_file=cert_file, key_file=key_file, client_ca_file=client_ca_file)
