"""Sécurité: authenticator app, recovery codes, password, active sessions."""
from __future__ import annotations

from datetime import timezone
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from ..account.views import login_required
from ..auth.forms import ConfirmForm
from ..db import utcnow
from ..errors import Conflict, InvalidInput, NotFound
from ..events.services import session_ended, sessions_ended
from ..extensions import db, limiter
from ..menu import add_menu_entry
from ..sessions.services import end_all_sessions, end_session_by_sid, list_sessions
from ..sessions.web import clear_login_cookie, current_login
from . import services, totp
from .forms import ConfirmEnrolmentForm, DisableForm, PasswordChangeForm, RegenerateForm, StartEnrolmentForm

bp = Blueprint("mfa", __name__, url_prefix="/compte/securite")
add_menu_entry(bp, 60, _l("Sécurité"), "mfa.security")

# Sessions are shown in the time of the Ordre's users.
DISPLAY_TIMEZONE = ZoneInfo("Europe/Paris")
ACR_LABELS = {
    "eidas1": _l("Mot de passe"),
    "eidas2": _l("Mot de passe et application d'authentification"),
    "eidas3": _l("Certificat SIGNEXPERT"),
}


def _account_key() -> str:
    login = current_login()
    return f"account:{login.user_id}" if login is not None else "address:" + (get_remote_address() or "unknown")


# Every action here checks a password or a code: someone holding an open
# session must not be able to guess them at leisure.
limit_actions = limiter.shared_limit("10/minute", scope="security-actions", key_func=_account_key, methods=["POST"])


def _kek() -> str:
    return current_app.config["IDP_KEY_ENCRYPTION_KEY"]


def _when(moment) -> str:
    return format_datetime(moment.replace(tzinfo=timezone.utc), "medium", tzinfo=DISPLAY_TIMEZONE,
                           locale=str(get_locale() or "fr"))


def _session_rows(login) -> list[dict]:
    return [
        {
            "sid": record.sid,
            "started": _when(record.created_at),
            "method": ACR_LABELS.get(record.acr, record.acr),
            "ip": record.ip or "",
            "user_agent": record.user_agent or "",
            "current": record.sid == login.sid,
        }
        for record in list_sessions(login.user_id)
    ]


def _security_page(status: int = 200, **forms):
    login = current_login()
    user = login.user
    context = {
        "user": user,
        "sessions": _session_rows(login),
        "remaining_codes": services.remaining_recovery_codes(user.id) if user.has_totp else 0,
        "enabled_on": _when(user.totp_enabled_at) if user.has_totp else "",
        "start_form": StartEnrolmentForm(formdata=None),
        "disable_form": DisableForm(formdata=None),
        "regenerate_form": RegenerateForm(formdata=None),
        "password_form": PasswordChangeForm(formdata=None),
        "confirm_form": ConfirmForm(formdata=None),
    }
    context.update(forms)
    return render_template("mfa/security.html", **context), status


def _field_error(form, error: InvalidInput):
    """Show a service's refusal next to the field it is about (or at the top of the form)."""
    target = getattr(form, error.field or "", None)
    if target is not None:
        target.errors = list(target.errors) + [error.message]
    else:
        flash(error.message, "error")


@bp.get("/")
@login_required
def security():
    return _security_page()


# -- authenticator app -----------------------------------------------------------------

@bp.post("/application/nouvelle")
@login_required
def start_enrolment():
    form = StartEnrolmentForm()
    if not form.validate_on_submit():
        return _security_page(400)
    try:
        services.start_enrolment(current_login().user, _kek())
    except Conflict as error:
        flash(error.message, "error")
        return redirect(url_for("mfa.security"), 303)
    db.session.commit()
    return redirect(url_for("mfa.enrol"), 303)


def _enrolment_page(user, form, status: int = 200):
    secret = services.enrolment_secret(user, _kek())
    uri = totp.provisioning_uri(secret, user.identifiant)
    return render_template("mfa/enrol.html", form=form, secret=totp.grouped(secret), uri=uri,
                           qr=totp.qr_data_uri(uri), identifiant=user.identifiant), status


@bp.route("/application", methods=["GET", "POST"])
@login_required
@limit_actions
def enrol():
    user = current_login().user
    if user.has_totp or services.enrolment_secret(user, _kek()) is None:
        return redirect(url_for("mfa.security"), 303)
    form = ConfirmEnrolmentForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _enrolment_page(user, form, 200 if request.method == "GET" else 400)
    try:
        codes = services.confirm_enrolment(user, form.code.data, _kek(), utcnow())
    except InvalidInput as error:
        db.session.rollback()
        _field_error(form, error)
        return _enrolment_page(user, form, 400)
    db.session.commit()
    flash(_("L'application d'authentification est activée : elle vous sera demandée à chaque connexion."), "success")
    return render_template("mfa/recovery_codes.html", codes=codes)


@bp.post("/application/desactiver")
@login_required
@limit_actions
def disable():
    form = DisableForm()
    if not form.validate_on_submit():
        return _security_page(400, disable_form=form)
    try:
        services.disable_totp(current_login().user, password=form.password.data, code=form.code.data, kek=_kek(),
                              now=utcnow())
    except Conflict as error:
        flash(error.message, "error")
        return redirect(url_for("mfa.security"), 303)
    except InvalidInput as error:
        db.session.rollback()
        _field_error(form, error)
        return _security_page(400, disable_form=form)
    db.session.commit()
    flash(_("L'application d'authentification est désactivée, et vos codes de secours annulés."), "success")
    return redirect(url_for("mfa.security"), 303)


@bp.post("/codes-de-secours")
@login_required
@limit_actions
def regenerate():
    form = RegenerateForm()
    if not form.validate_on_submit():
        return _security_page(400, regenerate_form=form)
    try:
        codes = services.regenerate_recovery_codes(current_login().user, code=form.code.data, kek=_kek(),
                                                   now=utcnow())
    except Conflict as error:
        flash(error.message, "error")
        return redirect(url_for("mfa.security"), 303)
    except InvalidInput as error:
        db.session.rollback()
        _field_error(form, error)
        return _security_page(400, regenerate_form=form)
    db.session.commit()
    flash(_("Nouveaux codes de secours générés : les précédents ne fonctionnent plus."), "success")
    return render_template("mfa/recovery_codes.html", codes=codes)


# -- password ------------------------------------------------------------------------------

@bp.post("/mot-de-passe")
@login_required
@limit_actions
def change_password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _security_page(400, password_form=form)
    login = current_login()
    try:
        ended = services.change_password(login.user, current_password=form.current_password.data,
                                         new_password=form.new_password.data, keep_sid=login.sid, now=utcnow())
    except InvalidInput as error:
        db.session.rollback()
        _field_error(form, error)
        return _security_page(400, password_form=form)
    db.session.commit()
    if ended:
        flash(_("Mot de passe changé. Vos autres sessions (%(num)d) ont été fermées.", num=ended), "success")
    else:
        flash(_("Mot de passe changé."), "success")
    return redirect(url_for("mfa.security"), 303)


# -- sessions --------------------------------------------------------------------------------

@bp.post("/sessions/<sid>/terminer")
@login_required
def end_one_session(sid: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _security_page(400)
    login = current_login()
    try:
        end_session_by_sid(login.user_id, sid[:64])
    except NotFound as error:
        flash(error.message, "error")
        return redirect(url_for("mfa.security"), 303)
    session_ended(login.user, sid[:64], "session_ended")
    db.session.commit()
    if sid == login.sid:
        response = redirect(url_for("auth.logged_out"), 303)
        clear_login_cookie(response)
        return response
    flash(_("Session fermée."), "success")
    return redirect(url_for("mfa.security"), 303)


@bp.post("/sessions/tout-fermer")
@login_required
def end_everywhere():
    """« Se déconnecter partout »: every session of the account, this one included."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _security_page(400)
    sessions_ended(current_login().user, end_all_sessions(current_login().user_id), "logout_everywhere")
    db.session.commit()
    response = redirect(url_for("auth.logged_out"), 303)
    clear_login_cookie(response)
    return response
