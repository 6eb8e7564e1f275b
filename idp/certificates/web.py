"""The HTTP side of SIGNEXPERT: whom we trust, and the certificate a request presents.

A client certificate reaches the application in one of two ways:

1. the direct TLS listener (``idp serve-tls``, ``tls_server.py``) did the
   handshake itself and put the peer certificate's DER in the WSGI environ
   (``CLIENT_CERT_ENVIRON_KEY``), a key no HTTP client can set;
2. a TLS-terminating reverse proxy (nginx, ``deploy/nginx-signexpert.conf``)
   forwards it in ``IDP_CLIENT_CERT_HEADER``. Anybody can send that header,
   and a certificate is public: the header is only worth something when the
   proxy that checked the TLS handshake wrote it. It is therefore read only
   when the TCP peer (``REMOTE_ADDR``, never ``X-Forwarded-For``) is one of
   ``IDP_TRUSTED_PROXIES``, and ignored from anybody else.

Either way the certificate is validated again here, against the CA bundle and
the CRLs of the configuration, re-read when the files change.
"""
from __future__ import annotations

import ipaddress
import logging
import threading

from cryptography import x509
from flask import current_app, request
from flask_babel import gettext as _

from ..errors import Unavailable
from .errors import CertificateMalformed, TrustStoreError
from .trust import TrustStore, ValidatedCertificate, load_certificate, load_forwarded_certificate

log = logging.getLogger(__name__)

# Set by ``tls_server.ClientCertificateRequestHandler``. Only the server
# writes the environ: HTTP headers arrive as ``HTTP_*`` keys.
CLIENT_CERT_ENVIRON_KEY = "idp.client_cert_der"

_EXTENSION_KEY = "signexpert_trust"
_store_lock = threading.Lock()


def certificate_login_enabled() -> bool:
    """Whether a CA bundle is configured, i.e. SIGNEXPERT login is offered at all."""
    return bool(current_app.config.get("IDP_CLIENT_CA_FILE"))


def trust_store() -> TrustStore:
    """The configured CAs and CRLs, read once and re-read when a file changes.

    Raises ``Unavailable`` when nothing is configured or the files cannot be
    used: a deployment problem, not the certificate holder's.
    """
    config = current_app.config
    ca_file = config.get("IDP_CLIENT_CA_FILE")
    if not ca_file:
        raise Unavailable(_("La connexion par certificat SIGNEXPERT n'est pas proposée sur ce service."),
                          code="certificate_login_disabled")
    key = (str(ca_file), tuple(str(path) for path in config.get("IDP_CLIENT_CRL_FILES") or ()))
    cached = current_app.extensions.get(_EXTENSION_KEY)
    if cached is not None and cached[0] == key:
        store = cached[1]
        store.reload_if_changed()  # one stat per file; a broken new file keeps the old state
        return store
    with _store_lock:
        cached = current_app.extensions.get(_EXTENSION_KEY)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            store = TrustStore.from_files(ca_file, key[1])
        except TrustStoreError as error:
            log.error("SIGNEXPERT trust files unusable: %s", error)
            raise Unavailable(_("La connexion par certificat SIGNEXPERT est momentanément indisponible."),
                              code="certificate_login_unavailable") from error
        current_app.extensions[_EXTENSION_KEY] = (key, store)
        return store


def load_trust_store_at_start(app) -> None:
    """Read the trust files when the application starts, so that a bad deployment fails at once."""
    if not app.config.get("IDP_CLIENT_CA_FILE"):
        return
    with app.app_context():
        try:
            trust_store()
        except Unavailable as error:
            raise TrustStoreError(f"IDP_CLIENT_CA_FILE / IDP_CLIENT_CRL_FILES: {error.__cause__}") from error


def peer_address() -> str | None:
    """The address of the TCP peer: the proxy when there is one, whatever the headers say."""
    environ = request.environ
    # Werkzeug's ProxyFix, if ever installed, keeps the real peer here.
    original = environ.get("werkzeug.proxy_fix.orig") or {}
    return original.get("REMOTE_ADDR") or environ.get("REMOTE_ADDR")


def is_trusted_proxy(address: str | None, trusted: list[str] | tuple[str, ...]) -> bool:
    """Whether ``address`` is in ``trusted`` (addresses or networks such as ``10.0.0.0/8``)."""
    if not address or not trusted:
        return False
    try:
        peer = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    for entry in trusted:
        try:
            if peer in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            log.warning("IDP_TRUSTED_PROXIES: %r is neither an address nor a network", entry)
    return False


def presented_certificate() -> x509.Certificate | None:
    """The client certificate of this request, not validated yet; ``None`` when there is none.

    Raises ``CertificateMalformed`` when a trusted source sent something that
    is not a certificate.
    """
    der = request.environ.get(CLIENT_CERT_ENVIRON_KEY)
    if der:
        return load_certificate(bytes(der))
    config = current_app.config
    header = config["IDP_CLIENT_CERT_HEADER"]
    value = request.headers.get(header)
    if not value:
        return None
    address = peer_address()
    if not is_trusted_proxy(address, config.get("IDP_TRUSTED_PROXIES") or ()):
        # Someone is sending what only our proxy may send: ignore it, and
        # say so where the operators look.
        log.warning("%s header from %s ignored: not in IDP_TRUSTED_PROXIES", header, address)
        return None
    try:
        return load_forwarded_certificate(value)
    except CertificateMalformed:
        log.warning("%s header from proxy %s is not a certificate", header, address)
        raise


def validate_presented_certificate() -> ValidatedCertificate | None:
    """The certificate of this request, validated; ``None`` when none was presented.

    Raises a ``CertificateError`` (its ``code`` says why) for a refused one,
    and ``Unavailable`` when the trust files are unusable.
    """
    certificate = presented_certificate()
    if certificate is None:
        return None
    return trust_store().validate(certificate)
