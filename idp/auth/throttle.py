"""Rate limits of the login pages, known browsers, and failures of unknown logins.

See ``idp.auth.services`` for the whole brute-force design; this module is
the HTTP side of it: Flask-Limiter keys and limits, the "known browser"
cookie, and the counters kept in the rate-limit storage.

Known browsers (OWASP, "device cookies"): after a complete login, the browser
gets a signed cookie listing digests of the logins it succeeded with. An
attempt naming one of them is counted against that browser instead of the
account, so a campaign against an account slows its attacker down without
locking its owner out of the browser he usually uses.
"""
from __future__ import annotations

import logging
import math
import time
from datetime import datetime, timezone

from flask import current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits.storage import MemoryStorage

from ..db import digest, epoch, new_secret
from ..extensions import limiter
from . import pending

log = logging.getLogger(__name__)

KNOWN_BROWSER_COOKIE = "idp_browser"
_KNOWN_BROWSER_SALT = "idp-known-browser"
_MAX_KNOWN_LOGINS = 10


def normalise_login(login: str | None) -> str:
    """The login as it is counted: identifiants and emails compare case-insensitively."""
    return (login or "").strip().lower()[:254]


# -- limits ----------------------------------------------------------------------

def limit_per_address() -> str:
    return current_app.config["IDP_LOGIN_LIMIT_PER_ADDRESS"]


def limit_per_account() -> str:
    return current_app.config["IDP_LOGIN_LIMIT_PER_ACCOUNT"]


def address_key() -> str:
    return "address:" + (get_remote_address() or "unknown")


def login_form_key() -> str:
    """Per-account key of ``POST /login``: the login typed, or this browser if it knows it."""
    login = normalise_login(request.form.get("login"))
    if not login:
        return "address:" + (get_remote_address() or "unknown")
    browser = known_browser_for(login)
    return f"browser:{browser}:{digest(login)}" if browser else f"login:{digest(login)}"


def pending_login_key() -> str:
    """Per-account key of ``POST /login/code``: the account waiting for its code."""
    state = pending.peek()
    if state is None:
        return "address:" + (get_remote_address() or "unknown")
    if state.known_browser:
        return f"browser:{state.known_browser}:user:{state.user_id}"
    return f"user:{state.user_id}"


def retry_after_of_breach() -> int:
    """Seconds until the breached limit of this request resets, as Flask-Limiter will announce it."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def forget_limit_headers() -> None:
    """Our 429 pages carry their own ``Retry-After``; keep Flask-Limiter from rewriting it.

    Flask-Limiter rewrites ``Retry-After`` on every answer from the limit it
    reports: for the growing delay that is a limit not breached, whose window
    end has nothing to do with the delay, and for a breach it recomputes the
    value a moment later than the page's text. Either way the header and the
    page must say the same thing, and both kinds of refusal must look alike.
    """
    limiter.context.view_rate_limit = None


# -- known browsers ----------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_KNOWN_BROWSER_SALT)


def _known_browser() -> dict | None:
    raw = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if not raw or len(raw) > 2048:
        return None
    try:
        data = _serializer().loads(raw, max_age=current_app.config["IDP_KNOWN_BROWSER_TTL"])
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("logins"), list):
        return None
    return data


def known_browser_for(login: str) -> str | None:
    """This browser's id if it has completed a login with ``login`` before."""
    data = _known_browser()
    if data is not None and digest(normalise_login(login)) in data["logins"]:
        return data["id"]
    return None


def remember_browser(response, user, typed_login: str) -> None:
    """After a complete login: this browser knows the account by every login it may type."""
    data = _known_browser() or {"id": new_secret(12), "logins": []}
    names = [digest(normalise_login(name)) for name in (typed_login, user.identifiant, user.email)]
    logins = [name for name in data["logins"] if name not in names] + list(dict.fromkeys(names))
    data["logins"] = logins[-_MAX_KNOWN_LOGINS:]
    config = current_app.config
    response.set_cookie(
        KNOWN_BROWSER_COOKIE, _serializer().dumps(data), max_age=config["IDP_KNOWN_BROWSER_TTL"],
        secure=config["IDP_COOKIE_SECURE"], httponly=True, samesite="Lax", path="/login",
    )


# -- failures of logins that name no account ----------------------------------------

# Used only if the rate-limit storage fails between Flask-Limiter's own check
# (which switches to its in-memory fallback) and ours.
_local = MemoryStorage()


def _storage():
    return limiter.limiter.storage


def _key(kind: str, login: str) -> str:
    return f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}/login-failures/{kind}/{digest(login)}"


def _with_storage(operation):
    try:
        return operation(_storage())
    except Exception as exc:  # noqa: BLE001 - any storage error: Redis down, timeout
        log.warning("rate-limit storage unreachable (%s); counting login failures in memory", type(exc).__name__)
        return operation(_local)


def unknown_login_failures(login: str) -> tuple[int, datetime | None]:
    """``(consecutive failures, last failure)`` recorded for a login that names no account."""
    def read(storage):
        last = storage.get(_key("last", login))
        return storage.get(_key("count", login)), last

    count, last = _with_storage(read)
    if not count or not last:
        return 0, None
    return count, datetime.fromtimestamp(last, timezone.utc).replace(tzinfo=None)


def record_unknown_login_failure(login: str, now: datetime, window: int) -> None:
    """Count a failure for a login that names no account, as ``users.failed_logins`` would.

    Both keys expire ``window`` seconds after the last failure, as the
    account's count is forgotten after that much quiet. Not atomic: two
    simultaneous failures may count as one, which the per-account limit
    absorbs.
    """
    def write(storage):
        count = storage.get(_key("count", login))
        for kind, value in (("count", count + 1), ("last", epoch(now))):
            storage.clear(_key(kind, login))
            storage.incr(_key(kind, login), window, amount=value)

    _with_storage(write)
