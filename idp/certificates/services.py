"""SIGNEXPERT certificates bound to accounts: binding, removal, login.

A certificate logs into the account it is bound to, by one of two ways:

* ``bound_by="user"``: its holder presented it while logged in with his
  password and his authenticator app (``eidas2`` or more), in Sécurité;
* ``bound_by="register"``: the Tableau de l'Ordre names the certificate the
  Ordre issued to a member (subject and serial number). The register does not
  carry the certificate itself, so the binding row is written the first time
  the certificate is presented, for the verified account of that register
  entry. The register stays the authority on it: the holder cannot remove it
  (the Ordre revokes it, which the CRL carries), and an import that no longer
  names it removes it (``sync_register_certificates``).

Every function takes a certificate that ``TrustStore.validate`` accepted;
nothing here reads HTTP. Nothing commits: the view does, once.
"""
from __future__ import annotations

import re
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy import select, update

from scopes.acr import acr_satisfies

from ..accounts.models import EXPERT_VERIFIED, User
from ..db import utcnow
from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..register.models import RegisterEntry
from ..sessions.models import LoginSession
from ..sessions.services import SIGNEXPERT
from .models import UserCertificate
from .trust import ValidatedCertificate

BY_USER = "user"
BY_REGISTER = "register"
# Binding a certificate gives its holder the strongest login to the account:
# it must not be possible with the password alone.
BIND_MIN_ACR = "eidas2"


class CertificateNotBound(Forbidden):
    """A valid certificate that opens no account (the page explains how to bind it)."""

    code = "certificate_not_bound"


# -- reading ----------------------------------------------------------------------

def list_certificates(user_id: int) -> list[UserCertificate]:
    """The certificates bound to an account, newest first (Sécurité page)."""
    return list(db.session.scalars(
        select(UserCertificate).where(UserCertificate.user_id == user_id)
        .order_by(UserCertificate.created_at.desc(), UserCertificate.id.desc())
    ))


def find_binding(fingerprint_sha256: str) -> UserCertificate | None:
    return db.session.scalar(
        select(UserCertificate).where(UserCertificate.fingerprint_sha256 == fingerprint_sha256)
    )


# -- the register's certificates ------------------------------------------------------

def normalise_serial(serial: str | None) -> str:
    """A serial number as certificate viewers show it, compared: hex, case, ``:`` and spaces ignored.

    ``"0A:3F 9c"`` and ``"a3f9c"`` are the same serial. Anything that is not
    hexadecimal gives ``""``, which matches nothing.
    """
    text = re.sub(r"[\s:]", "", serial or "").lower()
    text = text.removeprefix("0x")
    if not text or not re.fullmatch(r"[0-9a-f]+", text):
        return ""
    return text.lstrip("0") or "0"


_ATTRIBUTE_ALIASES = {"E": "EMAILADDRESS", "EMAIL": "EMAILADDRESS", "S": "ST", "SN": "SURNAME", "GN": "GIVENNAME",
                      "2.5.4.4": "SURNAME", "2.5.4.42": "GIVENNAME", "2.5.4.5": "SERIALNUMBER",
                      "1.2.840.113549.1.9.1": "EMAILADDRESS"}
_OID_NAMES = {NameOID.EMAIL_ADDRESS: "EMAILADDRESS", NameOID.SURNAME: "SURNAME", NameOID.GIVEN_NAME: "GIVENNAME",
              NameOID.SERIAL_NUMBER: "SERIALNUMBER", NameOID.STATE_OR_PROVINCE_NAME: "ST"}


def _fold_value(value: str) -> str:
    return " ".join(value.split()).casefold()


def _split_unescaped(text: str, separators: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    # RFC 4514 §2.4: "\," and friends, or two hex digits.
    return re.sub(r"\\([0-9A-Fa-f]{2}|.)", lambda m: chr(int(m.group(1), 16)) if len(m.group(1)) == 2 else m.group(1),
                  value)


def normalise_subject(subject: str | None) -> tuple[tuple[str, str], ...]:
    """A distinguished name as typed in the register, compared as a set of attributes.

    Accepts RFC 4514 (``CN=Philippe DURANT,O=...,C=FR``, either order) and
    OpenSSL's ``/C=FR/O=.../CN=...``. Attribute names are case-insensitive,
    values compared without case or extra spaces. ``()`` for anything
    unreadable, which matches nothing.
    """
    text = (subject or "").strip()
    if not text:
        return ()
    parts = _split_unescaped(text[1:], "/") if text.startswith("/") else _split_unescaped(text, ",;+")
    attributes = []
    for part in parts:
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            return ()
        name = name.strip().upper()
        attributes.append((_ATTRIBUTE_ALIASES.get(name, name), _fold_value(_unescape(value.strip()))))
    return tuple(sorted(attributes))


def certificate_subject_key(certificate: x509.Certificate) -> tuple[tuple[str, str], ...]:
    """The subject of ``certificate`` in the form ``normalise_subject`` gives."""
    attributes = []
    for attribute in certificate.subject:
        name = _OID_NAMES.get(attribute.oid) or (attribute.rfc4514_attribute_name.upper())
        value = attribute.value if isinstance(attribute.value, str) else attribute.value.decode("utf-8", "replace")
        attributes.append((name, _fold_value(value)))
    return tuple(sorted(attributes))


def names_certificate(entry: RegisterEntry, validated: ValidatedCertificate) -> bool:
    """Whether the register entry names this certificate: same serial and same subject."""
    serial = normalise_serial(entry.certificate_serial)
    return (bool(serial) and serial == normalise_serial(validated.serial)
            and normalise_subject(entry.certificate_subject) == certificate_subject_key(validated.certificate))


def register_holder(validated: ValidatedCertificate) -> User | None:
    """The verified account whose register entry names this certificate, if any.

    Looked up by the usual spellings of the serial (see ``_serial_spellings``),
    then checked on the subject: a serial alone is only unique per CA.
    """
    candidates = db.session.scalars(
        select(RegisterEntry).where(RegisterEntry.certificate_serial.is_not(None))
        .where(RegisterEntry.certificate_serial.in_(_serial_spellings(validated.serial)))
    ).all()
    for entry in candidates:
        if not names_certificate(entry, validated):
            continue
        user = db.session.scalar(select(User).where(User.register_entry_id == entry.id))
        if user is not None and user.expert_status == EXPERT_VERIFIED:
            return user
    return None


def _serial_spellings(serial_hex: str) -> list[str]:
    """How a register may spell this serial: bare hex in either case, padded to whole bytes, with colons."""
    bare = serial_hex.lower()
    padded = bare if len(bare) % 2 == 0 else "0" + bare
    spellings = {bare, "0x" + bare}
    # DER writes a leading 00 byte when the first bit is set; some viewers show it.
    for digits in (padded, "00" + padded):
        pairs = [digits[i:i + 2] for i in range(0, len(digits), 2)]
        spellings.update({digits, ":".join(pairs), " ".join(pairs)})
    return sorted({spelling for value in spellings for spelling in (value, value.upper())})


# -- login ---------------------------------------------------------------------------

def certificate_holder(validated: ValidatedCertificate) -> User | None:
    """The account this validated certificate opens, bound or named by the register; reads only.

    Raises ``Forbidden`` when that account is disabled.
    """
    binding = find_binding(validated.fingerprint_sha256)
    user = db.session.get(User, binding.user_id) if binding is not None else register_holder(validated)
    if user is not None and not user.active:
        raise Forbidden("Le compte associé à ce certificat est désactivé.", code="account_disabled")
    return user


def login_with_certificate(validated: ValidatedCertificate, now: datetime | None = None) -> User:
    """The account this validated certificate opens; the caller opens the session and commits.

    A certificate bound by nobody yet but named by the register for a
    verified member is bound to that member's account now. Raises
    ``CertificateNotBound`` when it opens no account, ``Forbidden`` when
    that account is disabled.
    """
    user = certificate_holder(validated)
    if user is None:
        raise CertificateNotBound("Ce certificat n'est associé à aucun compte Comptexpert.")
    if find_binding(validated.fingerprint_sha256) is None:
        _new_binding(user, validated, BY_REGISTER, now)
    return user


# -- binding and removal --------------------------------------------------------------

def _new_binding(user: User, validated: ValidatedCertificate, bound_by: str, now: datetime | None) -> UserCertificate:
    binding = UserCertificate(
        user_id=user.id,
        fingerprint_sha256=validated.fingerprint_sha256,
        subject=validated.subject[:500],
        issuer=validated.issuer[:500],
        serial=validated.serial[:64],
        not_after=validated.not_after.replace(tzinfo=None),
        bound_by=bound_by,
        created_at=now or utcnow(),
    )
    db.session.add(binding)
    db.session.flush()
    return binding


def bind_certificate(user: User, validated: ValidatedCertificate, *, session_acr: str | None,
                     now: datetime | None = None) -> UserCertificate:
    """Bind a presented certificate to ``user`` (Sécurité); the caller commits.

    Allowed only in a session at ``eidas2`` or more: whoever learnt the
    password must not be able to attach his own certificate and so give
    himself the strongest login. Raises ``Forbidden`` for a weaker session,
    ``Conflict`` when the certificate is already bound (to this account or
    another) or the register gives it to another member.
    """
    if not acr_satisfies(session_acr, BIND_MIN_ACR):
        raise Forbidden(
            "Pour associer un certificat, connectez-vous avec votre mot de passe et votre application "
            "d'authentification.", code="assurance_too_low")
    existing = find_binding(validated.fingerprint_sha256)
    if existing is not None:
        if existing.user_id == user.id:
            raise Conflict("Ce certificat est déjà associé à votre compte.", code="certificate_already_bound")
        raise Conflict("Ce certificat est déjà associé à un autre compte Comptexpert.",
                       code="certificate_bound_elsewhere")
    holder = register_holder(validated)
    if holder is not None and holder.id != user.id:
        raise Conflict("D'après le Tableau de l'Ordre, ce certificat a été délivré à un autre membre.",
                       code="certificate_bound_elsewhere")
    return _new_binding(user, validated, BY_REGISTER if holder is not None else BY_USER, now)


def remove_certificate(user_id: int, certificate_id: int, *, keep_sid: str | None = None,
                       now: datetime | None = None) -> UserCertificate:
    """Unbind one of ``user_id``'s certificates; it opens nothing from now on. The caller commits.

    Sessions of the account opened with a certificate are ended too (but
    ``keep_sid``, the one asking): a session does not record which
    certificate opened it, and one opened with the certificate being
    removed, perhaps a lost one, must not outlive it.
    Raises ``NotFound`` for a certificate that is not this user's, and
    ``Forbidden`` for one the register gave (the Ordre withdraws those).
    """
    binding = db.session.get(UserCertificate, certificate_id)
    if binding is None or binding.user_id != user_id:
        raise NotFound("Ce certificat n'est pas associé à votre compte.")
    if binding.bound_by == BY_REGISTER:
        raise Forbidden(
            "Ce certificat vous a été attribué par l'Ordre : pour ne plus l'utiliser, demandez sa révocation "
            "au support.", code="certificate_from_register")
    db.session.delete(binding)
    query = (update(LoginSession)
             .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None),
                    LoginSession.acr == SIGNEXPERT.acr)
             .values(ended_at=now or utcnow()))
    if keep_sid:
        query = query.where(LoginSession.sid != keep_sid)
    db.session.execute(query)
    db.session.flush()
    return binding


def sync_register_certificates(entries: list[RegisterEntry]) -> int:
    """After a register import: drop register bindings the register no longer names; the count.

    The register is the authority on the certificates it gave: a renewed
    or withdrawn certificate stops opening the account with the import that
    says so. Bindings the holder made himself are left alone.
    """
    by_id = {entry.id: entry for entry in entries}
    if not by_id:
        return 0
    removed = 0
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            select(UserCertificate, User.register_entry_id)
            .join(User, User.id == UserCertificate.user_id)
            .where(UserCertificate.bound_by == BY_REGISTER, User.register_entry_id.in_(ids[start:start + 500]))
        ).all()
        for binding, entry_id in rows:
            entry = by_id[entry_id]
            serial = normalise_serial(entry.certificate_serial)
            still_named = (bool(serial) and serial == normalise_serial(binding.serial)
                           and normalise_subject(entry.certificate_subject) == normalise_subject(binding.subject))
            if not still_named:
                db.session.delete(binding)
                removed += 1
    db.session.flush()
    return removed
