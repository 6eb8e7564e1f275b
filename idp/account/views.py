"""Mon Espace pages (server-rendered)."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.forms import ConfirmForm
from ..errors import NotFound
from ..extensions import db
from ..menu import _l, add_menu_entry
from ..oauth.consent import list_consents, withdraw_consent
from ..sessions.web import current_login

bp = Blueprint("account", __name__, url_prefix="/compte")
add_menu_entry(bp, 10, _l("Mes informations"), "account.home")
add_menu_entry(bp, 80, _l("Mes applications"), "account.applications")


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_login() is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped


@bp.get("/")
@login_required
def home():
    return render_template("account/home.html", user=current_login().user)


@bp.get("/applications")
@login_required
def applications():
    consents = list_consents(current_login().user_id)
    return render_template("account/applications.html", consents=consents, form=ConfirmForm())


@bp.post("/applications/<int:consent_id>/retirer")
@login_required
def withdraw(consent_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            withdraw_consent(current_login().user_id, consent_id)
        except NotFound as error:
            flash(error.message, "error")
            return redirect(url_for("account.applications")), 303
        db.session.commit()
        flash(_("Autorisation retirée : le site vous la redemandera."), "success")
    return redirect(url_for("account.applications"), 303)
