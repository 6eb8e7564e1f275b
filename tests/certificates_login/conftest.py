"""Fixtures for the SIGNEXPERT login, over real TLS with client certificates.

    signexpert_pki (session: root, intermediate, leaves, CRLs, a server certificate)
      ├── nginx_front   a real nginx running deploy/nginx-signexpert.conf in front of ``live``
      └── tls_front     the direct TLS listener (idp serve-tls) serving ``live``'s application
    pki_files ── signexpert    the provider trusts the test CA (IDP_CLIENT_CA_FILE, CRLs)
                   └── front   one of the two fronts, the provider configured for it
                                (IDP_CERTIFICATE_LOGIN_URL; IDP_TRUSTED_PROXIES=127.0.0.1 for nginx)
    bind                       binds a certificate to an account through the service
    enrol                      turns the authenticator app on for an account

Configuration changed here is put back after each test.
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests/pki.py

from pki import TestPKI  # noqa: E402
from signexpert_support import Front, start_nginx  # noqa: E402

from backends import free_port  # noqa: E402


@pytest.fixture(scope="session")
def signexpert_pki() -> TestPKI:
    """Minting keys is the slow part: one PKI for the session."""
    return TestPKI()


@pytest.fixture
def pki_files(signexpert_pki, tmp_path):
    """This test's own copy of the PKI's files, free to rewrite (a new CRL, say)."""
    return signexpert_pki.write(tmp_path / "pki")


@pytest.fixture
def configure(app):
    """Change ``app.config`` for one test; every value is put back afterwards."""
    saved: dict = {}

    def set_(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield set_
    app.config.update(saved)


@pytest.fixture
def signexpert(configure, pki_files):
    """The provider trusts the test CA bundle and its two CRLs."""
    configure(IDP_CLIENT_CA_FILE=str(pki_files.ca_bundle),
              IDP_CLIENT_CRL_FILES=[str(path) for path in pki_files.crls])
    return pki_files


@pytest.fixture(scope="session")
def nginx_front(live, signexpert_pki, tmp_path_factory) -> Front:
    directory = tmp_path_factory.mktemp(f"nginx-{live.backend}")
    files = signexpert_pki.write(directory / "pki")
    try:
        server, front = start_nginx(directory, upstream_url=live.url, files=files)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield front
    server.stop()


@pytest.fixture(scope="session")
def tls_front(live, signexpert_pki, tmp_path_factory) -> Front:
    from idp.certificates.tls_server import make_tls_server

    files = signexpert_pki.write(tmp_path_factory.mktemp(f"tls-{live.backend}") / "pki")
    port = free_port()
    server = make_tls_server("127.0.0.1", port, live.app, cert_file=files.server_cert, key_file=files.server_key,
                             client_ca_file=files.ca_bundle)
    thread = threading.Thread(target=server.serve_forever, name=f"idp-tls-{live.backend}", daemon=True)
    thread.start()
    yield Front("tls", f"https://127.0.0.1:{port}", files.server_ca)
    server.shutdown()
    server.server_close()
    thread.join(5)


def _configure_front(configure, front: Front) -> Front:
    # Behind nginx the provider sees nginx's address: 127.0.0.1. Through the
    # direct listener no proxy is trusted at all.
    configure(IDP_CERTIFICATE_LOGIN_URL=front.login_url,
              IDP_TRUSTED_PROXIES=["127.0.0.1"] if front.name == "nginx" else [])
    return front


@pytest.fixture
def nginx(signexpert, configure, nginx_front) -> Front:
    return _configure_front(configure, nginx_front)


@pytest.fixture
def tls(signexpert, configure, tls_front) -> Front:
    return _configure_front(configure, tls_front)


@pytest.fixture(params=["nginx", "tls"])
def front(request, signexpert, configure) -> Front:
    """Each way a certificate reaches the provider, in turn."""
    return _configure_front(configure, request.getfixturevalue(f"{request.param}_front"))


@pytest.fixture
def validate(app, signexpert):
    """Validate a test certificate as the provider does (for building data)."""
    def run(issued):
        from idp.certificates import TrustStore

        return TrustStore.from_files(signexpert.ca_bundle, signexpert.crls).validate(issued.cert)

    return run


@pytest.fixture
def bind(app, validate):
    """Bind a certificate of the test PKI to ``user`` through the service Sécurité uses."""
    def run(user, issued):
        from idp.accounts.models import User
        from idp.certificates.services import bind_certificate
        from idp.extensions import db

        with app.app_context():
            binding = bind_certificate(db.session.get(User, user.id), validate(issued), session_acr="eidas2")
            db.session.commit()
            binding_id = binding.id
            db.session.remove()
        return binding_id

    return run


@pytest.fixture
def enrol(app):
    """Turn the authenticator app on for ``user``; returns its TOTP generator."""
    def run(user):
        import pyotp

        from idp.accounts.models import User
        from idp.db import utcnow
        from idp.extensions import db
        from idp.mfa import services

        with app.app_context():
            account = db.session.get(User, user.id)
            secret = services.start_enrolment(account, app.config["IDP_KEY_ENCRYPTION_KEY"])
            account.totp_enabled_at = utcnow()
            db.session.commit()
            db.session.remove()
        return pyotp.TOTP(secret.replace(" ", ""))

    return run


@pytest.fixture
def leaf_files(signexpert):
    """The files of a test leaf by name (valid, expired, revoked...)."""
    return signexpert.leaves
