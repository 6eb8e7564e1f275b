"""The SSO cookie: reading the current login, setting and clearing the cookie."""
from __future__ import annotations

from flask import current_app, g, request

from ..db import utcnow
from .models import LoginSession
from .services import load_session


def current_login() -> LoginSession | None:
    """The active login session of this browser, loaded once per request."""
    if "login_session" not in g:
        g.login_session = load_session(request.cookies.get(current_app.config["IDP_SESSION_COOKIE"]))
    return g.login_session


def set_login_cookie(response, cookie: str, record: LoginSession) -> None:
    """``HttpOnly``, ``SameSite=Lax`` (top-level redirects from relying sites keep it), ``Secure`` over https."""
    config = current_app.config
    response.set_cookie(
        config["IDP_SESSION_COOKIE"],
        cookie,
        max_age=int((record.expires_at - utcnow()).total_seconds()),
        secure=config["IDP_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
        path="/",
    )


def clear_login_cookie(response) -> None:
    config = current_app.config
    response.delete_cookie(
        config["IDP_SESSION_COOKIE"], path="/", secure=config["IDP_COOKIE_SECURE"], httponly=True, samesite="Lax"
    )
