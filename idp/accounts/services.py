"""Account services: creation and password authentication."""
from __future__ import annotations

import re
import secrets
import string
import unicodedata

from sqlalchemy import func, select

from ..errors import Conflict, InvalidInput
from ..extensions import db
from .models import User
from .passwords import hash_password, verify_password

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD_LENGTH = 12


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively; we store them lower-cased and trimmed."""
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput("Adresse électronique invalide.", field="email")
    return email


def check_password_policy(password: str) -> None:
    """NIST SP 800-63B: length matters, composition rules do not."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.", field="password"
        )
    if len(password) > 256:
        raise InvalidInput("Le mot de passe est trop long (256 caractères au plus).", field="password")


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
