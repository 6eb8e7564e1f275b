"""Second factor and Sécurité rules: authenticator app, recovery codes, password change.

Every function takes the account and what the user typed, checks it, and
leaves the commit to the caller (one transaction per request). Checks that
consume something (a TOTP time step, a recovery code) are single
conditional ``UPDATE``s, so two simultaneous requests on two nodes cannot
both use the same code.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, or_, select, update

from ..accounts.models import RecoveryCode, User
from ..accounts.passwords import hash_password, verify_password
from ..accounts.services import check_password_policy
from ..errors import Conflict, InvalidInput
from ..events.services import other_sessions_ending
from ..extensions import db
from ..sessions.services import end_other_sessions
from . import recovery, totp
from .crypto import decrypt_bytes, encrypt_bytes

OTP = "otp"
RECOVERY = "recovery"


# -- the TOTP secret, encrypted with the key-encryption key --------------------------

def _associated_data(user) -> str:
    return f"totp:{user.id}"


def totp_secret(user, kek: str) -> str | None:
    """The account's TOTP secret (enrolled or being enrolled), decrypted."""
    if not user.totp_secret_encrypted:
        return None
    return decrypt_bytes(user.totp_secret_encrypted, kek, _associated_data(user)).decode()


def start_enrolment(user, kek: str) -> str:
    """Give the account a new secret, not yet enabled; return it. The caller commits.

    Starting again replaces the previous unconfirmed secret, so an old QR
    code left on screen somewhere is worthless.
    """
    if user.has_totp:
        raise Conflict(_("Une application d'authentification est déjà activée sur ce compte."))
    secret = totp.new_secret()
    user.totp_secret_encrypted = encrypt_bytes(secret.encode(), kek, _associated_data(user))
    user.totp_last_step = None
    return secret


def enrolment_secret(user, kek: str) -> str | None:
    """The secret of an enrolment started but not confirmed yet."""
    return None if user.has_totp else totp_secret(user, kek)


def _consume_step(user, step: int) -> bool:
    """Record ``step`` as used, unless it (or a later one) already was: RFC 6238 §5.2."""
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def check_totp(user, code: str, kek: str, now: datetime) -> bool:
    """Whether ``code`` is a valid, not yet used code of the account's app; uses it."""
    secret = totp_secret(user, kek)
    if secret is None:
        return False
    step = totp.matching_step(secret, code, now, user.totp_last_step)
    return step is not None and _consume_step(user, step)


def confirm_enrolment(user, code: str, kek: str, now: datetime) -> list[str]:
    """Enable the app once the user typed one right code; return fresh recovery codes (shown once)."""
    if user.has_totp:
        raise Conflict(_("Une application d'authentification est déjà activée sur ce compte."))
    if enrolment_secret(user, kek) is None:
        raise Conflict(_("Commencez par ajouter une application d'authentification."))
    if not check_totp(user, code, kek, now):
        raise InvalidInput(_("Code incorrect. Vérifiez l'heure de votre téléphone et saisissez le code affiché."),
                           field="code")
    user.totp_enabled_at = now
    return replace_recovery_codes(user, now)


# -- recovery codes -----------------------------------------------------------------

def replace_recovery_codes(user, now: datetime) -> list[str]:
    """Issue a new set of recovery codes, voiding the previous ones; return them in clear (shown once)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [recovery.new_code() for _ in range(recovery.COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=recovery.code_hash(code), created_at=now) for code in codes
    )
    db.session.flush()
    return codes


def remaining_recovery_codes(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    ) or 0


def use_recovery_code(user, code: str, now: datetime) -> bool:
    """Whether ``code`` is an unused recovery code of the account; marks it used."""
    if not recovery.looks_like_recovery_code(code):
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == recovery.code_hash(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def verify_second_factor(user, code: str, kek: str, now: datetime) -> str | None:
    """``"otp"`` or ``"recovery"`` if ``code`` proves the second factor of ``user``; ``None`` otherwise."""
    if not user.has_totp:
        return None
    if totp.looks_like_totp(code):
        return OTP if check_totp(user, code, kek, now) else None
    return RECOVERY if use_recovery_code(user, code, now) else None


def recovery_code_notice(remaining: int) -> str:
    """What to tell someone who just used a recovery code."""
    if remaining == 0:
        return _("Code de secours accepté. C'était le dernier : générez-en de nouveaux dans Sécurité.")
    return ngettext("Code de secours accepté. Il vous en reste %(num)d.",
                    "Code de secours accepté. Il vous en reste %(num)d.", remaining)


# -- Sécurité actions ----------------------------------------------------------------

def _check_password(user, password: str, field: str = "password") -> None:
    ok, new_hash = verify_password(user.password_hash, password or "")
    if not ok:
        raise InvalidInput(_("Mot de passe incorrect."), field=field)
    if new_hash:
        user.password_hash = new_hash


def disable_totp(user, *, password: str, code: str, kek: str, now: datetime) -> None:
    """Remove the app and its recovery codes; asks the password and a current code (or a recovery code)."""
    if not user.has_totp:
        raise Conflict(_("Aucune application d'authentification n'est activée."))
    _check_password(user, password)
    if verify_second_factor(user, code, kek, now) is None:
        raise InvalidInput(_("Code incorrect."), field="code")
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def regenerate_recovery_codes(user, *, code: str, kek: str, now: datetime) -> list[str]:
    """New recovery codes, against a current code of the app: a session left open is not enough."""
    if not user.has_totp:
        raise Conflict(_("Aucune application d'authentification n'est activée."))
    if not check_totp(user, code, kek, now):
        raise InvalidInput(_("Code incorrect."), field="code")
    return replace_recovery_codes(user, now)


def change_password(user, *, current_password: str, new_password: str, keep_sid: str, now: datetime) -> int:
    """Set a new password and end every other session; return how many were ended. The caller commits."""
    _check_password(user, current_password, field="current_password")
    try:
        check_password_policy(new_password)
    except InvalidInput as error:
        raise InvalidInput(error.message, field="new_password") from error
    if verify_password(user.password_hash, new_password)[0]:
        raise InvalidInput(_("Le nouveau mot de passe doit être différent de l'actuel."), field="new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    other_sessions_ending(user, keep_sid, "password_changed", now=now)
    return end_other_sessions(user.id, keep_sid, now)
