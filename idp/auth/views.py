"""``/login`` and ``/logout`` pages."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..accounts.services import authenticate_password
from ..extensions import db, limiter
from ..oauth.endpoints.authorize import load_interaction
from ..sessions.services import PASSWORD, end_session, open_session
from ..sessions.web import clear_login_cookie, current_login, set_login_cookie
from .forms import ConfirmForm, LoginForm

bp = Blueprint("auth", __name__)


def _after_login(interaction_id: str | None):
    if load_interaction(interaction_id) is not None:
        return url_for("oauth.authorize_resume", interaction=interaction_id)
    return url_for("account.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
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
        user = authenticate_password(form.login.data, form.password.data)
        if user is not None:
            cookie, record = open_session(
                user, PASSWORD, ttl=current_app.config["IDP_SESSION_TTL"],
                ip=request.remote_addr, user_agent=request.user_agent.string,
            )
            db.session.commit()
            response = redirect(_after_login(form.interaction.data))
            set_login_cookie(response, cookie, record)
            return response
        db.session.commit()  # a transparent rehash may have happened; nothing else is pending
        # One message for every failure: it must not tell which part was wrong.
        flash(_("Identifiant ou mot de passe incorrect."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/logout/done")
def logged_out():
    return render_template("auth/logged_out.html")


def logout_current_session(response):
    """End this browser's session and clear its cookie."""
    login = current_login()
    if login is not None:
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
