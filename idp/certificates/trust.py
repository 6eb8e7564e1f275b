"""Trust in SIGNEXPERT client certificates.

A `TrustStore` holds the profession's CA bundle (root and intermediates) and
the CRLs its CAs publish. `TrustStore.validate` accepts a certificate only if

1. it chains to a root of the bundle, every certificate on the path is valid
   now, and the leaf carries the clientAuth extended key usage (path building
   and checks are `cryptography.x509.verification`'s, web-PKI profile);
2. no certificate on that path, other than the trust anchor, is listed in a
   CRL of its issuer, and those CRLs are not past their nextUpdate.

Revocation policy, on purpose:

* A CA for which no CRL file is configured is not checked: its certificates
  count as not revoked. Configuring a CRL for a CA is what turns the check on.
* Once a CA has CRLs, they must be current. If none of them is within its
  nextUpdate the answer is `RevocationUnavailable`, not "accepted": a stale
  CRL cannot tell about a revocation made since, so we fail closed.
* Only complete CRLs are understood; delta CRLs and partitioned CRLs
  (Issuing Distribution Point) are not, and OCSP is not consulted.

The store keeps an immutable snapshot and swaps it whole on reload, so
`validate` needs no lock and sees either the old files or the new ones.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import logging
import os
import re
import threading
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from .errors import (
    CertificateError,
    CertificateExpired,
    CertificateMalformed,
    CertificateNotYetValid,
    CertificateRevoked,
    CertificateUntrusted,
    CertificateWrongUsage,
    RevocationUnavailable,
    TrustStoreError,
)

__all__ = [
    "TrustStore",
    "ValidatedCertificate",
    "load_certificate",
    "load_forwarded_certificate",
]

log = logging.getLogger(__name__)

# RFC 4514 has no short name for emailAddress; OpenSSL's is what people
# recognise when a DN is displayed or compared by eye.
_NAME_OVERRIDES = {NameOID.EMAIL_ADDRESS: "emailAddress"}

# A certificate is a few kilobytes even URL-escaped; anything much bigger is
# not one, and we will not spend time decoding it.
_MAX_HEADER_LENGTH = 64 * 1024

_PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL
)
_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.*?-----END X509 CRL-----", re.DOTALL)

# The web-PKI profile, except that the leaf need not have a subjectAltName:
# that profile wants one to match a host name, but a personal certificate
# names its holder in the subject DN (RFC 5280 4.2.1.6 allows it), and no
# name is matched here; the account is bound to the certificate elsewhere.
_EE_POLICY = ExtensionPolicy.webpki_defaults_ee().may_be_present(
    x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
)
# The same minus the leaf's extended key usage. Used only to explain a
# refusal: it tells "our CA, wrong usage" from "someone else's CA".
_EE_POLICY_ANY_USAGE = _EE_POLICY.may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)


@dataclass(frozen=True)
class ValidatedCertificate:
    """A client certificate that passed `TrustStore.validate`.

    `subject` and `issuer` are RFC 4514 strings (most specific first,
    emailAddress spelled out); `serial` and `fingerprint_sha256` are
    lowercase hex, the fingerprint being of the DER encoding. `chain` runs
    from the leaf (`certificate`) to the trust anchor.
    """

    certificate: x509.Certificate
    subject: str
    issuer: str
    serial: str
    fingerprint_sha256: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    common_name: str | None
    email: str | None
    chain: tuple[x509.Certificate, ...]

    @classmethod
    def from_chain(cls, chain: Sequence[x509.Certificate]) -> ValidatedCertificate:
        """Describe the leaf of a chain already validated (leaf first)."""
        leaf = chain[0]
        der = leaf.public_bytes(serialization.Encoding.DER)
        return cls(
            certificate=leaf,
            subject=leaf.subject.rfc4514_string(_NAME_OVERRIDES),
            issuer=leaf.issuer.rfc4514_string(_NAME_OVERRIDES),
            serial=format(leaf.serial_number, "x"),
            fingerprint_sha256=hashlib.sha256(der).hexdigest(),
            not_before=leaf.not_valid_before_utc,
            not_after=leaf.not_valid_after_utc,
            common_name=_first_attribute(leaf.subject, NameOID.COMMON_NAME),
            email=_email_of(leaf),
            chain=tuple(chain),
        )

    @property
    def pem(self) -> str:
        """The leaf in PEM, e.g. to keep it with the account it is bound to."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class _Snapshot:
    """What the files said when they were last read successfully."""

    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...]
    store: Store
    crls: dict[tuple[bytes, bytes], tuple[x509.CertificateRevocationList, ...]]
    stamps: tuple[object, ...]


class TrustStore:
    """The profession's CAs and their CRLs, re-read when the files change."""

    def __init__(
        self, ca_file: str | os.PathLike[str], crl_files: Iterable[str | os.PathLike[str]] = ()
    ) -> None:
        """Read `ca_file` (PEM bundle) and `crl_files` (PEM or DER) now.

        Raises `TrustStoreError` if any of them is unusable, so that a bad
        deployment fails at start-up rather than at the first login.
        """
        self.ca_file = Path(ca_file)
        self.crl_files = tuple(Path(path) for path in crl_files)
        self._reload_lock = threading.Lock()
        self._failed_stamps: tuple[object, ...] | None = None
        self._snapshot = self._load(self._stat())

    @classmethod
    def from_files(
        cls, ca_file: str | os.PathLike[str], crl_files: Iterable[str | os.PathLike[str]] = ()
    ) -> TrustStore:
        """Build a store from a PEM CA bundle and CRL files (PEM or DER)."""
        return cls(ca_file, crl_files)

    @property
    def roots(self) -> tuple[x509.Certificate, ...]:
        """The self-signed certificates of the bundle: the trust anchors."""
        return self._snapshot.roots

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        """The other certificates of the bundle, offered to path building."""
        return self._snapshot.intermediates

    # -- files ---------------------------------------------------------------

    def reload(self) -> None:
        """Re-read every file now; raise `TrustStoreError` and keep the old state on failure."""
        with self._reload_lock:
            self._snapshot = self._load(self._stat())
            self._failed_stamps = None

    def reload_if_changed(self) -> bool:
        """Re-read the files if any changed since last read; True if reloaded.

        Costs one `stat` per file when nothing changed, so it can run on every
        request. A file that cannot be read or parsed (say, caught half
        written) leaves the previous CAs and CRLs in force and is logged; it is
        retried as soon as it changes again. Stale CRLs still end in
        `RevocationUnavailable`, so keeping the old ones cannot hide a
        revocation for longer than their nextUpdate.
        """
        stamps = self._stat()
        if stamps == self._snapshot.stamps or stamps == self._failed_stamps:
            return False
        # One thread reloads; the others go on with the current snapshot
        # rather than queue behind a parse.
        if not self._reload_lock.acquire(blocking=False):
            return False
        try:
            try:
                self._snapshot = self._load(stamps)
            except TrustStoreError:
                log.exception(
                    "SIGNEXPERT trust files changed but cannot be used; keeping the previous ones"
                )
                self._failed_stamps = stamps
                return False
            self._failed_stamps = None
            log.info("SIGNEXPERT trust files reloaded")
            return True
        finally:
            self._reload_lock.release()

    def _stat(self) -> tuple[object, ...]:
        stamps: list[object] = []
        for path in (self.ca_file, *self.crl_files):
            try:
                st = path.stat()
            except OSError:
                stamps.append((str(path), None))
            else:
                stamps.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
        return tuple(stamps)

    def _load(self, stamps: tuple[object, ...]) -> _Snapshot:
        certificates = _read_bundle(self.ca_file)
        roots = tuple(cert for cert in certificates if _is_self_signed(cert))
        if not roots:
            raise TrustStoreError(f"{self.ca_file}: no self-signed root certificate in the bundle")
        intermediates = tuple(cert for cert in certificates if cert not in roots)

        crls: dict[tuple[bytes, bytes], list[x509.CertificateRevocationList]] = {}
        for path in self.crl_files:
            for crl in _read_crls(path):
                issuer = _crl_issuer(crl, certificates)
                if issuer is None:
                    raise TrustStoreError(
                        f"{path}: CRL of {crl.issuer.rfc4514_string()} is not signed "
                        "by any CA of the bundle"
                    )
                if not _is_current(crl, datetime.datetime.now(datetime.timezone.utc)):
                    # Loaded all the same (it still lists revocations), but
                    # logins through this CA are refused until it is renewed.
                    log.warning("%s: CRL is past its nextUpdate (%s)", path, crl.next_update_utc)
                crls.setdefault(_key_of(issuer), []).append(crl)
        return _Snapshot(
            roots=roots,
            intermediates=intermediates,
            store=Store(list(roots)),
            crls={key: tuple(value) for key, value in crls.items()},
            stamps=stamps,
        )

    # -- validation ----------------------------------------------------------

    def validate(
        self,
        certificate: x509.Certificate | bytes | str,
        now: datetime.datetime | None = None,
    ) -> ValidatedCertificate:
        """Validate a client certificate for a SIGNEXPERT login.

        `certificate` is an `x509.Certificate`, PEM (str or bytes), DER bytes
        or base64 DER. `now` defaults to the current time; a naive datetime is
        taken as UTC. Returns the certificate's identity and chain, or raises
        a `CertificateError` whose `code` tells the reason.
        """
        leaf = load_certificate(certificate)
        now = _as_utc(now or datetime.datetime.now(datetime.timezone.utc))
        snapshot = self._snapshot
        try:
            chain = _verify(snapshot, leaf, now)
        except VerificationError as exc:
            raise _explain_refusal(snapshot, leaf, now, exc) from exc
        # The web-PKI profile accepts a leaf without any extended key usage
        # (RFC 5280: usable for anything). A login certificate must say so.
        if not _has_client_auth(leaf):
            raise CertificateWrongUsage(f"{_describe(leaf)}: no clientAuth extended key usage")
        _check_revocation(snapshot, chain, now)
        return ValidatedCertificate.from_chain(chain)


def _verify(
    snapshot: _Snapshot,
    leaf: x509.Certificate,
    when: datetime.datetime,
    *,
    any_usage: bool = False,
) -> list[x509.Certificate]:
    builder = (
        PolicyBuilder()
        .store(snapshot.store)
        .time(when)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=_EE_POLICY_ANY_USAGE if any_usage else _EE_POLICY,
        )
    )
    try:
        verified = builder.build_client_verifier().verify(leaf, list(snapshot.intermediates))
    except ValueError as exc:
        # Raised for extensions that parse as DER but not as what they claim to be.
        raise CertificateMalformed(f"{_describe(leaf)}: {exc}") from exc
    return list(verified.chain)


def _explain_refusal(
    snapshot: _Snapshot,
    leaf: x509.Certificate,
    now: datetime.datetime,
    exc: VerificationError,
) -> CertificateError:
    """Turn the verifier's refusal into the one reason a person can act on.

    The verifier stops at its first failure and checks usage before trust, so
    its message cannot be relied on. Instead, verify again at a moment when
    the leaf is within its validity and without the usage requirement: if
    that still fails, the certificate does not come from our CAs, whatever
    else is wrong with it; if it succeeds, the dates or the usage were the
    only problem.
    """
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    within_validity = min(max(now, not_before), not_after)
    try:
        _verify(snapshot, leaf, within_validity, any_usage=True)
    except VerificationError as retry_exc:
        return CertificateUntrusted(f"{_describe(leaf)}: {retry_exc}")
    if now > not_after:
        return CertificateExpired(
            not_after, f"{_describe(leaf)}: expired at {not_after.isoformat()}"
        )
    if now < not_before:
        return CertificateNotYetValid(
            not_before, f"{_describe(leaf)}: not valid before {not_before.isoformat()}"
        )
    if not _has_client_auth(leaf):
        return CertificateWrongUsage(f"{_describe(leaf)}: {exc}")
    # The leaf is fine but the path is not, now: typically an intermediate
    # of the bundle has expired. The person can do nothing about that either.
    return CertificateUntrusted(f"{_describe(leaf)}: {exc}")


def _check_revocation(
    snapshot: _Snapshot, chain: Sequence[x509.Certificate], now: datetime.datetime
) -> None:
    # The last certificate is the trust anchor: trusting it is configuration,
    # and no CRL can speak for it.
    for cert, issuer in zip(chain, chain[1:]):
        crls = snapshot.crls.get(_key_of(issuer))
        if not crls:
            continue  # No CRL configured for this CA: not checked, see the module docstring.
        for crl in crls:
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                raise CertificateRevoked(
                    f"{_describe(cert)} revoked on {entry.revocation_date_utc.isoformat()}"
                    f" ({_reason_of(entry)})"
                )
        if not any(_is_current(crl, now) for crl in crls):
            raise RevocationUnavailable(
                f"every CRL of {issuer.subject.rfc4514_string(_NAME_OVERRIDES)}"
                " is past its nextUpdate"
            )


# -- reading certificates ------------------------------------------------------


def load_forwarded_certificate(header_value: str | bytes) -> x509.Certificate:
    """Decode the client certificate a TLS-terminating proxy forwarded.

    Understands nginx's `$ssl_client_escaped_cert` (URL-encoded PEM), raw
    PEM, including the tab-folded lines of nginx's older `$ssl_client_cert`,
    and bare base64 DER. If several certificates are present, the first one
    (by convention the client's own) is returned. Raises
    `CertificateMalformed` for anything else, an empty value included: the
    caller decides beforehand whether a missing header means "no certificate".
    """
    if isinstance(header_value, bytes):
        header_value = header_value.decode("latin-1")
    if len(header_value) > _MAX_HEADER_LENGTH:
        raise CertificateMalformed(f"forwarded certificate too long ({len(header_value)} chars)")
    text = header_value.strip()
    if "%" in text:
        # unquote, not unquote_plus: a bare "+" is a base64 character here.
        try:
            text = urllib.parse.unquote(text, errors="strict")
        except UnicodeDecodeError as exc:
            raise CertificateMalformed(
                "forwarded certificate is not valid URL-encoded text"
            ) from exc
    match = _PEM_CERTIFICATE.search(text)
    if match:
        body = match.group(1)
    elif "-----" in text:
        raise CertificateMalformed("forwarded PEM has no complete CERTIFICATE block")
    else:
        body = text
    # Proxies fold, unfold or space out the base64 lines; none of it matters.
    compact = "".join(body.split())
    if not compact:
        raise CertificateMalformed("forwarded certificate is empty")
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CertificateMalformed("forwarded certificate is not base64") from exc
    return _load_der(der)


def load_certificate(certificate: x509.Certificate | bytes | str) -> x509.Certificate:
    """Return an `x509.Certificate` from an object, PEM, DER or base64 DER."""
    if isinstance(certificate, x509.Certificate):
        return certificate
    if isinstance(certificate, bytes) and not certificate.lstrip().startswith(b"-----BEGIN"):
        return _load_der(certificate)
    if isinstance(certificate, (bytes, str)):
        return load_forwarded_certificate(certificate)
    raise TypeError(f"expected a certificate, PEM or DER, got {type(certificate).__name__}")


def _load_der(der: bytes) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        # Parsing is lazy: touch what validation will read, so that a broken
        # certificate is "malformed" here rather than a crash further on.
        cert.extensions  # noqa: B018
        cert.not_valid_before_utc  # noqa: B018
        cert.not_valid_after_utc  # noqa: B018
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise CertificateMalformed(f"not an X.509 certificate: {exc}") from exc
    return cert


# -- reading the trust files -----------------------------------------------------


def _read_bundle(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrustStoreError(f"{path}: cannot read the CA bundle: {exc}") from exc
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise TrustStoreError(f"{path}: not a PEM certificate bundle: {exc}") from exc


def _read_crls(path: Path) -> list[x509.CertificateRevocationList]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrustStoreError(f"{path}: cannot read the CRL: {exc}") from exc
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            blocks = _PEM_CRL.findall(data)
            if not blocks:
                raise ValueError("no X509 CRL block")
            return [x509.load_pem_x509_crl(block) for block in blocks]
        return [x509.load_der_x509_crl(data)]
    except ValueError as exc:
        raise TrustStoreError(f"{path}: not a CRL (PEM or DER): {exc}") from exc


def _crl_issuer(
    crl: x509.CertificateRevocationList, certificates: Iterable[x509.Certificate]
) -> x509.Certificate | None:
    """The CA of the bundle that signed `crl` and may sign CRLs, if any."""
    for cert in certificates:
        if cert.subject != crl.issuer:
            continue
        try:
            usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        if usage is not None and not usage.crl_sign:
            continue
        try:
            if crl.is_signature_valid(cert.public_key()):
                return cert
        except TypeError:
            continue  # A key type that cannot sign CRLs.
    return None


def _is_self_signed(cert: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# -- small helpers -----------------------------------------------------------------


def _key_of(ca: x509.Certificate) -> tuple[bytes, bytes]:
    # Name and key, not the certificate itself: a CA certificate renewed on
    # the same key still signs the same CRLs.
    spki = ca.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ca.subject.public_bytes(), spki


def _is_current(crl: x509.CertificateRevocationList, now: datetime.datetime) -> bool:
    # A CRL without nextUpdate (RFC 5280 requires one) gives no freshness
    # guarantee at all, so it never counts as current.
    next_update = crl.next_update_utc
    return next_update is not None and now <= next_update


def _has_client_auth(cert: x509.Certificate) -> bool:
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in usages


def _email_of(cert: x509.Certificate) -> str | None:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        pass
    else:
        emails = san.get_values_for_type(x509.RFC822Name)
        if emails:
            return emails[0]
    return _first_attribute(cert.subject, NameOID.EMAIL_ADDRESS)


def _first_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    if not attributes:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _reason_of(entry: x509.RevokedCertificate) -> str:
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
    except x509.ExtensionNotFound:
        return "no reason given"


def _describe(cert: x509.Certificate) -> str:
    return (
        f"certificate {cert.subject.rfc4514_string(_NAME_OVERRIDES)} "
        f"serial {cert.serial_number:x} from {cert.issuer.rfc4514_string(_NAME_OVERRIDES)}"
    )


def _as_utc(when: datetime.datetime) -> datetime.datetime:
    if when.tzinfo is None:
        return when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)
