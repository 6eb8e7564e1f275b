"""A throw-away public key infrastructure for tests.

`TestPKI` mints, in memory and in a fraction of a second, everything the
SIGNEXPERT login needs to be exercised end to end:

    CSOEC Test Root CA                      (trust anchor, in the CA bundle)
    └── SIGNEXPERT Test CA                  (intermediate, in the CA bundle)
        ├── valid          clientAuth, valid for one year
        ├── expired        clientAuth, expired a year ago
        ├── not_yet_valid  clientAuth, valid from next month
        ├── revoked        clientAuth, listed in the intermediate's CRL
        └── wrong_usage    serverAuth only
    Foreign Test Root CA                    (not in the bundle)
    └── foreign            clientAuth, otherwise perfect
    Comptexpert Test Server CA              (for TLS listeners)
    └── server             localhost / 127.0.0.1, serverAuth

The module is self-contained (only `cryptography`) so that it can be imported
from any test directory without a `tests` package. ECDSA P-256 keeps key
generation fast; the profile (extensions, criticality) follows what the
`cryptography` web-PKI verifier expects of a conforming CA.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Issued", "PKIFiles", "TestPKI", "LEAF_NAMES"]

LEAF_NAMES = ("valid", "expired", "not_yet_valid", "revoked", "wrong_usage", "foreign")

ORGANIZATION = "Ordre des experts-comptables"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass(frozen=True)
class LeafFiles:
    cert: Path
    key: Path


@dataclass(frozen=True)
class PKIFiles:
    """Where `TestPKI.write` put things."""

    ca_bundle: Path  # root + intermediate, what the provider trusts
    crl_intermediate: Path  # PEM, signed by the intermediate
    crl_root: Path  # DER, signed by the root (covers the intermediate)
    leaves: dict[str, LeafFiles] = field(default_factory=dict)
    foreign_ca: Path | None = None
    server_ca: Path | None = None
    server_cert: Path | None = None
    server_key: Path | None = None

    @property
    def crls(self) -> list[Path]:
        return [self.crl_intermediate, self.crl_root]


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(
    common_name: str, email: str | None = None, organization: str = ORGANIZATION
) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attributes)


class TestPKI:
    """Root, intermediate, leaves, CRLs and a TLS server certificate.

    Every date is relative to `now` (the real clock by default), so the
    certificates are what their names say when validated without an explicit
    time.
    """

    # Not a test class, whatever pytest thinks of the name once imported.
    __test__ = False

    def __init__(self, now: datetime.datetime | None = None) -> None:
        self.now = now or datetime.datetime.now(datetime.timezone.utc)
        day = datetime.timedelta(days=1)
        year = datetime.timedelta(days=365)

        self.root = self.issue_ca(_name("CSOEC Test Root CA"))
        self.intermediate = self.issue_ca(
            _name("SIGNEXPERT Test CA"), issuer=self.root, path_length=0
        )
        self.foreign_root = self.issue_ca(_name("Foreign Test Root CA", organization="Autre ordre"))
        self.server_ca = self.issue_ca(_name("Comptexpert Test Server CA"))

        self.leaves: dict[str, Issued] = {
            "valid": self.issue_leaf("Philippe DURANT", "philippe.durant@example.fr"),
            "expired": self.issue_leaf(
                "Hélène MARTIN",
                "helene.martin@example.fr",
                not_before=self.now - 2 * year,
                not_after=self.now - year,
            ),
            "not_yet_valid": self.issue_leaf(
                "Jean BERNARD",
                "jean.bernard@example.fr",
                not_before=self.now + 30 * day,
                not_after=self.now + year,
            ),
            "revoked": self.issue_leaf("Sophie PETIT", "sophie.petit@example.fr"),
            "wrong_usage": self.issue_leaf(
                "Marc LEROY",
                "marc.leroy@example.fr",
                usages=[ExtendedKeyUsageOID.SERVER_AUTH],
            ),
            "foreign": self.issue_leaf(
                "Philippe DURANT", "philippe.durant@example.fr", issuer=self.foreign_root
            ),
        }
        self.server = self.issue_server(self.server_ca)

        self.crl_intermediate = self.make_crl(
            self.intermediate, revoked=[self.leaves["revoked"].cert]
        )
        self.crl_root = self.make_crl(self.root, revoked=[])

    # -- minting -------------------------------------------------------------

    def issue_ca(
        self,
        subject: x509.Name,
        *,
        issuer: Issued | None = None,
        path_length: int | None = None,
    ) -> Issued:
        """A CA certificate, self-signed unless `issuer` is given."""
        key = _new_key()
        signer_key = issuer.key if issuer else key
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.cert.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - datetime.timedelta(days=3 * 365))
            .not_valid_after(self.now + datetime.timedelta(days=10 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
                critical=False,
            )
        )
        return Issued(builder.sign(signer_key, hashes.SHA256()), key)

    def issue_leaf(
        self,
        common_name: str,
        email: str | None,
        *,
        issuer: Issued | None = None,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        usages: list[x509.ObjectIdentifier] | None = None,
        email_in_san: bool = True,
    ) -> Issued:
        """A personal SIGNEXPERT-like certificate (clientAuth by default).

        Real SIGNEXPERT certificates last three years; one is enough here.
        The email goes in the subject DN and, unless `email_in_san` is false,
        in the subjectAltName too.
        """
        issuer = issuer or self.intermediate
        key = _new_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, email))
            .issuer_name(issuer.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or self.now - datetime.timedelta(days=1))
            .not_valid_after(not_after or self.now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(usages or [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                critical=False,
            )
        )
        if email and email_in_san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
            )
        return Issued(builder.sign(issuer.key, hashes.SHA256()), key)

    def issue_server(self, issuer: Issued) -> Issued:
        """A TLS server certificate for localhost and 127.0.0.1."""
        key = _new_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("localhost", organization="Comptexpert tests"))
            .issuer_name(issuer.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - datetime.timedelta(days=1))
            .not_valid_after(self.now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                critical=False,
            )
        )
        return Issued(builder.sign(issuer.key, hashes.SHA256()), key)

    def make_crl(
        self,
        issuer: Issued,
        revoked: list[x509.Certificate],
        *,
        this_update: datetime.datetime | None = None,
        next_update: datetime.datetime | None = None,
    ) -> x509.CertificateRevocationList:
        """A CRL signed by `issuer`, fresh for a week unless told otherwise."""
        this_update = this_update or self.now - datetime.timedelta(hours=1)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.cert.subject)
            .last_update(this_update)
            .next_update(next_update or this_update + datetime.timedelta(days=7))
            .add_extension(x509.CRLNumber(int(this_update.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                critical=False,
            )
        )
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(this_update)
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        return builder.sign(issuer.key, hashes.SHA256())

    # -- files ---------------------------------------------------------------

    @property
    def ca_bundle_pem(self) -> bytes:
        """Root then intermediate, the way the CA publishes them."""
        return self.root.cert_pem + self.intermediate.cert_pem

    def write(self, dirpath: str | os.PathLike[str]) -> PKIFiles:
        """Write every certificate, key and CRL under `dirpath`.

        The intermediate's CRL is PEM and the root's is DER, so that both
        encodings are exercised by whoever loads them.
        """
        directory = Path(dirpath)
        directory.mkdir(parents=True, exist_ok=True)

        def put(name: str, data: bytes, private: bool = False) -> Path:
            path = directory / name
            path.write_bytes(data)
            if private:
                path.chmod(0o600)
            return path

        leaves = {
            name: LeafFiles(
                cert=put(f"{name}.crt.pem", issued.cert_pem),
                key=put(f"{name}.key.pem", issued.key_pem, private=True),
            )
            for name, issued in self.leaves.items()
        }
        return PKIFiles(
            ca_bundle=put("ca-bundle.pem", self.ca_bundle_pem),
            crl_intermediate=put(
                "signexpert-ca.crl.pem",
                self.crl_intermediate.public_bytes(serialization.Encoding.PEM),
            ),
            crl_root=put("root-ca.crl", self.crl_root.public_bytes(serialization.Encoding.DER)),
            leaves=leaves,
            foreign_ca=put("foreign-ca.pem", self.foreign_root.cert_pem),
            server_ca=put("server-ca.pem", self.server_ca.cert_pem),
            server_cert=put("server.crt.pem", self.server.cert_pem),
            server_key=put("server.key.pem", self.server.key_pem, private=True),
        )
