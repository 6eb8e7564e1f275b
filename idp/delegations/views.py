"""Mes délégations and Ma messagerie pages.

The four pages of the seed: Créer/Ajouter (three steps: firm, collaborators,
rights and expiry), Consulter/Modifier, Consulter les délégations en
attente, and Demander des délégations ou consulter mes délégations reçues;
plus one page per delegation (its actions and history) and Ma messagerie.
Views translate HTTP; every rule is in ``services``.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..account.views import login_required
from ..db import utcnow
from ..errors import IdpError, InvalidInput
from ..extensions import db
from ..i18n import current_locale, format_date
from ..menu import add_menu_entry
from ..sessions.web import current_login
from . import importing, messages, services
from .audit import decoded
from .forms import (
    ActionForm, ApproveForm, ChangeRightsForm, CollaboratorsForm, ExtendForm, FirmForm, RefuseForm, RequestForm,
    RightsForm, SearchForm, right_choices,
)
from .messages import firm_line
from .rules import default_ends_at, ends_at_of_day
from .states import (
    ACTIVE, DEACTIVATED, EXPIRED, GRANTOR, PENDING_ACCOUNT, REFUSED, REMOVED, REQUESTED, allowed_actions,
    effective_state,
)

bp = Blueprint("delegations", __name__, url_prefix="/compte")
add_menu_entry(bp, 30, _l("Ma messagerie"), "delegations.messages")
add_menu_entry(bp, 40, _l("Mes délégations"), "delegations.home")

STATE_LABELS = {
    PENDING_ACCOUNT: _l("en attente de création du compte"),
    REQUESTED: _l("demandée"),
    ACTIVE: _l("active"),
    DEACTIVATED: _l("désactivée"),
    REFUSED: _l("refusée"),
    EXPIRED: _l("expirée"),
    REMOVED: _l("supprimée"),
}
ACTION_LABELS = {
    "request": _l("Demande"), "create": _l("Création"), "approve": _l("Demande acceptée"),
    "refuse": _l("Demande refusée"), "cancel": _l("Demande retirée"), "account_confirmed": _l("Compte confirmé"),
    "deactivate": _l("Désactivation"), "activate": _l("Activation"), "extend": _l("Prolongation"),
    "change_rights": _l("Droits modifiés"), "remove": _l("Suppression"), "give_up": _l("Renonciation à un droit"),
}
ACTING_LABELS = {"expert": _l("expert-comptable"), "collaborator": _l("collaborateur"), "system": _l("système"),
                 "admin": _l("administrateur")}


def _person(user, email: str) -> str:
    """``Benjamin DOSSAT (bdossat@reulant.com)``, or the address alone while there is no account."""
    if user is not None and user.name:
        return f"{user.given_name} {user.family_name.upper()} ({user.email})".strip()
    return email


def _state_label(delegation, now=None) -> str:
    return str(STATE_LABELS[effective_state(delegation.state, delegation.ends_at, now or utcnow())])


def _right_label(right_id: str) -> str:
    from scopes import default_catalogue

    try:
        return default_catalogue().right(right_id).label.get(current_locale())
    except Exception:  # noqa: BLE001 - a right since removed from the catalogue: show its id
        return right_id


def _summary(snapshot: dict | None) -> str | None:
    """A delegation as the audit trail kept it, in one line: state · rights · expiry."""
    if snapshot is None:
        return None
    ends_at = datetime.fromisoformat(snapshot["ends_at"])
    state = str(STATE_LABELS.get(snapshot["state"], snapshot["state"]))
    rights = " - ".join(_right_label(r) for r in snapshot["rights"]) or "—"
    return _("%(state)s · %(rights)s · jusqu'au %(date)s", state=state, rights=rights, date=format_date(ends_at))


# Globals rather than a context processor: the macros of _macros.html see them too.
bp.add_app_template_global(firm_line, "firm_line")
bp.add_app_template_global(_state_label, "state_label")
bp.add_app_template_global(_right_label, "right_label")
bp.add_app_template_global(_person, "person")


def _in_catalogue_order(right_ids) -> list[str]:
    """Rights as the catalogue lists them (site by site), the order people read them in."""
    from scopes import default_catalogue

    order = {r.id: i for i, r in enumerate(default_catalogue().rights())}
    return sorted(right_ids, key=lambda r: (order.get(r, len(order)), r))


bp.add_app_template_global(_in_catalogue_order, "in_catalogue_order")


def _viewer_is_expert() -> bool:
    """Whether the logged-in user may delegate: the expert's pages are offered to him only."""
    login = current_login()
    return login is not None and login.user.is_expert


bp.add_app_template_global(_viewer_is_expert, "viewer_is_expert")


def _user():
    return current_login().user


def _fail(error: IdpError, form=None) -> None:
    """Show a service's refusal: on its field when the form has one, as a message otherwise."""
    db.session.rollback()
    field = getattr(form, error.field, None) if (form is not None and error.field) else None
    if field is not None:
        field.errors = list(field.errors or []) + [error.message]
    else:
        flash(error.message, "error")


def _today() -> date:
    return utcnow().date()


def _default_day() -> date:
    return default_ends_at(utcnow()).date()


# -- Mes délégations -------------------------------------------------------------------------
@bp.get("/delegations/")
@login_required
def home():
    user = _user()
    waiting = len(services.list_pending(user, per_page=1)[0]) if user.is_expert else 0
    return render_template("delegations/home.html", is_expert=user.is_expert, waiting=waiting)


def _expert_only(user):
    if not user.is_expert:
        return render_template("delegations/not_expert.html"), 403
    return None


# -- Créer/Ajouter: step 1, the firm ----------------------------------------------------------
def _firm_choices(user):
    return [(f.id, firm_line(f)) for f in services.firms_for_delegation(user)]


@bp.get("/delegations/creer")
@login_required
def create():
    user = _user()
    if (refusal := _expert_only(user)) is not None:
        return refusal
    form = FirmForm()
    form.firm_id.choices = _firm_choices(user)
    return render_template("delegations/create_firm.html", form=form, step=1)


# -- step 2, the collaborators ------------------------------------------------------------------
@bp.post("/delegations/creer/collaborateurs")
@login_required
def create_collaborators():
    user = _user()
    if (refusal := _expert_only(user)) is not None:
        return refusal
    form = FirmForm()
    form.firm_id.choices = _firm_choices(user)
    if not form.validate_on_submit():
        return render_template("delegations/create_firm.html", form=form, step=1), 400
    return render_template("delegations/create_collaborators.html", form=CollaboratorsForm(firm_id=form.firm_id.data),
                           firm=_firm_of(user, form.firm_id.data), rows=None, step=2)


def _firm_of(user, firm_id):
    try:
        firm_id = int(firm_id)
    except (TypeError, ValueError):
        abort(400)
    for firm in services.firms_for_delegation(user):
        if firm.id == firm_id:
            return firm
    abort(403)


@bp.post("/delegations/creer/apercu")
@login_required
def create_preview():
    user = _user()
    if (refusal := _expert_only(user)) is not None:
        return refusal
    form = CollaboratorsForm()
    firm = _firm_of(user, form.firm_id.data)
    rows = None
    if form.validate_on_submit():
        try:
            if form.file.data and form.file.data.filename:
                values = importing.read_collaborators(form.file.data.filename, form.file.data.read())
            else:
                values = (form.emails.data or "").splitlines()
            rows = services.check_collaborators(user, firm.id, values)
            if not rows:
                raise InvalidInput(_("Indiquez au moins un collaborateur."), field="emails")
        except IdpError as error:
            _fail(error, form)
            rows = None
    if rows is None or any(not row.ok for row in rows):
        return render_template("delegations/create_collaborators.html", form=form, firm=firm, rows=rows,
                               step=2), 400
    rights_form = RightsForm(formdata=None, firm_id=firm.id, emails="\n".join(row.email for row in rows),
                             ends_on=_default_day())
    rights_form.rights.choices = right_choices(current_locale())
    return render_template("delegations/create_rights.html", form=rights_form, firm=firm, rows=rows, step=3,
                           max_day=_default_day())


# -- step 3, the rights and the expiry ----------------------------------------------------------------
@bp.post("/delegations/creer/deleguer")
@login_required
def create_submit():
    user = _user()
    if (refusal := _expert_only(user)) is not None:
        return refusal
    form = RightsForm()
    form.rights.choices = right_choices(current_locale())
    firm = _firm_of(user, form.firm_id.data)
    emails = (form.emails.data or "").splitlines()
    if form.validate_on_submit():
        try:
            created = services.create_delegations(user, firm.id, emails, form.rights.data,
                                                  ends_at_of_day(form.ends_on.data))
            db.session.commit()
        except services.InvalidCollaborators as error:
            db.session.rollback()
            # The accounts changed since the preview: show the list again.
            return render_template("delegations/create_collaborators.html",
                                   form=CollaboratorsForm(formdata=None, firm_id=firm.id, emails="\n".join(emails)),
                                   firm=firm, rows=error.rows, step=2), 400
        except IdpError as error:
            _fail(error, _Fields(form))
        else:
            pending = sum(1 for d in created if d.state == PENDING_ACCOUNT)
            if pending:
                flash(_("%(count)d délégation(s) créée(s), dont %(pending)d en attente de création du compte.",
                        count=len(created), pending=pending), "success")
            else:
                flash(_("%(count)d délégation(s) créée(s).", count=len(created)), "success")
            return redirect(url_for(".given", firm=firm.id), 303)
    rows = services.check_collaborators(user, firm.id, emails)
    return render_template("delegations/create_rights.html", form=form, firm=firm, rows=rows, step=3,
                           max_day=_default_day()), 400


class _Fields:
    """Maps the services' field names (``ends_at``, ``rights``) to the form's fields."""

    def __init__(self, form):
        self.ends_at = getattr(form, "ends_on", None)
        self.rights = getattr(form, "rights", None)
        self.reason = getattr(form, "reason", None)
        self.expert = getattr(form, "expert", None)
        self.message = getattr(form, "message", None)


# -- Consulter/Modifier --------------------------------------------------------------------------------
@bp.get("/delegations/consulter")
@login_required
def given():
    user = _user()
    if (refusal := _expert_only(user)) is not None:
        return refusal
    search = SearchForm(request.args)
    firms = services.firms_for_delegation(user)
    search.firm.choices = [("", _("Toutes"))] + [(str(f.id), firm_line(f)) for f in firms]
    search.state.choices = [("", _("Tous"))] + [(s, str(STATE_LABELS[s])) for s in services.GIVEN_FILTERS]
    search.validate()
    try:
        page = services.list_given(user, firm_id=search.firm.data or None, q=search.q.data,
                                   state=search.state.data or None, page=request.args.get("page"))
    except IdpError as error:
        _fail(error)
        page = services.list_given(user, page=1)
    return render_template("delegations/given.html", page=page, search=search, form=ActionForm(), now=utcnow(),
                           args={k: v for k, v in request.args.items() if k != "page" and v})


# -- Consulter les délégations en attente ----------------------------------------------------------------
@bp.get("/delegations/en-attente")
@login_required
def pending():
    user = _user()
    if (refusal := _expert_only(user)) is not None:
        return refusal
    requests_, invitations = services.list_pending(user, page=request.args.get("page"))
    return render_template("delegations/pending.html", requests=requests_, page=invitations, args={})


# -- Demander / mes délégations reçues -------------------------------------------------------------------
def _request_form(formdata=None):
    form = RequestForm(formdata=formdata) if formdata is not None else RequestForm()
    form.rights.choices = right_choices(current_locale())
    return form


def _received_page(form, status=200):
    user = _user()
    return render_template("delegations/received.html", form=form, action_form=ActionForm(),
                           received=services.list_received(user), requests=services.list_requests(user),
                           now=utcnow(), max_day=_default_day()), status


@bp.get("/delegations/recues")
@login_required
def received():
    return _received_page(_request_form())


@bp.post("/delegations/demander")
@login_required
def ask():
    form = _request_form()
    if form.validate_on_submit():
        try:
            services.request_delegation(_user(), form.expert.data, form.siret.data, form.rights.data,
                                        form.message.data,
                                        ends_at_of_day(form.ends_on.data) if form.ends_on.data else None)
            db.session.commit()
        except IdpError as error:
            _fail(error, _Fields(form))
        else:
            flash(_("Demande envoyée à l'expert-comptable."), "success")
            return redirect(url_for(".received"), 303)
    return _received_page(form, 400)


# -- one delegation ------------------------------------------------------------------------------------
def _detail(delegation_id, forms=None, status=200):
    user = _user()
    delegation = services.load_delegation(user, delegation_id)
    role = services.role_of(user, delegation)
    now = utcnow()
    forms = forms or {}
    choices = right_choices(current_locale())
    extend_form = forms.get("extend") or ExtendForm(formdata=None, ends_on=_default_day())
    rights_form = forms.get("rights") or ChangeRightsForm(formdata=None, rights=delegation.rights)
    rights_form.rights.choices = choices
    approve_form = forms.get("approve") or ApproveForm(
        formdata=None, rights=delegation.rights,
        ends_on=min(delegation.ends_at.date(), _default_day()) if delegation.ends_at > now else _default_day())
    approve_form.rights.choices = [c for c in choices if c[0] in delegation.rights]
    history = []
    if role == GRANTOR:
        history = [(entry, _summary(decoded(entry.before)), _summary(decoded(entry.after)))
                   for entry in services.history(user, delegation.id)]
    return render_template(
        "delegations/detail.html", d=delegation, role=role, now=now, max_day=_default_day(),
        actions=allowed_actions(delegation.state, delegation.ends_at, now, role),
        form=ActionForm(), extend_form=extend_form, rights_form=rights_form, approve_form=approve_form,
        refuse_form=forms.get("refuse") or RefuseForm(formdata=None), history=history,
        action_labels=ACTION_LABELS, acting_labels=ACTING_LABELS,
    ), status


@bp.get("/delegations/<int:delegation_id>")
@login_required
def detail(delegation_id: int):
    return _detail(delegation_id)


SIMPLE_ACTIONS = {
    "activer": (services.activate, _l("Délégation activée.")),
    "desactiver": (services.deactivate, _l("Délégation désactivée.")),
    "supprimer": (services.remove, _l("Délégation supprimée.")),
    "retirer": (services.cancel_request, _l("Demande retirée.")),
}


def _back(delegation_id, default: str = "detail"):
    """Back to the list the form was on (``next``), or to the delegation's page."""
    target = request.form.get("next", "")
    if target not in ("given", "pending", "received"):
        target = default
    if target == "detail":
        return redirect(url_for(".detail", delegation_id=delegation_id), 303)
    return redirect(url_for(f".{target}"), 303)


@bp.post("/delegations/<int:delegation_id>/<any(activer, desactiver, supprimer, retirer):action>")
@login_required
def simple_action(delegation_id: int, action: str):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    service, done = SIMPLE_ACTIONS[action]
    _apply(lambda: service(_user(), delegation_id), done)
    # A removed delegation or a withdrawn request has no page of actions left to come back to.
    return _back(delegation_id, {"supprimer": "given", "retirer": "received"}.get(action, "detail"))


def _apply(apply, done, fields=None) -> bool:
    """Run ``apply`` (a service call) in this request's one transaction; True when it was done.

    Done: commit and flash ``done``. Refused: roll back and show the refusal
    on ``fields`` (or as a message). A delegation the person may not see
    stays a 404, not a message.
    """
    try:
        apply()
        db.session.commit()
    except IdpError as error:
        if error.status == 404:
            raise
        _fail(error, fields)
        return False
    flash(str(done), "success")
    return True


def _form_action(delegation_id, form, key, apply, done):
    if form.validate_on_submit() and _apply(apply, done, _Fields(form)):
        return _back(delegation_id)
    return _detail(delegation_id, {key: form}, 400)


@bp.post("/delegations/<int:delegation_id>/prolonger")
@login_required
def extend(delegation_id: int):
    form = ExtendForm()
    return _form_action(delegation_id, form, "extend",
                        lambda: services.extend(_user(), delegation_id, ends_at_of_day(form.ends_on.data)),
                        _l("Délégation prolongée."))


@bp.post("/delegations/<int:delegation_id>/droits")
@login_required
def change_rights(delegation_id: int):
    form = ChangeRightsForm()
    form.rights.choices = right_choices(current_locale())
    return _form_action(delegation_id, form, "rights",
                        lambda: services.change_rights(_user(), delegation_id, form.rights.data),
                        _l("Droits modifiés."))


@bp.post("/delegations/<int:delegation_id>/approuver")
@login_required
def approve(delegation_id: int):
    form = ApproveForm()
    form.rights.choices = right_choices(current_locale())
    return _form_action(delegation_id, form, "approve",
                        lambda: services.approve_request(_user(), delegation_id, form.rights.data,
                                                         ends_at_of_day(form.ends_on.data)),
                        _l("Demande acceptée : la délégation est active."))


@bp.post("/delegations/<int:delegation_id>/refuser")
@login_required
def refuse(delegation_id: int):
    form = RefuseForm()
    return _form_action(delegation_id, form, "refuse",
                        lambda: services.refuse_request(_user(), delegation_id, form.reason.data),
                        _l("Demande refusée."))


@bp.post("/delegations/<int:delegation_id>/renoncer/<path:right_id>")
@login_required
def give_up(delegation_id: int, right_id: str):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    _apply(lambda: services.give_up(_user(), delegation_id, right_id), _("Vous avez renoncé à ce droit."))
    return redirect(url_for(".received"), 303)


# -- Ma messagerie ----------------------------------------------------------------------------------------
@bp.get("/messagerie", endpoint="messages")
@login_required
def messages_page():
    user = _user()
    try:
        page_number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_number = 1
    items, total = messages.list_messages(user, page_number)
    locale = current_locale()
    shown = [(m, messages.render(m, locale), messages.link_of(m)) for m in items]
    page = services.Page(items, total, page_number, messages.PER_PAGE)
    return render_template("delegations/messages.html", shown=shown, page=page, form=ActionForm(),
                           unread=messages.unread_count(user), args={})


@bp.post("/messagerie/lu")
@login_required
def messages_read():
    if ActionForm().validate_on_submit():
        messages.mark_read(_user())
        db.session.commit()
    return redirect(url_for(".messages"), 303)
