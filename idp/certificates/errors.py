"""Why a SIGNEXPERT certificate was refused.

    Exception
    ├── CertificateError               the certificate is refused (code, messages)
    │   ├── CertificateMalformed       "malformed": not a readable X.509 certificate
    │   ├── CertificateUntrusted       "untrusted": does not chain to the profession's CA
    │   ├── CertificateExpired         "expired"
    │   ├── CertificateNotYetValid     "not_yet_valid"
    │   ├── CertificateWrongUsage      "wrong_usage": no clientAuth extended key usage
    │   ├── CertificateRevoked         "revoked": listed in its issuer's CRL
    │   └── RevocationUnavailable      "revocation_unavailable": the CRL is out of date
    └── TrustStoreError                the CA bundle or a CRL file is unusable (our fault)

`message_fr` and `message_en` are public: they may be shown to the person
holding the certificate. `detail` is for the logs only (distinguished names,
serials, the verifier's own words) and must never reach a response.
"""

from __future__ import annotations

import datetime

__all__ = [
    "CertificateError",
    "CertificateExpired",
    "CertificateMalformed",
    "CertificateNotYetValid",
    "CertificateRevoked",
    "CertificateUntrusted",
    "CertificateWrongUsage",
    "RevocationUnavailable",
    "TrustStoreError",
]

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    _PARIS: datetime.tzinfo = ZoneInfo("Europe/Paris")
except (ImportError, ZoneInfoNotFoundError):  # pragma: no cover - image without tzdata
    # A date off by one around midnight beats refusing to start.
    _PARIS = datetime.timezone.utc


class CertificateError(Exception):
    """A client certificate was refused; `code` says why."""

    code = "invalid"
    _fr = "Ce certificat n'a pas pu être vérifié."
    _en = "This certificate could not be verified."

    def __init__(self, detail: str | None = None, **params: str) -> None:
        self.detail = detail
        self.message_fr = self._fr.format(**params)
        self.message_en = self._en.format(**params)
        super().__init__(f"{self.code}: {detail or self.message_en}")


class CertificateMalformed(CertificateError):
    code = "malformed"
    _fr = "Le certificat transmis est illisible."
    _en = "The certificate sent could not be read."


class CertificateUntrusted(CertificateError):
    code = "untrusted"
    _fr = "Ce certificat n'a pas été émis par l'autorité de certification de la profession."
    _en = "This certificate was not issued by the profession's certification authority."


class CertificateExpired(CertificateError):
    code = "expired"
    _fr = "Ce certificat a expiré le {date_fr}."
    _en = "This certificate expired on {date_en}."

    def __init__(self, not_after: datetime.datetime, detail: str | None = None) -> None:
        self.not_after = not_after
        super().__init__(detail, **_dates(not_after))


class CertificateNotYetValid(CertificateError):
    code = "not_yet_valid"
    _fr = "Ce certificat n'est valable qu'à partir du {date_fr}."
    _en = "This certificate is not valid before {date_en}."

    def __init__(self, not_before: datetime.datetime, detail: str | None = None) -> None:
        self.not_before = not_before
        super().__init__(detail, **_dates(not_before))


class CertificateWrongUsage(CertificateError):
    code = "wrong_usage"
    _fr = (
        "Ce certificat ne permet pas l'authentification d'un client "
        "(usage étendu clientAuth absent)."
    )
    _en = (
        "This certificate does not allow client authentication "
        "(clientAuth extended key usage missing)."
    )


class CertificateRevoked(CertificateError):
    code = "revoked"
    _fr = "Ce certificat a été révoqué par l'autorité de certification."
    _en = "This certificate has been revoked by the certification authority."


class RevocationUnavailable(CertificateError):
    code = "revocation_unavailable"
    _fr = (
        "La révocation de ce certificat ne peut pas être vérifiée pour le moment. "
        "Veuillez réessayer plus tard."
    )
    _en = (
        "The revocation status of this certificate cannot be checked at the moment. "
        "Please try again later."
    )


class TrustStoreError(Exception):
    """The CA bundle or a CRL file cannot be used: a deployment problem."""


def _dates(when: datetime.datetime) -> dict[str, str]:
    # People read dates on the French civil calendar, not in UTC.
    local = when.astimezone(_PARIS)
    return {"date_fr": local.strftime("%d/%m/%Y"), "date_en": local.strftime("%Y-%m-%d")}
