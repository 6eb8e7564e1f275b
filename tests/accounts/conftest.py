"""Fixtures of the sign-up, confirmation, reset and Mes informations tests."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from smtp import smtp  # noqa: E402,F401 - the fixture, for these tests


@pytest.fixture
def load_user(app):
    """Read an account from the database (a detached snapshot), or ``None``."""

    def load(email: str):
        from sqlalchemy import select

        from idp.accounts.models import User
        from idp.extensions import db

        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            if user is not None:
                db.session.expunge(user)
            return user

    return load
