"""SIGNEXPERT certificate validation, against a throw-away PKI."""

import base64
import datetime
import hashlib
import os
import urllib.parse
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from idp.certificates import (
    CertificateError,
    TrustStore,
    TrustStoreError,
    ValidatedCertificate,
    load_forwarded_certificate,
)

PARIS = ZoneInfo("Europe/Paris")


def refusal(store, cert, now=None) -> CertificateError:
    with pytest.raises(CertificateError) as info:
        store.validate(cert, now=now)
    return info.value


def rewrite(path, data: bytes) -> None:
    """Replace a file the way a CRL updater would, making sure its stat changes."""
    before = os.stat(path)
    tmp = path.with_suffix(".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    # Coarse file-system clocks could leave mtime as it was; size and inode
    # usually change anyway, but do not let the test depend on that.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))


def pem_of(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


# -- the valid leaf ---------------------------------------------------------


def test_valid_certificate_is_accepted_with_its_identity(store, pki):
    leaf = pki.leaves["valid"].cert

    result = store.validate(leaf)

    assert isinstance(result, ValidatedCertificate)
    assert result.certificate == leaf
    assert result.subject == (
        "emailAddress=philippe.durant@example.fr,CN=Philippe DURANT,"
        "O=Ordre des experts-comptables,C=FR"
    )
    assert result.issuer == "CN=SIGNEXPERT Test CA,O=Ordre des experts-comptables,C=FR"
    assert result.serial == format(leaf.serial_number, "x")
    assert result.fingerprint_sha256 == hashlib.sha256(pki.leaves["valid"].cert_der).hexdigest()
    assert result.not_before == leaf.not_valid_before_utc
    assert result.not_after == leaf.not_valid_after_utc
    assert result.common_name == "Philippe DURANT"
    assert result.email == "philippe.durant@example.fr"
    assert result.chain == (leaf, pki.intermediate.cert, pki.root.cert)


def test_email_may_be_in_the_subject_only(store, pki):
    leaf = pki.issue_leaf("Philippe DURANT", "p.durant@example.fr", email_in_san=False).cert

    assert store.validate(leaf).email == "p.durant@example.fr"


def test_certificate_without_email_is_accepted(store, pki):
    result = store.validate(pki.issue_leaf("Philippe DURANT", None).cert)

    assert (result.common_name, result.email) == ("Philippe DURANT", None)


@pytest.mark.parametrize("encoding", ["object", "pem_bytes", "pem_str", "der", "base64_der"])
def test_validate_accepts_every_encoding(store, pki, encoding):
    issued = pki.leaves["valid"]
    given = {
        "object": issued.cert,
        "pem_bytes": issued.cert_pem,
        "pem_str": issued.cert_pem.decode(),
        "der": issued.cert_der,
        "base64_der": base64.b64encode(issued.cert_der).decode(),
    }[encoding]

    assert store.validate(given).fingerprint_sha256 == hashlib.sha256(issued.cert_der).hexdigest()


# -- refusals ------------------------------------------------------------------


def test_expired_certificate(store, pki):
    not_after = pki.leaves["expired"].cert.not_valid_after_utc
    error = refusal(store, pki.leaves["expired"].cert)

    assert error.code == "expired"
    assert error.message_fr == f"Ce certificat a expiré le {not_after.astimezone(PARIS):%d/%m/%Y}."
    assert error.message_en == (
        f"This certificate expired on {not_after.astimezone(PARIS):%Y-%m-%d}."
    )


def test_not_yet_valid_certificate(store, pki):
    not_before = pki.leaves["not_yet_valid"].cert.not_valid_before_utc
    error = refusal(store, pki.leaves["not_yet_valid"].cert)

    assert error.code == "not_yet_valid"
    assert error.message_fr == (
        f"Ce certificat n'est valable qu'à partir du {not_before.astimezone(PARIS):%d/%m/%Y}."
    )


def test_expiry_date_is_the_french_calendar_day(store, pki):
    # 23:30 UTC on 3 February is already the 4th in Paris.
    leaf = pki.issue_leaf(
        "Philippe DURANT",
        None,
        not_before=datetime.datetime(2024, 2, 1, tzinfo=datetime.timezone.utc),
        not_after=datetime.datetime(2025, 2, 3, 23, 30, tzinfo=datetime.timezone.utc),
    ).cert

    error = refusal(store, leaf)

    assert error.message_fr == "Ce certificat a expiré le 04/02/2025."


def test_revoked_certificate(store, pki):
    error = refusal(store, pki.leaves["revoked"].cert)

    assert error.code == "revoked"
    assert error.message_fr == "Ce certificat a été révoqué par l'autorité de certification."
    assert "keyCompromise" in error.detail


def test_certificate_from_a_foreign_ca(store, pki):
    error = refusal(store, pki.leaves["foreign"].cert)

    assert error.code == "untrusted"
    assert error.message_fr == (
        "Ce certificat n'a pas été émis par l'autorité de certification de la profession."
    )


def test_certificate_without_client_auth(store, pki):
    error = refusal(store, pki.leaves["wrong_usage"].cert)

    assert error.code == "wrong_usage"
    assert error.message_fr == (
        "Ce certificat ne permet pas l'authentification d'un client "
        "(usage étendu clientAuth absent)."
    )


def test_certificate_without_any_extended_key_usage_is_wrong_usage(store, pki):
    # The web-PKI verifier alone would accept it; a login certificate must say clientAuth.
    leaf = pki.issue_leaf("Philippe DURANT", None, usages=[ExtendedKeyUsageOID.EMAIL_PROTECTION])
    builder = x509.CertificateBuilder(
        issuer_name=leaf.cert.issuer,
        subject_name=leaf.cert.subject,
        public_key=leaf.cert.public_key(),
        serial_number=leaf.cert.serial_number,
        not_valid_before=leaf.cert.not_valid_before_utc,
        not_valid_after=leaf.cert.not_valid_after_utc,
        extensions=[
            ext for ext in leaf.cert.extensions if not isinstance(ext.value, x509.ExtendedKeyUsage)
        ],
    )
    no_eku = builder.sign(pki.intermediate.key, hashes.SHA256())

    assert refusal(store, no_eku).code == "wrong_usage"


def test_foreign_and_expired_is_untrusted_first(store, pki):
    # Renewing would not help someone whose certificate is not from the profession.
    leaf = pki.issue_leaf(
        "Philippe DURANT",
        None,
        issuer=pki.foreign_root,
        not_before=pki.now - datetime.timedelta(days=800),
        not_after=pki.now - datetime.timedelta(days=400),
    ).cert

    assert refusal(store, leaf).code == "untrusted"


def test_foreign_without_client_auth_is_untrusted(store, pki):
    # The verifier itself complains about the usage first; the trust problem matters more.
    assert refusal(store, pki.server.cert).code == "untrusted"


def test_revoked_intermediate_refuses_its_leaves(pki, pki_files):
    rewrite(pki_files.crl_root, pem_of(pki.make_crl(pki.root, revoked=[pki.intermediate.cert])))
    store = TrustStore.from_files(pki_files.ca_bundle, pki_files.crls)

    assert refusal(store, pki.leaves["valid"].cert).code == "revoked"


def test_leaf_is_checked_at_the_given_time(store, pki):
    last_year = pki.now - datetime.timedelta(days=400)

    assert store.validate(pki.leaves["expired"].cert, now=last_year).common_name == "Hélène MARTIN"
    # Naive datetimes are UTC.
    assert store.validate(
        pki.leaves["expired"].cert, now=last_year.replace(tzinfo=None)
    ).email == "helene.martin@example.fr"


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x30\x03\x02\x01\x01", b"not a certificate", "", "-----BEGIN CERTIFICATE-----\nAAAA"],
)
def test_garbage_is_malformed(store, garbage):
    error = refusal(store, garbage)

    assert error.code == "malformed"
    assert error.message_fr == "Le certificat transmis est illisible."


# -- CRL policy ----------------------------------------------------------------


def test_stale_crl_fails_closed(pki, pki_files):
    stale = pki.make_crl(
        pki.intermediate,
        revoked=[],
        this_update=pki.now - datetime.timedelta(days=10),
        next_update=pki.now - datetime.timedelta(days=3),
    )
    rewrite(pki_files.crl_intermediate, pem_of(stale))
    store = TrustStore.from_files(pki_files.ca_bundle, pki_files.crls)

    error = refusal(store, pki.leaves["valid"].cert)

    assert error.code == "revocation_unavailable"
    assert error.message_fr.startswith("La révocation de ce certificat ne peut pas être vérifiée")


def test_stale_crl_still_reports_known_revocations(pki, pki_files):
    stale = pki.make_crl(
        pki.intermediate,
        revoked=[pki.leaves["revoked"].cert],
        this_update=pki.now - datetime.timedelta(days=10),
        next_update=pki.now - datetime.timedelta(days=3),
    )
    rewrite(pki_files.crl_intermediate, pem_of(stale))
    store = TrustStore.from_files(pki_files.ca_bundle, pki_files.crls)

    assert refusal(store, pki.leaves["revoked"].cert).code == "revoked"


def test_without_crl_a_ca_is_not_checked_for_revocation(pki, pki_files):
    store = TrustStore.from_files(pki_files.ca_bundle, [])

    assert store.validate(pki.leaves["revoked"].cert).common_name == "Sophie PETIT"


def test_crl_signed_by_a_foreign_ca_is_refused_at_load(pki, pki_files, tmp_path):
    impostor = tmp_path / "impostor.crl"
    impostor.write_bytes(pem_of(pki.make_crl(pki.foreign_root, revoked=[])))

    with pytest.raises(TrustStoreError, match="not signed by any CA of the bundle"):
        TrustStore.from_files(pki_files.ca_bundle, [*pki_files.crls, impostor])


def test_bundle_without_a_root_is_refused(pki, tmp_path):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pki.intermediate.cert_pem)

    with pytest.raises(TrustStoreError, match="no self-signed root"):
        TrustStore.from_files(bundle)


def test_missing_files_are_refused(tmp_path):
    with pytest.raises(TrustStoreError, match="cannot read the CA bundle"):
        TrustStore.from_files(tmp_path / "nowhere.pem")


# -- reloading -----------------------------------------------------------------


def test_reload_picks_up_a_new_crl(store, pki, pki_files):
    valid = pki.leaves["valid"].cert
    assert store.validate(valid)
    assert store.reload_if_changed() is False

    crl = pki.make_crl(pki.intermediate, revoked=[pki.leaves["revoked"].cert, valid])
    rewrite(pki_files.crl_intermediate, pem_of(crl))

    assert store.reload_if_changed() is True
    assert refusal(store, valid).code == "revoked"
    assert store.reload_if_changed() is False


def test_reload_picks_up_a_new_ca_bundle(store, pki, pki_files):
    rewrite(pki_files.ca_bundle, pki.ca_bundle_pem + pki.foreign_root.cert_pem)

    assert store.reload_if_changed() is True
    assert store.validate(pki.leaves["foreign"].cert).issuer.startswith("CN=Foreign Test Root CA")


def test_broken_file_keeps_the_previous_state(store, pki, pki_files, caplog):
    rewrite(pki_files.crl_intermediate, b"-----BEGIN X509 CRL-----\nhalf writt")

    assert store.reload_if_changed() is False
    assert "cannot be used" in caplog.text
    assert refusal(store, pki.leaves["revoked"].cert).code == "revoked"
    assert store.validate(pki.leaves["valid"].cert)

    # Not parsed again until it changes again, then taken.
    caplog.clear()
    assert store.reload_if_changed() is False
    assert caplog.text == ""
    rewrite(
        pki_files.crl_intermediate,
        pem_of(pki.make_crl(pki.intermediate, revoked=[pki.leaves["valid"].cert])),
    )
    assert store.reload_if_changed() is True
    assert refusal(store, pki.leaves["valid"].cert).code == "revoked"


def test_removed_file_keeps_the_previous_state(store, pki, pki_files):
    pki_files.crl_intermediate.unlink()

    assert store.reload_if_changed() is False
    assert refusal(store, pki.leaves["revoked"].cert).code == "revoked"


def test_reload_raises_when_asked_explicitly(store, pki_files):
    pki_files.crl_root.write_bytes(b"garbage")

    with pytest.raises(TrustStoreError, match="not a CRL"):
        store.reload()


# -- forwarded certificates ------------------------------------------------------


def nginx_escape(pem: bytes) -> str:
    # $ssl_client_escaped_cert is ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT): everything
    # but letters, digits and -._~!'()* is escaped, newlines, "/", "+" and "=" included.
    return urllib.parse.quote(pem.decode(), safe="!'()*")


@pytest.mark.parametrize(
    "forward",
    [
        pytest.param(nginx_escape, id="nginx-escaped"),
        # Other proxies leave the base64 alphabet alone; a bare "+" must survive.
        pytest.param(
            lambda pem: urllib.parse.quote(pem.decode(), safe="/+="), id="lightly-escaped"
        ),
        pytest.param(lambda pem: pem.decode(), id="raw-pem"),
        pytest.param(lambda pem: pem, id="raw-pem-bytes"),
        # nginx's old $ssl_client_cert folds lines with a leading tab.
        pytest.param(lambda pem: pem.decode().replace("\n", "\n\t").rstrip(), id="tab-folded"),
        # Some proxies flatten the newlines to spaces.
        pytest.param(lambda pem: pem.decode().replace("\n", " "), id="spaced"),
        pytest.param(
            lambda pem: base64.b64encode(x509.load_pem_x509_certificate(pem).public_bytes(
                serialization.Encoding.DER)).decode(),
            id="base64-der",
        ),
    ],
)
def test_forwarded_certificate_is_decoded(pki, store, forward):
    issued = pki.leaves["valid"]

    cert = load_forwarded_certificate(forward(issued.cert_pem))

    assert cert == issued.cert
    assert store.validate(cert).common_name == "Philippe DURANT"


def test_nginx_escaped_certificate_really_is_escaped(pki):
    escaped = nginx_escape(pki.leaves["valid"].cert_pem)

    assert escaped.startswith("-----BEGIN%20CERTIFICATE-----%0A")
    assert "\n" not in escaped


def test_forwarded_chain_yields_the_first_certificate(pki):
    chain = pki.leaves["valid"].cert_pem + pki.intermediate.cert_pem

    assert load_forwarded_certificate(nginx_escape(chain)) == pki.leaves["valid"].cert


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "(null)",
        "-",
        "%E9%ZZ",
        "hello world",
        "-----BEGIN CERTIFICATE-----%0AMIIB",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        base64.b64encode(b"\x30\x82\x01\x00 truncated").decode(),
        "A" * 100_000,
    ],
)
def test_forwarded_garbage_is_malformed(garbage):
    with pytest.raises(CertificateError) as info:
        load_forwarded_certificate(garbage)

    assert info.value.code == "malformed"
    assert info.value.message_fr == "Le certificat transmis est illisible."


def test_forwarded_private_key_is_malformed(pki):
    with pytest.raises(CertificateError) as info:
        load_forwarded_certificate(pki.leaves["valid"].key_pem)

    assert info.value.code == "malformed"


# -- the test PKI itself -----------------------------------------------------------


def test_pki_writes_everything(pki, pki_files):
    assert x509.load_pem_x509_certificates(pki_files.ca_bundle.read_bytes()) == [
        pki.root.cert,
        pki.intermediate.cert,
    ]
    assert x509.load_pem_x509_crl(pki_files.crl_intermediate.read_bytes()).issuer == (
        pki.intermediate.cert.subject
    )
    assert x509.load_der_x509_crl(pki_files.crl_root.read_bytes()).issuer == pki.root.cert.subject
    for name, files in pki_files.leaves.items():
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        assert cert == pki.leaves[name].cert
        assert cert.public_key() == key.public_key()
        assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    server = x509.load_pem_x509_certificate(pki_files.server_cert.read_bytes())
    server.verify_directly_issued_by(
        x509.load_pem_x509_certificate(pki_files.server_ca.read_bytes())
    )
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
