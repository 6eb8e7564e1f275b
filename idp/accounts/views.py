"""Sign-up, email confirmation, password reset and Mes informations pages.

Views translate HTTP; the rules (and the care not to reveal who has an
account) live in ``idp.accounts.services``.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import IntegrityError

from ..account.views import login_required
from ..errors import IdpError, InvalidInput
from ..extensions import db, limiter
from ..i18n import current_locale
from ..sessions.web import clear_login_cookie, current_login
from . import services
from .forms import (ConfirmEmailForm, NewPasswordForm, ResendForm, ResetRequestForm, SignupForm,
                    information_form)
from .models import PROFILES

bp = Blueprint("accounts", __name__)

PROFILE_LABELS = dict(PROFILES)


def _normalised_form_value(name: str) -> str:
    return (request.form.get(name) or "").strip().lower()[:254]


# Per client address, and per target address: the second keeps anyone from
# flooding one mailbox from many addresses. Both apply whether or not the
# target has an account, so a refusal tells nothing either.
MAIL_LIMITS = [
    limiter.limit("10/minute", methods=["POST"]),
    limiter.limit("5/hour", methods=["POST"], key_func=lambda: "mail-to:" + _normalised_form_value("email")),
]
RESET_LIMITS = [
    limiter.limit("10/minute", methods=["POST"]),
    limiter.limit("5/hour", methods=["POST"], key_func=lambda: "reset-for:" + _normalised_form_value("login")),
]


def _limited(limits):
    def decorate(view):
        for limit in reversed(limits):
            view = limit(view)
        return view

    return decorate


def _field_error(form, error: InvalidInput) -> None:
    """Show a service's ``InvalidInput`` next to its field (or on top when it has none)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


@bp.errorhandler(RateLimitExceeded)
def too_many(error):
    # The same page whether or not the address has an account; Flask-Limiter
    # adds the Retry-After header.
    return render_template("accounts/too_many.html"), 429


@bp.app_context_processor
def account_helpers():
    return {
        "profile_label": lambda code: PROFILE_LABELS.get(code, code),
        "pending_email_change": services.pending_email_change,
        "names_owned_by_register": services.names_owned_by_register,
    }


# -- sign-up -----------------------------------------------------------------------------
@bp.route("/inscription", methods=["GET", "POST"])
@_limited(MAIL_LIMITS)
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            services.sign_up(
                profile=form.profile.data, given_name=form.given_name.data, family_name=form.family_name.data,
                email=form.email.data, password=form.password.data, company=form.company.data or "",
                address=form.address.data or "", postal_code=form.postal_code.data or "",
                city=form.city.data or "", phone=form.phone.data or "",
                numero_inscription=form.numero_inscription.data, locale=current_locale(),
            )
            db.session.commit()
        except InvalidInput as error:
            db.session.rollback()
            _field_error(form, error)
            return render_template("accounts/signup.html", form=form), 400
        except IntegrityError:
            # Two sign-ups raced on one address and the other won: the
            # answer must still be the one every sign-up gets.
            db.session.rollback()
        # The same page whether the address was new or already had an
        # account: the mailbox tells its owner which one it was.
        return render_template("accounts/signup_sent.html", email=form.email.data.strip(),
                               resend_form=ResendForm(email=form.email.data.strip()))
    return render_template("accounts/signup.html", form=form), 400 if request.method == "POST" else 200


# -- confirmation ------------------------------------------------------------------------
def _link_refused(error: IdpError, template: str, form):
    return render_template(template, message=error.message, expired=error.code == "link_expired",
                           form=form), error.status


@bp.route("/confirmer/<token>", methods=["GET", "POST"])
def confirm(token: str):
    form = ConfirmEmailForm()
    try:
        if form.validate_on_submit():
            user = services.confirm_email(token)
            db.session.commit()
            return render_template("accounts/confirmed.html", user=user, logged_in=current_login() is not None)
        link = services.load_email_token(token, services.CONFIRM)
    except IdpError as error:
        db.session.rollback()
        return _link_refused(error, "accounts/link_refused.html", ResendForm())
    return render_template("accounts/confirm.html", form=form, email=link.email), \
        400 if request.method == "POST" else 200


@bp.route("/confirmer/renvoyer", methods=["GET", "POST"])
@_limited(MAIL_LIMITS)
def resend():
    form = ResendForm()
    if form.validate_on_submit():
        try:
            services.resend_confirmation(form.email.data)
        except InvalidInput as error:
            db.session.rollback()
            _field_error(form, error)
            return render_template("accounts/resend.html", form=form), 400
        db.session.commit()
        return render_template("accounts/resend_sent.html", email=form.email.data.strip())
    return render_template("accounts/resend.html", form=form), 400 if request.method == "POST" else 200


# -- password reset ----------------------------------------------------------------------
@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
@_limited(RESET_LIMITS)
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.login.data)
        db.session.commit()
        return render_template("accounts/reset_sent.html")
    return render_template("accounts/reset_request.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/mot-de-passe/nouveau/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = NewPasswordForm()
    try:
        if form.validate_on_submit():
            try:
                services.reset_password(token, form.password.data)
            except InvalidInput as error:
                if error.field is None:
                    raise
                db.session.rollback()
                _field_error(form, error)
                return render_template("accounts/reset_password.html", form=form), 400
            db.session.commit()
            flash(_("Votre mot de passe est changé et toutes vos sessions sont fermées : "
                    "connectez-vous avec le nouveau."), "success")
            # This browser's session ended with the others: drop its cookie too.
            response = redirect(url_for("auth.login"), 303)
            clear_login_cookie(response)
            return response
        services.load_email_token(token, services.RESET)
    except IdpError as error:
        db.session.rollback()
        return _link_refused(error, "accounts/reset_refused.html", None)
    return render_template("accounts/reset_password.html", form=form), 400 if request.method == "POST" else 200


# -- Mes informations --------------------------------------------------------------------
@bp.route("/compte/informations/modifier", methods=["GET", "POST"])
@login_required
def edit_information():
    user = current_login().user
    form = information_form(user)
    if form.validate_on_submit():
        new_email = form.email.data
        try:
            names = {} if services.names_owned_by_register(user) else {
                "given_name": form.given_name.data, "family_name": form.family_name.data}
            services.update_information(
                user, given_name=names.get("given_name"), family_name=names.get("family_name"),
                company=form.company.data or "", address=form.address.data or "",
                postal_code=form.postal_code.data or "", city=form.city.data or "", phone=form.phone.data or "",
                locale=form.locale.data,
            )
            services.request_email_change(user, new_email)
            changing = services.normalise_email(new_email) != user.email
        except InvalidInput as error:
            db.session.rollback()
            _field_error(form, error)
            return render_template("accounts/edit_information.html", form=form, user=user), 400
        db.session.commit()
        # The pages follow the language just chosen, starting with this message.
        session["locale"] = user.locale
        refresh()
        flash(_("Vos informations sont enregistrées."), "success")
        if changing:
            flash(_("Un lien de confirmation est envoyé à %(email)s : votre adresse actuelle reste en service "
                    "jusqu'à ce que vous l'ouvriez.", email=services.normalise_email(new_email)), "success")
        return redirect(url_for("account.home"), 303)
    return render_template("accounts/edit_information.html", form=form, user=user), \
        400 if request.method == "POST" else 200


@bp.post("/compte/informations/confirmer")
@login_required
@limiter.limit("5/hour")
def resend_mine():
    """From Mes informations: a new confirmation link for one's own unconfirmed address."""
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        user = current_login().user
        if not user.email_verified:
            services.resend_confirmation(user.email)
            db.session.commit()
            flash(_("Un nouveau lien de confirmation est envoyé à %(email)s.", email=user.email), "success")
    return redirect(url_for("account.home"), 303)
