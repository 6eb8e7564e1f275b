"""Ma messagerie: the notifications of délégations, in the app and by mail.

A notification is stored once (kind and parameters) and worded when read,
in the reader's language; the same wording makes the mail, sent through
``idp.mail.send_mail`` inside the transaction of the action (it leaves only
if that transaction commits). A notification to an address without an
account waits under that address and joins the account once the address is
confirmed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from scopes import default_catalogue

from ..db import utcnow
from ..extensions import db
from ..mail import send_mail
from .models import Delegation, Message

# Kinds; the first five are also mailed.
INVITATION = "invitation"    # to the collaborator: an expert gave him rights (or invites him to sign up)
REQUEST = "request"          # to the expert: a collaborator asks for rights
APPROVAL = "approval"        # to the collaborator: his request was approved
REFUSAL = "refusal"          # to the collaborator: his request was refused, with the reason
EXPIRY = "expiry"            # to both: the delegation ends within 30 days
ACTIVATED = "activated"      # to the expert: the invited collaborator confirmed his account
CHANGED = "changed"          # to the collaborator: deactivated, activated, extended, rights changed, removed
GIVEN_UP = "given_up"        # to the expert: the collaborator gave a right up
MAILED = (INVITATION, REQUEST, APPROVAL, REFUSAL, EXPIRY)

# Where each message leads (paths: mails are also sent from the command line).
LINKS = {
    INVITATION: "/compte/delegations/recues",
    REQUEST: "/compte/delegations/en-attente",
    APPROVAL: "/compte/delegations/recues",
    REFUSAL: "/compte/delegations/recues",
    EXPIRY: "/compte/delegations/{id}",
    ACTIVATED: "/compte/delegations/{id}",
    CHANGED: "/compte/delegations/recues",
    GIVEN_UP: "/compte/delegations/{id}",
}
PER_PAGE = 20


def _person(user, email: str) -> str:
    if user is not None and user.name:
        return f"{user.name} ({user.email})"
    return email


def firm_line(firm) -> str:
    """``SOGETES - PARIS - 445.236.112.00025``, as the Ordre's pages show a firm."""
    return " - ".join(part for part in (firm.raison_sociale, (firm.city or "").upper(), firm.siret_display) if part)


def params_of(delegation: Delegation, **extra) -> dict:
    """What a message needs to be worded later, whatever happens to the delegation."""
    return {
        "grantor": _person(delegation.grantor, delegation.grantor.email),
        "grantee": _person(delegation.grantee, delegation.grantee_email),
        "firm": firm_line(delegation.firm),
        "rights": delegation.rights,
        "ends_at": delegation.ends_at.isoformat(),
        **extra,
    }


def _rights_text(right_ids: list[str], locale: str) -> str:
    catalogue = default_catalogue()
    labels = []
    for right_id in right_ids:
        try:
            labels.append(catalogue.right(right_id).label.get(locale))
        except Exception:  # noqa: BLE001 - a right removed from the catalogue since: show its id
            labels.append(right_id)
    return " - ".join(labels)


@dataclass(frozen=True)
class Wording:
    title: str
    lines: list[str]


def word(kind: str, params: dict, locale: str) -> Wording:
    """The title and lines of a message, in the current locale (call under ``force_locale``)."""
    p = dict(params)
    p["rights"] = _rights_text(params.get("rights", []), locale)
    ends = params.get("ends_at")
    p["ends_at"] = format_date(datetime.fromisoformat(ends), "long") if ends else ""
    if kind == INVITATION and params.get("pending"):
        return Wording(_("Invitation de %(grantor)s", **p), [
            _("%(grantor)s vous délègue des droits pour la société %(firm)s : %(rights)s.", **p),
            _("Créez votre Comptexpert (profil « Autre profil ») avec cette adresse et confirmez-la : "
              "la délégation s'appliquera alors jusqu'au %(ends_at)s.", **p),
        ])
    if kind == INVITATION:
        return Wording(_("Nouvelle délégation de %(grantor)s", **p), [
            _("%(grantor)s vous délègue des droits pour la société %(firm)s : %(rights)s.", **p),
            _("La délégation expire le %(ends_at)s.", **p),
        ])
    if kind == REQUEST:
        lines = [_("%(grantee)s vous demande des droits pour la société %(firm)s : %(rights)s.", **p)]
        if params.get("message"):
            lines.append(_("Son message : « %(message)s »", **p))
        return Wording(_("Demande de délégation de %(grantee)s", **p), lines)
    if kind == APPROVAL:
        return Wording(_("Demande de délégation acceptée"), [
            _("%(grantor)s a accepté votre demande pour la société %(firm)s : %(rights)s.", **p),
            _("La délégation expire le %(ends_at)s.", **p),
        ])
    if kind == REFUSAL:
        return Wording(_("Demande de délégation refusée"), [
            _("%(grantor)s a refusé votre demande pour la société %(firm)s.", **p),
            _("Motif : « %(reason)s »", **p),
        ])
    if kind == EXPIRY:
        return Wording(_("Une délégation expire le %(ends_at)s", **p), [
            _("La délégation de %(grantor)s à %(grantee)s pour la société %(firm)s (%(rights)s) "
              "expire le %(ends_at)s.", **p),
            _("Seul l'expert-comptable peut la prolonger, d'un an au plus."),
        ])
    if kind == ACTIVATED:
        return Wording(_("Délégation active pour %(grantee)s", **p), [
            _("%(grantee)s a confirmé son Comptexpert : votre délégation pour la société %(firm)s "
              "s'applique jusqu'au %(ends_at)s.", **p),
        ])
    if kind == GIVEN_UP:
        return Wording(_("%(grantee)s renonce à un droit", **p), [
            _("%(grantee)s renonce au droit « %(right)s » pour la société %(firm)s.",
              **{**p, "right": _rights_text([params.get("right", "")], locale)}),
        ])
    change = params.get("change")
    texts = {
        "deactivate": _("%(grantor)s a désactivé votre délégation pour la société %(firm)s.", **p),
        "activate": _("%(grantor)s a réactivé votre délégation pour la société %(firm)s, "
                      "jusqu'au %(ends_at)s.", **p),
        "extend": _("%(grantor)s a prolongé votre délégation pour la société %(firm)s "
                    "jusqu'au %(ends_at)s.", **p),
        "change_rights": _("%(grantor)s a modifié vos droits pour la société %(firm)s : %(rights)s.", **p),
        "remove": _("%(grantor)s a supprimé votre délégation pour la société %(firm)s.", **p),
    }
    return Wording(_("Délégation modifiée"), [texts.get(change, texts["change_rights"])])


def _locale_of(user) -> str:
    return "en" if getattr(user, "locale", None) == "en" else "fr"


def notify(kind: str, *, user, email: str, delegation: Delegation | None, params: dict) -> Message:
    """Record a message for ``user`` (or for ``email`` when there is no account) and mail it if its kind is mailed.

    The caller's transaction commits both; a rollback drops both.
    """
    message = Message(
        user_id=user.id if user is not None else None, email=email, kind=kind,
        delegation_id=delegation.id if delegation is not None else None,
        params=json.dumps(params, ensure_ascii=False, sort_keys=True), created_at=utcnow(),
    )
    if kind in MAILED:
        message.mailed = _mail(kind, email, _locale_of(user), params, delegation)
    db.session.add(message)
    return message


def _mail(kind: str, email: str, locale: str, params: dict, delegation: Delegation | None) -> bool:
    with force_locale(locale):
        wording = word(kind, params, locale)
    path = LINKS[kind].format(id=delegation.id if delegation is not None else "")
    send_mail(email, "delegation_notice", locale, title=wording.title, lines=wording.lines,
              link=current_app.config["IDP_ISSUER"] + path)
    return True


def link_of(message: Message) -> str:
    return LINKS.get(message.kind, "/compte/messagerie").format(id=message.delegation_id or "")


def attach_to_account(user) -> int:
    """Give an account the messages that waited under its (now confirmed) address."""
    return db.session.execute(
        update(Message).where(Message.email == user.email, Message.user_id.is_(None)).values(user_id=user.id)
    ).rowcount


def list_messages(user, page: int = 1) -> tuple[list[Message], int]:
    """The user's messages, newest first, a page at a time; with the total count."""
    total = db.session.scalar(select(func.count(Message.id)).where(Message.user_id == user.id)) or 0
    rows = db.session.scalars(
        select(Message).where(Message.user_id == user.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .offset((max(page, 1) - 1) * PER_PAGE).limit(PER_PAGE)
    )
    return list(rows), total


def unread_count(user) -> int:
    return db.session.scalar(
        select(func.count(Message.id)).where(Message.user_id == user.id, Message.read_at.is_(None))
    ) or 0


def mark_read(user, now: datetime | None = None) -> None:
    """Everything in the user's messagerie has been seen. The caller commits."""
    db.session.execute(
        update(Message).where(Message.user_id == user.id, Message.read_at.is_(None)).values(read_at=now or utcnow())
    )


def render(message: Message, locale: str) -> Wording:
    """The message worded in ``locale``."""
    return word(message.kind, json.loads(message.params), locale)
