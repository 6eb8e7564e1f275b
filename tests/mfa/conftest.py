"""Fixtures for the authenticator app, the second login step and the Sécurité page.

    user ── enrolled (the app enabled through the services; its phone and recovery codes)
         └── logged_in (a Browser with a password session on ``user``)
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from authenticator_support import Authenticator  # noqa: E402
from flows import Browser  # noqa: E402


@dataclass
class Enrolled:
    user: object
    authenticator: Authenticator
    recovery_codes: list[str]


@pytest.fixture
def enrolled(app, user) -> Enrolled:
    """``user`` with the authenticator app enabled (through the services, no step used)."""
    from idp.accounts.models import User
    from idp.db import utcnow
    from idp.extensions import db
    from idp.mfa import services

    with app.app_context():
        account = db.session.get(User, user.id)
        secret = services.start_enrolment(account, app.config["IDP_KEY_ENCRYPTION_KEY"])
        account.totp_enabled_at = utcnow()
        codes = services.replace_recovery_codes(account, utcnow())
        db.session.commit()
    return Enrolled(user, Authenticator(secret), codes)


@pytest.fixture
def authenticator(enrolled) -> Authenticator:
    return enrolled.authenticator


@pytest.fixture
def logged_in(live, user) -> Browser:
    browser = Browser(live.url)
    assert browser.login(user.email, user.password).status_code == 200
    return browser
