"""``idp serve-tls`` as an administrator runs it, and trust files checked at start-up."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from backends import free_port
from signexpert_support import text_of


def idp_command() -> str:
    beside = Path(sys.executable).parent / "idp"
    return str(beside) if beside.exists() else shutil.which("idp")


def wait_for_port(process, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"idp serve-tls exited with {process.returncode}: {process.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("idp serve-tls did not listen")


def test_idp_serve_tls_asks_for_client_certificates_and_validates_them(signexpert_pki, tmp_path):
    files = signexpert_pki.write(tmp_path / "pki")
    env = {
        **os.environ,
        "IDP_INSTANCE_PATH": str(tmp_path / "instance"),
        "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'idp.sqlite3'}",
        "IDP_CLIENT_CA_FILE": str(files.ca_bundle),
        "IDP_CLIENT_CRL_FILES": " ".join(str(path) for path in files.crls),
        "IDP_TLS_CERT_FILE": str(files.server_cert),
        "IDP_TLS_KEY_FILE": str(files.server_key),
    }
    subprocess.run([idp_command(), "init"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([idp_command(), "serve-tls", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(server, port)
        https = requests.Session()
        https.trust_env = False
        https.verify = str(files.server_ca)
        url = f"https://127.0.0.1:{port}/login/certificat"

        assert https.get(url).status_code == 401  # no certificate presented
        https.cert = (str(files.leaves["valid"].cert), str(files.leaves["valid"].key))
        page = https.get(url)
        assert page.status_code == 403
        assert "Ce certificat SIGNEXPERT est valide, mais il n'est associé à aucun compte Comptexpert." in text_of(page)
        https.cert = (str(files.leaves["revoked"].cert), str(files.leaves["revoked"].key))
        assert "Ce certificat a été révoqué par l'autorité de certification." in text_of(https.get(url))
    finally:
        server.terminate()
        server.wait(10)
        server.stderr.close()


def test_unusable_trust_files_stop_the_provider_at_start(tmp_path):
    from idp import create_app
    from idp.certificates import TrustStoreError

    not_a_bundle = tmp_path / "ca.pem"
    not_a_bundle.write_text("not a certificate")
    with pytest.raises(TrustStoreError):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                    "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test",
                    "IDP_CLIENT_CA_FILE": str(not_a_bundle)})
