"""Account services: creation, password authentication, sign-up, email links, Mes informations.

Every function that writes leaves the commit to its caller (one
transaction per request); messages queued with ``idp.mail.send_mail`` leave
only once that transaction commits.
"""
from __future__ import annotations

import re
import secrets
import string
import unicodedata
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..db import digest, new_secret, utcnow
from ..errors import Conflict, Forbidden, InvalidInput
from ..events.services import sessions_ended
from ..extensions import db
from ..mail import mail_locale, send_mail
from ..sessions.services import end_all_sessions
from .models import EXPERT_PENDING, PROFILE_CODES, EmailToken, User
from .passwords import hash_password, verify_password

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD_LENGTH = 12


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively; we store them lower-cased and trimmed."""
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput(_("Adresse électronique invalide."), field="email")
    return email


def check_password_policy(password: str) -> None:
    """NIST SP 800-63B: length matters, composition rules do not."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("Le mot de passe doit contenir au moins %(min)d caractères.", min=MIN_PASSWORD_LENGTH), field="password"
        )
    if len(password) > 256:
        raise InvalidInput(_("Le mot de passe est trop long (256 caractères au plus)."), field="password")


def _ascii_letters(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalpha())


def new_identifiant(family_name: str) -> str:
    """An identifiant in the Comptexpert style (``pub09HP9``): 3 letters + 5 random.

    Random rather than sequential so that identifiants do not reveal how
    many accounts exist or when one was made.
    """
    prefix = (_ascii_letters(family_name) + "usr")[:3]
    alphabet = string.ascii_uppercase + string.digits
    for _ in range(20):
        candidate = prefix + "".join(secrets.choice(string.digits) for _ in range(2)) + "".join(
            secrets.choice(alphabet) for _ in range(3)
        )
        if db.session.scalar(select(User.id).where(User.identifiant == candidate)) is None:
            return candidate
    raise Conflict("Impossible d'attribuer un identifiant, réessayez.")


def create_user(
    *, email: str, password: str, given_name: str, family_name: str, email_verified: bool = False, locale: str = "fr"
) -> User:
    """Create an account; the caller commits. Raises ``Conflict`` if the email is taken."""
    email = normalise_email(email)
    check_password_policy(password)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("Un compte existe déjà avec cette adresse.", field="email")
    user = User(
        identifiant=new_identifiant(family_name),
        email=email,
        email_verified=email_verified,
        password_hash=hash_password(password),
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    return user


def find_user(login: str) -> User | None:
    """The account named by an identifiant or an email (case-insensitive email)."""
    login = (login or "").strip()
    if not login or len(login) > 254:
        return None
    if "@" in login:
        return db.session.scalar(select(User).where(User.email == login.lower()))
    return db.session.scalar(select(User).where(func.lower(User.identifiant) == login.lower()))


def authenticate_password(login: str, password: str) -> User | None:
    """The user if ``password`` is right for ``login``; ``None`` otherwise.

    The same work is done for unknown logins (a dummy hash is verified), so
    the answer time does not tell whether an account exists.
    """
    user = find_user(login)
    ok, new_hash = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        return None
    if new_hash:
        user.password_hash = new_hash
    return user


# -- sign-up, email links, Mes informations (issue 3) -------------------------------------
CONFIRM = "confirm"
RESET = "reset"
EXPERT_PROFILE = "expert_comptable"
LOCALES = ("fr", "en")

# Called with the user, inside the transaction, each time an address is
# confirmed (sign-up or change): other domains plug in here, such as
# delegations waiting for this address.
on_email_confirmed: list[Callable[[User], None]] = []

PHONE_RE = re.compile(r"^\+?[0-9 .()\-]{6,32}$")
POSTAL_CODE_RE = re.compile(r"^[A-Za-z0-9 \-]{2,16}$")
NUMERO_RE = re.compile(r"^[A-Za-z0-9 ./\-]{1,32}$")


def _text(value: str | None, field: str, max_length: int, *, required: bool = False) -> str:
    value = " ".join((value or "").split())  # one line, no stray spaces
    if required and not value:
        raise InvalidInput(_("Ce champ est obligatoire."), field=field)
    if len(value) > max_length:
        raise InvalidInput(_("%(max)d caractères au plus.", max=max_length), field=field)
    return value


def _pattern(value: str | None, field: str, pattern: re.Pattern, message: str) -> str:
    value = " ".join((value or "").split())
    if value and not pattern.match(value):
        raise InvalidInput(message, field=field)
    return value


def check_information(*, given_name: str, family_name: str, company: str = "", address: str = "",
                      postal_code: str = "", city: str = "", phone: str = "") -> dict[str, str]:
    """The personal information a user gives, cleaned; ``InvalidInput`` names the wrong field."""
    return {
        "given_name": _text(given_name, "given_name", 100, required=True),
        "family_name": _text(family_name, "family_name", 100, required=True),
        "company": _text(company, "company", 200),
        "address": _text(address, "address", 300),
        "postal_code": _pattern(_text(postal_code, "postal_code", 16), "postal_code", POSTAL_CODE_RE,
                                _("Code postal invalide.")),
        "city": _text(city, "city", 100),
        "phone": _pattern(_text(phone, "phone", 32), "phone", PHONE_RE,
                          _("Numéro de téléphone invalide : des chiffres, espaces, points ou tirets, "
                            "éventuellement précédés de +.")),
    }


def _link(endpoint: str, **values) -> str:
    """An absolute link on the issuer, never on the Host header of the request.

    A forged Host must not turn a reset mail into a link to an attacker's
    site carrying the victim's token.
    """
    return current_app.config["IDP_ISSUER"] + url_for(endpoint, **values)


def issue_email_token(user: User, purpose: str, *, email: str | None = None, ttl: int,
                      now: datetime | None = None) -> str:
    """A new single-use link secret for ``user``; earlier unused ones of the same purpose stop working.

    Only its digest is stored. The caller commits.
    """
    now = now or utcnow()
    db.session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None))
        .values(used_at=now)
    )
    secret = new_secret(32)
    db.session.add(EmailToken(token_hash=digest(secret), purpose=purpose, user_id=user.id,
                              email=email or user.email, created_at=now,
                              expires_at=now + timedelta(seconds=ttl)))
    db.session.flush()
    return secret


def _link_errors(purpose: str) -> tuple[str, str]:
    if purpose == RESET:
        return (_("Ce lien de réinitialisation n'est pas valable : il a déjà servi, "
                  "un lien plus récent l'a remplacé, ou il est incomplet."),
                _("Ce lien de réinitialisation a expiré."))
    return (_("Ce lien de confirmation n'est pas valable : il a déjà servi, "
              "un lien plus récent l'a remplacé, ou il est incomplet."),
            _("Ce lien de confirmation a expiré."))


def load_email_token(secret: str, purpose: str, now: datetime | None = None) -> EmailToken:
    """The unused, unexpired link behind ``secret``.

    Raises ``InvalidInput`` with code ``link_invalid`` (unknown, used,
    replaced, or its account disabled) or ``link_expired``.
    """
    invalid, expired = _link_errors(purpose)
    now = now or utcnow()
    token = db.session.get(EmailToken, digest(secret)) if secret and len(secret) <= 128 else None
    if token is None or token.purpose != purpose or token.used_at is not None:
        raise InvalidInput(invalid, code="link_invalid")
    user = db.session.get(User, token.user_id)
    if user is None or not user.active:
        raise InvalidInput(invalid, code="link_invalid")
    if token.expires_at <= now:
        raise InvalidInput(expired, code="link_expired")
    return token


def _use_email_token(token: EmailToken, now: datetime) -> None:
    # A conditional update, so that two clicks racing on one link cannot
    # both succeed: only the one that flips ``used_at`` goes on.
    result = db.session.execute(
        update(EmailToken)
        .where(EmailToken.token_hash == token.token_hash, EmailToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidInput(_link_errors(token.purpose)[0], code="link_invalid")


def _send_confirmation(user: User, *, email: str | None = None, template: str = "confirm_signup",
                       now: datetime | None = None) -> None:
    ttl = current_app.config["IDP_CONFIRM_TTL"]
    secret = issue_email_token(user, CONFIRM, email=email, ttl=ttl, now=now)
    send_mail(email or user.email, template, mail_locale(user), name=user.name, identifiant=user.identifiant,
              link=_link("accounts.confirm", token=secret), validity=timedelta(seconds=ttl))


def _send_address_in_use(owner: User) -> None:
    send_mail(owner.email, "address_in_use", mail_locale(owner), name=owner.name, identifiant=owner.identifiant,
              login_link=_link("auth.login"), reset_link=_link("accounts.reset_request"))


def sign_up(*, profile: str, given_name: str, family_name: str, email: str, password: str, company: str = "",
            address: str = "", postal_code: str = "", city: str = "", phone: str = "",
            numero_inscription: str | None = None, locale: str = "fr") -> User | None:
    """Create an account and mail its confirmation link. The caller commits.

    If the address already has an account, nothing is created and its owner
    is told by mail instead; the caller answers exactly as for a new
    account, and the same work is done (the password is hashed either
    way), so the page says nothing about who has an account. Returns the
    new user, or ``None`` in that case.

    Claiming the Expert-comptable profile makes the account ``pending``:
    it is verified against the register once the address is confirmed.
    """
    if profile not in PROFILE_CODES:
        raise InvalidInput(_("Choisissez votre profil."), field="profile")
    information = check_information(given_name=given_name, family_name=family_name, company=company,
                                    address=address, postal_code=postal_code, city=city, phone=phone)
    email = normalise_email(email)
    check_password_policy(password)
    numero = None
    if profile == EXPERT_PROFILE:
        numero = _pattern(numero_inscription, "numero_inscription", NUMERO_RE,
                          _("Numéro d'inscription invalide.")).upper() or None

    owner = db.session.scalar(select(User).where(User.email == email))
    if owner is not None:
        hash_password(password)  # the cost of a real sign-up, so the answer time tells nothing
        if owner.active:
            _send_address_in_use(owner)
        return None

    user = create_user(email=email, password=password, given_name=information["given_name"],
                       family_name=information["family_name"], locale=locale if locale in LOCALES else "fr")
    for field, value in information.items():
        setattr(user, field, value)
    user.profile = profile
    if profile == EXPERT_PROFILE:
        user.expert_status = EXPERT_PENDING
        user.claimed_numero = numero
    _send_confirmation(user)
    return user


def resend_confirmation(email: str) -> None:
    """Send a new confirmation link if ``email`` is an unconfirmed account's. The caller commits.

    The caller answers the same whatever happened here.
    """
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and user.active and not user.email_verified:
        _send_confirmation(user)


def confirm_email(secret: str, now: datetime | None = None) -> User:
    """Use a confirmation link: the address it was sent to becomes the account's, confirmed.

    For a sign-up that is the account's address; for a change, the new
    address replaces the old one only now, and the old one is told. An
    expert claim is then checked against the register, and the
    ``on_email_confirmed`` hooks run. The caller commits.
    """
    now = now or utcnow()
    token = load_email_token(secret, CONFIRM, now)
    user = db.session.get(User, token.user_id)
    old_email = user.email
    if token.email != old_email:
        taken = db.session.scalar(select(User.id).where(User.email == token.email, User.id != user.id))
        if taken is not None:
            raise Conflict(_("Cette adresse est devenue celle d'un autre compte : elle ne peut plus remplacer "
                             "la vôtre."), code="email_taken")
    _use_email_token(token, now)
    if token.email != old_email:
        user.email = token.email
        send_mail(old_email, "email_changed", mail_locale(user), name=user.name, identifiant=user.identifiant,
                  new_email=token.email)
    user.email_verified = True
    user.email_verified_at = now
    db.session.flush()
    if user.expert_status == EXPERT_PENDING:
        verify_expert_claim(user)
    for hook in on_email_confirmed:
        hook(user)
    return user


def verify_expert_claim(user: User) -> bool:
    """Match a pending expert against the register, when the register package offers it.

    Verification itself belongs to ``idp.register``; this only asks it.
    """
    try:
        from ..register import services as register_services
    except ModuleNotFoundError as exc:
        if exc.name != "idp.register.services":
            raise
        return False
    try_verify_expert = getattr(register_services, "try_verify_expert", None)
    return bool(try_verify_expert(user)) if try_verify_expert else False


def request_password_reset(login: str) -> None:
    """Mail a reset link to the account named by ``login`` (identifiant or email), if any.

    The caller answers the same whatever happened here; the mail leaves
    after the answer (see ``idp.mail``), so its time says nothing either.
    The caller commits.
    """
    user = find_user(login)
    if user is None or not user.active:
        return
    ttl = current_app.config["IDP_RESET_TTL"]
    secret = issue_email_token(user, RESET, ttl=ttl)
    send_mail(user.email, "reset_password", mail_locale(user), name=user.name, identifiant=user.identifiant,
              link=_link("accounts.reset_password", token=secret), validity=timedelta(seconds=ttl))


def reset_password(secret: str, new_password: str, now: datetime | None = None) -> User:
    """Use a reset link: set the new password, end every session, void the other links. The caller commits.

    Whoever used the old password, on any browser, is logged out; the
    owner is told by mail, in case it was not him.
    """
    now = now or utcnow()
    token = load_email_token(secret, RESET, now)
    check_password_policy(new_password)
    _use_email_token(token, now)
    user = db.session.get(User, token.user_id)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    db.session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == RESET, EmailToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    sessions_ended(user, end_all_sessions(user.id, now), "password_reset", now=now)
    send_mail(user.email, "password_changed", mail_locale(user), name=user.name, identifiant=user.identifiant,
              reset_link=_link("accounts.reset_request"))
    return user


def names_owned_by_register(user: User) -> bool:
    """A verified expert's names come from the Tableau de l'Ordre: he cannot edit them."""
    return user.is_expert


def update_information(user: User, *, given_name: str | None, family_name: str | None, company: str,
                       address: str, postal_code: str, city: str, phone: str, locale: str) -> None:
    """Change what the user owns on Mes informations. The caller commits.

    ``given_name`` and ``family_name`` are ``None`` when not edited; a
    verified expert may not change them (the register owns them).
    """
    register_owned = names_owned_by_register(user)
    if register_owned and ((given_name is not None and given_name.strip() != user.given_name)
                           or (family_name is not None and family_name.strip() != user.family_name)):
        raise Forbidden(_("Ces informations proviennent du Tableau de l'Ordre : elles ne se modifient pas ici."))
    if locale not in LOCALES:
        raise InvalidInput(_("Langue inconnue."), field="locale")
    information = check_information(
        given_name=user.given_name if given_name is None else given_name,
        family_name=user.family_name if family_name is None else family_name,
        company=company, address=address, postal_code=postal_code, city=city, phone=phone,
    )
    for field, value in information.items():
        setattr(user, field, value)
    user.locale = locale


def request_email_change(user: User, new_email: str) -> None:
    """Mail a confirmation link to ``new_email``; the account keeps its address until it is used.

    If ``new_email`` is already another account's, no link is sent and that
    account's owner is told instead, so the page does not reveal it. The
    caller commits.
    """
    new_email = normalise_email(new_email)
    if new_email == user.email:
        return
    owner = db.session.scalar(select(User).where(User.email == new_email))
    if owner is not None:
        if owner.active:
            _send_address_in_use(owner)
        return
    _send_confirmation(user, email=new_email, template="confirm_email_change")


def pending_email_change(user: User, now: datetime | None = None) -> str | None:
    """The new address waiting for confirmation, if any."""
    now = now or utcnow()
    return db.session.scalar(
        select(EmailToken.email)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == CONFIRM, EmailToken.used_at.is_(None),
               EmailToken.expires_at > now, EmailToken.email != user.email)
        .order_by(EmailToken.created_at.desc())
        .limit(1)
    )
