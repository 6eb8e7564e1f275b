"""``idp cleanup``: what expired or ended before the grace period goes, everything else stays."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def rows(app, user, rp):
    """One row per case, named ``<table>:<case>``; returns the names by table."""
    from idp.accounts.models import EmailToken
    from idp.db import new_secret, utcnow
    from idp.extensions import db
    from idp.oauth.models import AuthorizationCode, IssuedAccessToken, Interaction, RefreshToken, UsedAssertion
    from idp.sessions.models import LoginSession

    now = utcnow()
    made = {}

    def add(table, case, row):
        db.session.add(row)
        made[f"{table}:{case}"] = row

    def code(expires_at):
        return AuthorizationCode(code_hash=new_secret(), client_id=rp.client_id, user_id=user.id,
                                 redirect_uri=rp.redirect_uri, scope="openid", code_challenge="x" * 43,
                                 code_challenge_method="S256", auth_time=now, acr="eidas1", amr=["pwd"],
                                 expires_at=expires_at)

    def refresh(expires_at, **extra):
        return RefreshToken(token_hash=new_secret(), family_id=new_secret(), client_id=rp.client_id,
                            user_id=user.id, scope="openid", auth_time=now, acr="eidas1", amr=["pwd"],
                            created_at=now - 3 * DAY, expires_at=expires_at, **extra)

    def session(expires_at, **extra):
        return LoginSession(id=new_secret(), sid=new_secret(), user_id=user.id, created_at=now - 3 * DAY,
                            auth_time=now - 3 * DAY, acr="eidas1", amr=["pwd"], expires_at=expires_at, **extra)

    def email_token(expires_at, **extra):
        return EmailToken(token_hash=new_secret(), purpose="reset", user_id=user.id, email=user.email,
                          created_at=now - 3 * DAY, expires_at=expires_at, **extra)

    with app.app_context():
        for case, expires_at in (("expired long ago", now - 2 * DAY), ("expired lately", now - HOUR),
                                 ("live", now + HOUR)):
            add("oauth_codes", case, code(expires_at))
            add("oauth_interactions", case, Interaction(id=new_secret(), params=[], created_at=now - 3 * DAY,
                                                        expires_at=expires_at))
            add("oauth_used_assertions", case, UsedAssertion(jti_hash=new_secret(), expires_at=expires_at))
            add("oauth_access_tokens", case, IssuedAccessToken(jti=new_secret(), client_id=rp.client_id,
                                                               user_id=user.id, expires_at=expires_at))
            add("oauth_refresh_tokens", case, refresh(expires_at))
            add("login_sessions", case, session(expires_at))
            add("email_tokens", case, email_token(expires_at))
        add("oauth_refresh_tokens", "revoked long ago", refresh(now + DAY, revoked_at=now - 2 * DAY))
        add("oauth_refresh_tokens", "rotated long ago", refresh(now + DAY, rotated_at=now - 2 * DAY))
        add("oauth_access_tokens", "revoked long ago, still valid",
            IssuedAccessToken(jti=new_secret(), client_id=rp.client_id, user_id=user.id, expires_at=now + HOUR,
                              revoked_at=now - 2 * DAY))
        add("login_sessions", "ended long ago", session(now + HOUR, ended_at=now - 2 * DAY))
        add("login_sessions", "ended lately", session(now + HOUR, ended_at=now - HOUR))
        add("email_tokens", "used long ago", email_token(now + HOUR, used_at=now - 2 * DAY))
        db.session.commit()
        keys = {name: db.inspect(row).identity[0] for name, row in made.items()}
        db.session.remove()
    return keys


def _surviving(app, keys) -> set[str]:
    from idp.extensions import db

    with app.app_context():
        survivors = set()
        for name, key in keys.items():
            table = db.metadata.tables[name.split(":")[0]]
            (column,) = table.primary_key.columns
            if db.session.execute(table.select().where(column == key)).first() is not None:
                survivors.add(name)
        db.session.remove()
    return survivors


def test_cleanup_deletes_what_ended_before_the_grace_period_in_batches(app, runner, rows):
    result = runner.invoke(args=["cleanup", "--grace", str(24 * 3600), "--batch-size", "2", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "oauth_codes": 1, "oauth_interactions": 1, "oauth_used_assertions": 1,
        "oauth_refresh_tokens": 2,  # expired, and revoked
        "oauth_access_tokens": 1,   # expired only: a revoked record must outlive its token
        "login_sessions": 2,        # expired, and ended
        "email_tokens": 2,          # expired, and used
    }
    assert _surviving(app, rows) == {
        name for name in rows if name.endswith((":expired lately", ":live", ":ended lately"))
    } | {"oauth_refresh_tokens:rotated long ago", "oauth_access_tokens:revoked long ago, still valid"}


def test_cleanup_run_twice_deletes_nothing_more(app, runner, rows):
    assert runner.invoke(args=["cleanup"]).exit_code == 0
    second = runner.invoke(args=["cleanup", "--json"])
    assert second.exit_code == 0
    assert set(json.loads(second.output).values()) == {0}


def test_cleanup_prints_a_line_per_table_and_a_total(runner, rows):
    result = runner.invoke(args=["cleanup"])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "total\t10"
    assert "oauth_refresh_tokens\t2" in result.output.splitlines()
