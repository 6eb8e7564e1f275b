"""SIGNEXPERT client certificates: whom to trust, and why one is refused.

Plain Python on `cryptography`; nothing here knows about Flask or the rest of
`idp`, so the application wires a `TrustStore` in and maps `CertificateError`
codes to pages itself.
"""

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
from .trust import TrustStore, ValidatedCertificate, load_certificate, load_forwarded_certificate

__all__ = [
    "CertificateError",
    "CertificateExpired",
    "CertificateMalformed",
    "CertificateNotYetValid",
    "CertificateRevoked",
    "CertificateUntrusted",
    "CertificateWrongUsage",
    "RevocationUnavailable",
    "TrustStore",
    "TrustStoreError",
    "ValidatedCertificate",
    "load_certificate",
    "load_forwarded_certificate",
]
