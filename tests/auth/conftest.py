"""Fixtures for login throttling: limits lowered per test, failure histories set up.

    app ── limits (lower the Flask-Limiter limits for one test, restored after)
        └── failures (give an account, or a login naming no account, a history of failures)
"""
from __future__ import annotations

from datetime import timedelta

import pytest


@pytest.fixture
def limits(app):
    """``limits(per_address=..., per_account=...)``: lower the login limits for this test."""
    keys = {"per_address": "IDP_LOGIN_LIMIT_PER_ADDRESS", "per_account": "IDP_LOGIN_LIMIT_PER_ACCOUNT"}
    saved = {key: app.config[key] for key in keys.values()}

    def lower(**values):
        for name, value in values.items():
            app.config[keys[name]] = value

    yield lower
    app.config.update(saved)


class Failures:
    """Failure histories written through the same services the login uses."""

    def __init__(self, app):
        self.app = app

    def of_account(self, user, count: int, seconds_ago: int = 0) -> None:
        from idp.accounts.models import User
        from idp.db import utcnow
        from idp.extensions import db

        with self.app.app_context():
            account = db.session.get(User, user.id)
            account.failed_logins = count
            account.last_failed_login_at = utcnow() - timedelta(seconds=seconds_ago)
            db.session.commit()

    def count_of(self, user) -> int:
        from idp.accounts.models import User
        from idp.extensions import db

        with self.app.app_context():
            return db.session.get(User, user.id).failed_logins

    def of_unknown_login(self, login: str, count: int, seconds_ago: int = 0) -> None:
        from idp.auth import throttle
        from idp.db import utcnow

        with self.app.test_request_context():
            window = self.app.config["IDP_LOGIN_FAILURE_WINDOW"]
            for _ in range(count):
                throttle.record_unknown_login_failure(login, utcnow() - timedelta(seconds=seconds_ago), window)


@pytest.fixture
def failures(app) -> Failures:
    return Failures(app)
