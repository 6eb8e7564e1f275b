"""``/login`` (password, then the authenticator code when enrolled) and ``/logout`` pages."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded

from ..accounts.models import User
from ..accounts.services import authenticate_password, find_user
from ..db import utcnow
from ..events.services import session_ending
from ..extensions import db, limiter
from ..mfa.services import RECOVERY, recovery_code_notice, remaining_recovery_codes, verify_second_factor
from ..oauth.endpoints.authorize import load_interaction
from ..sessions.services import PASSWORD, TOTP, Authentication, end_session, open_session
from ..sessions.web import clear_login_cookie, current_login, set_login_cookie
from . import pending, services, throttle
from .forms import ConfirmForm, LoginForm, SecondFactorForm

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

# Per client address, shared by both steps: a full login with the app costs two.
limit_per_address = limiter.shared_limit(
    throttle.limit_per_address, scope="login-address", key_func=throttle.address_key, methods=["POST"]
)


def _after_login(interaction_id: str | None):
    if load_interaction(interaction_id) is not None:
        return url_for("oauth.authorize_resume", interaction=interaction_id)
    return url_for("account.home")


def _delay_settings() -> dict:
    config = current_app.config
    return {"cap": config["IDP_LOGIN_DELAY_CAP"], "window": config["IDP_LOGIN_FAILURE_WINDOW"]}


def _too_many(seconds: int, back: str):
    """429 with ``Retry-After``: the same page for rate limits and the growing delay."""
    log.info("login attempt refused", extra={"retry_after": seconds, "step": request.endpoint})
    return render_template("auth/too_many.html", seconds=seconds, back=back), 429, {"Retry-After": str(seconds)}


@bp.errorhandler(RateLimitExceeded)
def rate_limited(error):
    back = url_for("auth.login_code") if request.endpoint == "auth.login_code" else url_for(
        "auth.login", interaction=request.form.get("interaction") or None)
    seconds = throttle.retry_after_of_breach()
    throttle.forget_limit_headers()
    return _too_many(seconds, back)


def _wait_for(user: User | None, login: str, now) -> int:
    """Seconds before this login may be tried again (same rule whether the account exists or not)."""
    settings = _delay_settings()
    if user is not None:
        return services.account_wait(user, now, **settings)
    failures, last = throttle.unknown_login_failures(login)
    return services.seconds_to_wait(failures, last, now, **settings)


def _record_failure(user: User | None, login: str, now) -> None:
    window = _delay_settings()["window"]
    # For the security log: the account, never what was typed (a password
    # typed into the login field is a classic leak).
    if user is not None:
        failures = services.record_account_failure(user, now, window=window)
        log.info("login failed", extra={"user_id": user.id, "failures": failures, "step": request.endpoint})
    else:
        throttle.record_unknown_login_failure(login, now, window)
        log.info("login failed for a login that names no account", extra={"step": request.endpoint})


def _complete_login(user: User, authentication: Authentication, interaction_id: str | None, typed_login: str):
    """Open the SSO session and go on: back to the authorization request, or Mon Espace."""
    services.record_account_success(user)
    cookie, record = open_session(
        user, authentication, ttl=current_app.config["IDP_SESSION_TTL"],
        ip=request.remote_addr, user_agent=request.user_agent.string,
    )
    db.session.commit()
    response = redirect(_after_login(interaction_id), 303)
    set_login_cookie(response, cookie, record)
    throttle.remember_browser(response, user, typed_login)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limit_per_address
@limiter.limit(throttle.limit_per_account, key_func=throttle.login_form_key, methods=["POST"])
def login():
    form = LoginForm()
    interaction = load_interaction(request.values.get("interaction"))
    if request.method == "GET":
        form.interaction.data = interaction.id if interaction else ""
        if interaction is not None:
            hint = dict(interaction.params).get("login_hint")
            if hint and len(hint) <= 254:
                form.login.data = hint
    if form.validate_on_submit():
        now = utcnow()
        login_name = throttle.normalise_login(form.login.data)
        known_browser = throttle.known_browser_for(login_name)
        named = find_user(login_name)
        if not known_browser:
            # Checked before the password: a refused attempt costs no argon2 hash.
            wait = _wait_for(named, login_name, now)
            if wait:
                throttle.forget_limit_headers()
                return _too_many(wait, url_for("auth.login", interaction=form.interaction.data or None))
        user = authenticate_password(form.login.data, form.password.data)
        if user is None:
            _record_failure(named, login_name, now)
            db.session.commit()
            # One message for every failure: it must not tell which part was wrong.
            flash(_("Identifiant ou mot de passe incorrect."), "error")
            return render_template("auth/login.html", form=form), 401
        if user.has_totp:
            # No session yet: the password alone proves nothing for this account.
            pending.start(user, interaction_id=form.interaction.data, known_browser=known_browser, now=now)
            db.session.commit()  # a transparent rehash may have happened
            return redirect(url_for("auth.login_code"), 303)
        return _complete_login(user, PASSWORD, form.interaction.data, form.login.data)
    return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200


def _load_pending(now):
    """The account waiting for its second factor in this browser, or ``None`` (state cleared)."""
    state = pending.peek()
    if state is None:
        return None, None
    user = db.session.get(User, state.user_id)
    if (state.expired(now, current_app.config["IDP_MFA_PENDING_TTL"]) or not state.matches(user)
            or not user.active or not user.has_totp):
        pending.clear()
        return state, None
    return state, user


@bp.route("/login/code", methods=["GET", "POST"])
@limit_per_address
@limiter.limit(throttle.limit_per_account, key_func=throttle.pending_login_key, methods=["POST"])
def login_code():
    now = utcnow()
    state, user = _load_pending(now)
    if user is None:
        if state is not None:
            flash(_("Le délai pour saisir le code est dépassé : reconnectez-vous."), "error")
        return redirect(url_for("auth.login", interaction=(state.interaction_id if state else None) or None), 303)
    form = SecondFactorForm()
    if form.validate_on_submit():
        if not state.known_browser:
            wait = services.account_wait(user, now, **_delay_settings())
            if wait:
                throttle.forget_limit_headers()
                return _too_many(wait, url_for("auth.login_code"))
        method = verify_second_factor(user, form.code.data, current_app.config["IDP_KEY_ENCRYPTION_KEY"], now)
        if method is None:
            _record_failure(user, "", now)
            db.session.commit()
            form.code.errors.append(_("Code incorrect ou déjà utilisé."))
            return render_template("auth/code.html", form=form), 401
        pending.clear()
        if method == RECOVERY:
            flash(recovery_code_notice(remaining_recovery_codes(user.id)), "warning")
        return _complete_login(user, TOTP, state.interaction_id, user.identifiant)
    return render_template("auth/code.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/logout/done")
def logged_out():
    return render_template("auth/logged_out.html")


def logout_current_session(response):
    """End this browser's session and clear its cookie."""
    login = current_login()
    if login is not None:
        session_ending(login, "logout")
        end_session(login)
        db.session.commit()
    clear_login_cookie(response)
    return response


@bp.post("/logout/local")
def logout_local():
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("account.home"))
    return logout_current_session(redirect(url_for("auth.logged_out")))
