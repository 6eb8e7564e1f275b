"""The délégations services: every rule, for the pages, the API and the command line alike.

Each service takes the acting user (``actor``) and checks authorisation
itself: an actor reads or changes only delegations he is party to (as the
expert who gives, the *grantor*, or the collaborator who receives, the
*grantee*); anything else is ``NotFound``, exactly as if the identifier
did not exist, so guessing identifiers teaches nothing. ``via`` says
through what the actor acts (``web``, ``api:<client_id>``, ``cli``), for
the audit trail. Services flush but never commit: the caller commits once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from scopes import UnknownSite, default_catalogue

from ..accounts import services as account_services
from ..accounts.models import EXPERT_VERIFIED, User
from ..accounts.services import find_user, normalise_email
from ..db import utcnow
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..events.services import delegation_changed
from ..extensions import db
from ..firms.models import Firm, UserFirm
from ..firms.services import firms_of, practises_in
from ..firms.siret import normalise_siret
from ..register.models import register_entry_firms
from . import audit, messages
from .audit import Actor
from .models import Delegation, DelegationRight
from .rules import check_ends_at, check_rights, default_ends_at
from .states import (
    ACTIVE, DEACTIVATED, GRANTEE, GRANTOR, LAPSING, PENDING_ACCOUNT, REFUSED, REMOVED, REQUESTED,
    TRANSITIONS, check_transition, effective_state,
)

SUBJECT = "delegation"
PER_PAGE = 25
MAX_COLLABORATORS = 5000
MAX_TEXT = 1000
REMIND_DAYS = 30


# -- helpers ----------------------------------------------------------------------------
def role_of(user, delegation: Delegation) -> str | None:
    """``grantor``, ``grantee`` or None: the part ``user`` plays in ``delegation``."""
    if delegation.grantor_id == user.id:
        return GRANTOR
    if delegation.grantee_user_id is not None and delegation.grantee_user_id == user.id:
        return GRANTEE
    return None


def actor_for(user, role: str, via: str) -> Actor:
    return Actor(user.id, user.identifiant, "expert" if role == GRANTOR else "collaborator", via)


def snapshot(delegation: Delegation) -> dict:
    """What the audit trail keeps of a delegation, before and after a change."""
    return {
        "state": delegation.state,
        "rights": delegation.rights,
        "starts_at": delegation.starts_at,
        "ends_at": delegation.ends_at,
        "firm": delegation.firm.siret,
        "grantor": delegation.grantor.identifiant,
        "grantee": delegation.grantee.identifiant if delegation.grantee is not None else None,
        "grantee_email": delegation.grantee_email,
        "message": delegation.message,
        "reason": delegation.reason,
    }


def _text(value: str | None, field_name: str, *, required: bool = False, code: str = "invalid_text") -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("Ce champ est obligatoire."), code=code, field=field_name)
    if len(value) > MAX_TEXT:
        raise InvalidInput(_("Texte trop long (%(max)d caractères au plus).", max=MAX_TEXT), code="text_too_long",
                           field=field_name)
    return value


def _set_rights(delegation: Delegation, rights: list[str]) -> None:
    keep = set(rights)
    for row in list(delegation.right_rows):
        if row.right_id not in keep:
            delegation.right_rows.remove(row)
    have = {row.right_id for row in delegation.right_rows}
    for right_id in rights:
        if right_id not in have:
            delegation.right_rows.append(DelegationRight(right_id=right_id))


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        # Someone else changed this delegation since we read it (the
        # version column no longer matches): nothing of ours applies.
        raise Conflict(_("La délégation vient d'être modifiée par ailleurs : rechargez la page."),
                       code="concurrent_change") from None


def _require_expert_of(user, firm_id: int) -> None:
    if not user.is_expert:
        raise Forbidden(_("Seul un expert-comptable vérifié peut déléguer des droits."), code="not_an_expert")
    if not practises_in(user, firm_id):
        raise Forbidden(_("Vous n'exercez pas dans cette société d'exercice."), code="not_expert_of_firm")


# -- loading -----------------------------------------------------------------------------
def load_delegation(actor, delegation_id, *, for_update: bool = False) -> Delegation:
    """The delegation ``delegation_id`` if ``actor`` is party to it; ``NotFound`` otherwise.

    ``for_update`` locks the row until commit (PostgreSQL ``FOR UPDATE``)
    and rereads it, so that of two concurrent changes the second sees the
    first's result.
    """
    try:
        delegation_id = int(delegation_id)
    except (TypeError, ValueError):
        raise NotFound(_("Délégation introuvable."), code="delegation_not_found") from None
    query = select(Delegation).where(
        Delegation.id == delegation_id,
        or_(Delegation.grantor_id == actor.id, Delegation.grantee_user_id == actor.id),
    )
    if for_update:
        query = query.with_for_update(of=Delegation).execution_options(populate_existing=True)
    delegation = db.session.scalars(query).unique().one_or_none()
    if delegation is None:
        raise NotFound(_("Délégation introuvable."), code="delegation_not_found")
    return delegation


def _transition(actor, delegation_id, action: str, via: str, now: datetime) -> tuple[Delegation, dict, str]:
    """Load for change, check who may act and from which state; return the delegation, its snapshot, the role."""
    delegation = load_delegation(actor, delegation_id, for_update=True)
    transition = TRANSITIONS[action]
    role = role_of(actor, delegation)
    if role != transition.by:
        if transition.by == GRANTOR:
            raise Forbidden(_("Seul l'expert-comptable qui a délégué peut faire cela."), code="grantor_only")
        raise Forbidden(_("Seul le collaborateur qui a reçu la délégation peut faire cela."), code="grantee_only")
    # Claim the row before looking further: the UPDATE checks the version we
    # read (and, on SQLite, takes the write lock), so whatever we read next
    # is what we change, and a change that slipped in meanwhile fails here.
    delegation.updated_at = now
    flag_modified(delegation, "updated_at")
    _flush()
    check_transition(action, delegation.state, delegation.ends_at, now)
    return delegation, snapshot(delegation), role


def _finish(delegation: Delegation, action: str, actor: Actor, before: dict | None, now: datetime) -> Delegation:
    target = TRANSITIONS[action].target if action in TRANSITIONS else None
    if target is not None:
        delegation.state = target
    delegation.updated_at = now
    # Rights are child rows: mark the parent changed so its version is checked and bumped.
    flag_modified(delegation, "updated_at")
    _flush()
    audit.record(actor, action, subject_type=SUBJECT, subject_id=delegation.id, firm_id=delegation.firm_id,
                 before=before, after=snapshot(delegation), at=now)
    return delegation


def _tell_grantee(delegation: Delegation, change: str) -> None:
    if delegation.grantee is not None:
        messages.notify(messages.CHANGED, user=delegation.grantee, email=delegation.grantee.email,
                        delegation=delegation, params=messages.params_of(delegation, change=change))


# -- Créer/Ajouter -------------------------------------------------------------------------
@dataclass
class CollaboratorRow:
    """One line of the collaborators' list, as the preview shows it."""

    line: int
    value: str
    email: str | None = None
    account: User | None = None
    problem: str | None = None     # a stable code: invalid_email, duplicate, self, already_delegated
    message: str | None = None     # the problem in words
    duplicate_of: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def confirmed(self) -> bool:
        """Whether the delegation will apply at once (the account's address is confirmed)."""
        return self.account is not None and self.account.email_verified


class InvalidCollaborators(InvalidInput):
    """Some lines of the collaborators' list are wrong: nothing was applied."""

    def __init__(self, rows: list[CollaboratorRow]):
        bad = [row for row in rows if not row.ok]
        super().__init__(
            _("%(count)d ligne(s) à corriger dans la liste des collaborateurs : rien n'a été enregistré.",
              count=len(bad)),
            code="invalid_collaborators", field="collaborators",
        )
        self.rows = rows


def check_collaborators(actor, firm_id: int, values: list[str] | list[tuple[int, str]],
                        now: datetime | None = None) -> list[CollaboratorRow]:
    """Check each line of a list of collaborators' emails; blank lines are skipped.

    ``values`` are the lines (numbered from 1) or ``(line, value)`` pairs
    (a file's own row numbers). Each row says which account it names, or
    what is wrong with it: an invalid address, a duplicate of an earlier
    line, the expert's own address, or a collaborator who already holds a
    live delegation from this expert in this firm (change that one instead).
    """
    now = now or utcnow()
    numbered = [(i + 1, v) if not isinstance(v, tuple) else v for i, v in enumerate(values)]
    rows: list[CollaboratorRow] = []
    seen: dict[str, int] = {}
    for line, value in numbered:
        value = (value or "").strip()
        if not value:
            continue
        row = CollaboratorRow(line=line, value=value[:300])
        try:
            row.email = normalise_email(value)
        except InvalidInput:
            row.problem, row.message = "invalid_email", _("Adresse électronique invalide.")
        else:
            if row.email in seen:
                row.problem, row.duplicate_of = "duplicate", seen[row.email]
                row.message = _("En double : déjà à la ligne %(line)d.", line=seen[row.email])
            elif row.email == actor.email:
                row.problem, row.message = "self", _("C'est votre propre adresse : on ne se délègue pas de droits.")
            else:
                seen[row.email] = line
        rows.append(row)
    if len(rows) > MAX_COLLABORATORS:
        raise InvalidInput(_("Liste trop longue (%(max)d collaborateurs au plus).", max=MAX_COLLABORATORS),
                           code="too_many_collaborators", field="collaborators")
    emails = [row.email for row in rows if row.ok]
    accounts: dict[str, User] = {}
    held: set[str] = set()
    for start in range(0, len(emails), 500):
        chunk = emails[start:start + 500]
        accounts.update((u.email, u) for u in db.session.scalars(select(User).where(User.email.in_(chunk))))
        held.update(db.session.scalars(
            select(Delegation.grantee_email).where(
                Delegation.firm_id == firm_id, Delegation.grantor_id == actor.id, Delegation.state.in_(LAPSING),
                Delegation.ends_at > now, Delegation.grantee_email.in_(chunk),
            )
        ))
    for row in rows:
        if not row.ok:
            continue
        row.account = accounts.get(row.email)
        if row.account is not None and row.account.id == actor.id:
            row.problem, row.message = "self", _("C'est votre propre adresse : on ne se délègue pas de droits.")
        elif row.email in held:
            row.problem = "already_delegated"
            row.message = _("Ce collaborateur a déjà une délégation de votre part dans cette société : "
                            "modifiez-la plutôt.")
    return rows


def create_delegations(actor, firm_id: int, collaborators: list[str], rights, ends_at: datetime | None = None,
                       *, via: str = "web", now: datetime | None = None) -> list[Delegation]:
    """The expert ``actor`` gives ``rights`` of firm ``firm_id`` to each collaborator, until ``ends_at``.

    All or nothing: one bad line (``InvalidCollaborators``, with every row),
    an unknown or non-delegable right, or an expiry in the past or beyond
    one year, and nothing is recorded. A collaborator whose account is
    confirmed gets an active delegation at once; any other address gets a
    pending one (``pending_account``) that becomes active when an account
    confirms that address. Each collaborator is told.
    """
    now = now or utcnow()
    try:
        firm_id = int(firm_id)
    except (TypeError, ValueError):
        raise InvalidInput(_("Choisissez une société d'exercice."), code="invalid_firm", field="firm_id") from None
    _require_expert_of(actor, firm_id)
    rights = check_rights(rights)
    ends_at = check_ends_at(ends_at or default_ends_at(now), now)
    rows = check_collaborators(actor, firm_id, list(collaborators), now)
    if not rows:
        raise InvalidInput(_("Indiquez au moins un collaborateur."), code="no_collaborators", field="collaborators")
    if any(not row.ok for row in rows):
        raise InvalidCollaborators(rows)
    firm = db.session.get(Firm, firm_id)
    created = []
    for row in rows:
        confirmed = row.confirmed
        delegation = Delegation(
            firm=firm, grantor_id=actor.id, grantor=actor,
            grantee_user_id=row.account.id if confirmed else None, grantee=row.account if confirmed else None,
            grantee_email=row.email, state=ACTIVE if confirmed else PENDING_ACCOUNT,
            starts_at=now, ends_at=ends_at, created_at=now, updated_at=now,
            right_rows=[DelegationRight(right_id=r) for r in rights],
        )
        db.session.add(delegation)
        created.append(delegation)
    db.session.flush()
    audit.record_many(actor_for(actor, GRANTOR, via), "create",
                      [(SUBJECT, d.id, firm_id, None, snapshot(d)) for d in created], at=now)
    for delegation in created:
        messages.notify(messages.INVITATION, user=delegation.grantee, email=delegation.grantee_email,
                        delegation=delegation,
                        params=messages.params_of(delegation, pending=delegation.state == PENDING_ACCOUNT))
    return created


def activate_invitations(user, now: datetime | None = None) -> list[Delegation]:
    """``user`` just confirmed his address: the invitations to that address become his, and active.

    Matching is on the confirmed address only, never on an account that
    merely claims it: confirming is what proves the address is his.
    Invitations that expired meanwhile stay expired.
    """
    now = now or utcnow()
    messages.attach_to_account(user)
    waiting = list(db.session.scalars(
        select(Delegation).where(
            Delegation.grantee_email == user.email, Delegation.state == PENDING_ACCOUNT,
            Delegation.grantee_user_id.is_(None), Delegation.grantor_id != user.id,
        ).with_for_update(of=Delegation)
    ).unique())
    activated = []
    system = Actor.system("email_confirmation")
    for delegation in waiting:
        if effective_state(delegation.state, delegation.ends_at, now) != PENDING_ACCOUNT:
            continue
        before = snapshot(delegation)
        check_transition("account_confirmed", delegation.state, delegation.ends_at, now)
        delegation.grantee_user_id, delegation.grantee = user.id, user
        delegation.starts_at = now
        _finish(delegation, "account_confirmed", system, before, now)
        messages.notify(messages.ACTIVATED, user=delegation.grantor, email=delegation.grantor.email,
                        delegation=delegation, params=messages.params_of(delegation))
        activated.append(delegation)
    return activated


def _on_email_confirmed(user) -> None:
    activate_invitations(user)


if _on_email_confirmed not in account_services.on_email_confirmed:
    account_services.on_email_confirmed.append(_on_email_confirmed)


# -- Demander ------------------------------------------------------------------------------
def request_delegation(actor, expert: str, siret: str, rights, message: str | None = None,
                       ends_at: datetime | None = None, *, via: str = "web",
                       now: datetime | None = None) -> Delegation:
    """The collaborator ``actor`` asks the expert named ``expert`` (email or identifiant) for rights in a firm.

    The expert must be a verified expert of the firm with that SIRET; the
    answer is the same whether the person, the firm or the link between
    them is missing, so the form cannot be used to probe accounts. One
    request at a time per expert and firm.
    """
    now = now or utcnow()
    grantor = find_user(expert or "")
    firm = db.session.scalar(select(Firm).where(Firm.siret == normalise_siret(siret)[:14]))
    if grantor is None or firm is None or not grantor.active or not practises_in(grantor, firm.id):
        raise InvalidInput(_("Aucun expert-comptable de cette société ne correspond à cet identifiant ou "
                             "cette adresse."), code="expert_not_found", field="expert")
    if grantor.id == actor.id:
        raise Forbidden(_("On ne se délègue pas de droits à soi-même."), code="self_delegation")
    rights = check_rights(rights)
    message = _text(message, "message")
    ends_at = check_ends_at(ends_at or default_ends_at(now), now)
    waiting = db.session.scalar(select(Delegation.id).where(
        Delegation.grantee_user_id == actor.id, Delegation.grantor_id == grantor.id,
        Delegation.firm_id == firm.id, Delegation.state == REQUESTED,
    ))
    if waiting is not None:
        raise Conflict(_("Vous avez déjà une demande en attente auprès de cet expert-comptable pour cette "
                         "société."), code="request_pending")
    delegation = Delegation(
        firm=firm, grantor_id=grantor.id, grantor=grantor, grantee_user_id=actor.id, grantee=actor,
        grantee_email=actor.email, state=REQUESTED, starts_at=now, ends_at=ends_at, message=message or None,
        created_at=now, updated_at=now, right_rows=[DelegationRight(right_id=r) for r in rights],
    )
    db.session.add(delegation)
    _flush()
    audit.record(actor_for(actor, GRANTEE, via), "request", subject_type=SUBJECT, subject_id=delegation.id,
                 firm_id=firm.id, before=None, after=snapshot(delegation), at=now)
    messages.notify(messages.REQUEST, user=grantor, email=grantor.email, delegation=delegation,
                    params=messages.params_of(delegation, message=message))
    return delegation


def approve_request(actor, delegation_id, rights=None, ends_at: datetime | None = None, *, via: str = "web",
                    now: datetime | None = None) -> Delegation:
    """The expert approves a request, with the rights asked or fewer, until ``ends_at`` (one year at most).

    Of two approvals racing on one request, one wins; the other finds the
    delegation already active and fails (``cannot_approve_active``), or
    loses the version check (``concurrent_change``).
    """
    now = now or utcnow()
    delegation, before, role = _transition(actor, delegation_id, "approve", via, now)
    _require_expert_of(actor, delegation.firm_id)
    asked = set(delegation.rights)
    if rights is not None:
        rights = check_rights(rights)
        if not set(rights) <= asked:
            raise InvalidInput(_("On n'accorde que des droits demandés, ou moins."), code="rights_not_requested",
                               field="rights")
        _set_rights(delegation, rights)
    if ends_at is None:
        ends_at = delegation.ends_at if delegation.ends_at > now else default_ends_at(now)
    delegation.ends_at = check_ends_at(ends_at, now)
    delegation.starts_at = now
    _finish(delegation, "approve", actor_for(actor, role, via), before, now)
    messages.notify(messages.APPROVAL, user=delegation.grantee, email=delegation.grantee.email,
                    delegation=delegation, params=messages.params_of(delegation))
    return delegation


def refuse_request(actor, delegation_id, reason: str, *, via: str = "web", now: datetime | None = None) -> Delegation:
    """The expert refuses a request; the reason is required and told to the collaborator."""
    now = now or utcnow()
    delegation, before, role = _transition(actor, delegation_id, "refuse", via, now)
    delegation.reason = _text(reason, "reason", required=True, code="reason_required")
    _finish(delegation, "refuse", actor_for(actor, role, via), before, now)
    messages.notify(messages.REFUSAL, user=delegation.grantee, email=delegation.grantee.email,
                    delegation=delegation, params=messages.params_of(delegation, reason=delegation.reason))
    return delegation


def cancel_request(actor, delegation_id, *, via: str = "web", now: datetime | None = None) -> Delegation:
    """The collaborator withdraws a request the expert has not answered."""
    now = now or utcnow()
    delegation, before, role = _transition(actor, delegation_id, "cancel", via, now)
    return _finish(delegation, "cancel", actor_for(actor, role, via), before, now)


# -- Consulter/Modifier ----------------------------------------------------------------------
def deactivate(actor, delegation_id, *, via: str = "web", now: datetime | None = None) -> Delegation:
    """Suspend an active delegation; its rights stop at once."""
    now = now or utcnow()
    delegation, before, role = _transition(actor, delegation_id, "deactivate", via, now)
    _finish(delegation, "deactivate", actor_for(actor, role, via), before, now)
    delegation_changed(delegation, before, "deactivate", now)  # sites drop the rights (docs/events.md)
    _tell_grantee(delegation, "deactivate")
    return delegation


def activate(actor, delegation_id, *, via: str = "web", now: datetime | None = None) -> Delegation:
    """Resume a deactivated delegation (not past its expiry: extend it for that)."""
    now = now or utcnow()
    delegation, before, role = _transition(actor, delegation_id, "activate", via, now)
    _require_expert_of(actor, delegation.firm_id)
    _finish(delegation, "activate", actor_for(actor, role, via), before, now)
    _tell_grantee(delegation, "activate")
    return delegation


def extend(actor, delegation_id, ends_at: datetime, *, via: str = "web", now: datetime | None = None) -> Delegation:
    """Set a new expiry: after now and at most one year from now (an expired delegation revives)."""
    now = now or utcnow()
    delegation, before, role = _transition(actor, delegation_id, "extend", via, now)
    _require_expert_of(actor, delegation.firm_id)
    delegation.ends_at = check_ends_at(ends_at, now)
    _finish(delegation, "extend", actor_for(actor, role, via), before, now)
    delegation_changed(delegation, before, "extend", now)  # told to sites when it ends sooner
    _tell_grantee(delegation, "extend")
    return delegation


def change_rights(actor, delegation_id, rights, *, via: str = "web", now: datetime | None = None) -> Delegation:
    """Replace the rights of a delegation (at least one, each delegable)."""
    now = now or utcnow()
    delegation, before, role = _transition(actor, delegation_id, "change_rights", via, now)
    _require_expert_of(actor, delegation.firm_id)
    _set_rights(delegation, check_rights(rights))
    _finish(delegation, "change_rights", actor_for(actor, role, via), before, now)
    delegation_changed(delegation, before, "change_rights", now)  # told to sites when rights are withdrawn
    _tell_grantee(delegation, "change_rights")
    return delegation


def remove(actor, delegation_id, *, via: str = "web", now: datetime | None = None) -> Delegation:
    """End a delegation for good. It stays in the audit trail; an expert who left the firm may still do it."""
    now = now or utcnow()
    delegation, before, role = _transition(actor, delegation_id, "remove", via, now)
    _finish(delegation, "remove", actor_for(actor, role, via), before, now)
    delegation_changed(delegation, before, "remove", now)
    _tell_grantee(delegation, "remove")
    return delegation


def give_up(actor, delegation_id, right_id: str, *, via: str = "web", now: datetime | None = None) -> Delegation:
    """The collaborator gives one right up; without any right left, the delegation is removed."""
    now = now or utcnow()
    delegation, before, role = _transition(actor, delegation_id, "give_up", via, now)
    if right_id not in delegation.rights:
        raise InvalidInput(_("Vous ne détenez pas ce droit par cette délégation."), code="right_not_held",
                           field="right")
    _set_rights(delegation, [r for r in delegation.rights if r != right_id])
    if not delegation.right_rows:
        delegation.state = REMOVED
    _finish(delegation, "give_up", actor_for(actor, role, via), before, now)
    delegation_changed(delegation, before, "give_up", now)
    messages.notify(messages.GIVEN_UP, user=delegation.grantor, email=delegation.grantor.email,
                    delegation=delegation, params=messages.params_of(delegation, right=right_id))
    return delegation


# -- lists -----------------------------------------------------------------------------------
@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, -(-self.total // self.per_page))


def _page_number(page) -> int:
    try:
        return max(1, min(int(page or 1), 100000))
    except (TypeError, ValueError):
        return 1


def _paginate(query, order, page, per_page: int) -> Page:
    page = _page_number(page)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db.session.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).unique())
    return Page(items, total, page, per_page)


GIVEN_FILTERS = (ACTIVE, DEACTIVATED, "expired", PENDING_ACCOUNT)


def list_given(actor, *, firm_id=None, q: str | None = None, state: str | None = None, page=1,
               per_page: int = PER_PAGE, now: datetime | None = None) -> Page:
    """The delegations ``actor`` gave (not refused or removed), by firm then collaborator, searchable.

    ``q`` matches the collaborator's address, names or identifiant;
    ``state`` is ``active``, ``deactivated``, ``expired`` or ``pending_account``.
    """
    now = now or utcnow()
    grantee = aliased(User)
    query = (select(Delegation).join(Firm, Firm.id == Delegation.firm_id)
             .outerjoin(grantee, grantee.id == Delegation.grantee_user_id)
             .where(Delegation.grantor_id == actor.id, Delegation.state.in_(LAPSING)))
    if firm_id not in (None, ""):
        try:
            query = query.where(Delegation.firm_id == int(firm_id))
        except (TypeError, ValueError):
            raise InvalidInput(_("Société inconnue."), code="invalid_firm", field="firm_id") from None
    if state == "expired":
        query = query.where(Delegation.ends_at <= now)
    elif state in LAPSING:
        query = query.where(Delegation.state == state, Delegation.ends_at > now)
    elif state:
        raise InvalidInput(_("État inconnu."), code="invalid_state", field="state")
    q = (q or "").strip().lower()[:100]
    if q:
        query = query.where(or_(
            func.lower(Delegation.grantee_email).contains(q, autoescape=True),
            func.lower(grantee.given_name).contains(q, autoescape=True),
            func.lower(grantee.family_name).contains(q, autoescape=True),
            func.lower(grantee.identifiant).contains(q, autoescape=True),
        ))
    order = (Firm.raison_sociale, func.coalesce(grantee.family_name, Delegation.grantee_email),
             Delegation.grantee_email, Delegation.id)
    return _paginate(query, order, page, per_page)


def list_pending(actor, *, page=1, per_page: int = PER_PAGE, now: datetime | None = None) -> tuple[list, Page]:
    """What waits for ``actor``: requests to answer (all) and invitations not yet accepted (a page)."""
    now = now or utcnow()
    requests = list(db.session.scalars(
        select(Delegation).where(Delegation.grantor_id == actor.id, Delegation.state == REQUESTED)
        .order_by(Delegation.created_at, Delegation.id).limit(500)
    ).unique())
    invitations = (select(Delegation).join(Firm, Firm.id == Delegation.firm_id)
                   .where(Delegation.grantor_id == actor.id, Delegation.state == PENDING_ACCOUNT,
                          Delegation.ends_at > now))
    return requests, _paginate(invitations, (Firm.raison_sociale, Delegation.grantee_email, Delegation.id),
                               page, per_page)


def list_received(actor) -> list[Delegation]:
    """The delegations ``actor`` received (active, deactivated or expired), by firm."""
    return list(db.session.scalars(
        select(Delegation).join(Firm, Firm.id == Delegation.firm_id)
        .where(Delegation.grantee_user_id == actor.id, Delegation.state.in_((ACTIVE, DEACTIVATED)))
        .order_by(Firm.raison_sociale, Delegation.ends_at.desc(), Delegation.id).limit(1000)
    ).unique())


def list_requests(actor) -> list[Delegation]:
    """The requests ``actor`` made that wait or were refused, newest first."""
    return list(db.session.scalars(
        select(Delegation).where(Delegation.grantee_user_id == actor.id,
                                 Delegation.state.in_((REQUESTED, REFUSED)))
        .order_by(Delegation.created_at.desc(), Delegation.id.desc()).limit(100)
    ).unique())


def history(actor, delegation_id) -> list[audit.AuditEntry]:
    """The audit entries of a delegation, for the expert who gave it."""
    delegation = load_delegation(actor, delegation_id)
    if role_of(actor, delegation) != GRANTOR:
        raise Forbidden(_("Seul l'expert-comptable qui a délégué peut faire cela."), code="grantor_only")
    return audit.history(SUBJECT, delegation.id)


def firms_for_delegation(actor) -> list[Firm]:
    """The firms ``actor`` may delegate for (none unless he is a verified expert)."""
    return firms_of(actor)


# -- rights for tokens (issue 6) -----------------------------------------------------------------
@dataclass(frozen=True)
class FirmRights:
    """Rights a user holds in one firm for one relying site.

    ``grantor`` is None and ``ends_at`` is None for an expert's own rights
    in his firms; otherwise they come from the delegation ``delegation_id``.
    """

    siret: str
    firm: str
    rights: tuple[str, ...]
    grantor: str | None
    ends_at: datetime | None
    delegation_id: int | None = None

    @property
    def own(self) -> bool:
        return self.delegation_id is None


@lru_cache(maxsize=1)
def _delegated_rights_statement():
    """The delegated part of ``active_rights_for``, built once with bound parameters.

    Building this statement (an aliased user, two ``exists()``, four joins)
    cost more than running it, at every token refresh; built once, each call
    pays its execution only. Parameters: ``user_id``, ``now`` and the
    expanding ``right_ids``.
    """
    grantor = aliased(User)
    practises = or_(
        exists().where(UserFirm.user_id == grantor.id, UserFirm.firm_id == Delegation.firm_id),
        exists().where(register_entry_firms.c.register_entry_id == grantor.register_entry_id,
                       register_entry_firms.c.firm_id == Delegation.firm_id),
    )
    return (
        select(Delegation.id, Firm.siret, Firm.raison_sociale, grantor.identifiant, Delegation.ends_at,
               DelegationRight.right_id)
        .join(DelegationRight, DelegationRight.delegation_id == Delegation.id)
        .join(Firm, Firm.id == Delegation.firm_id)
        .join(grantor, grantor.id == Delegation.grantor_id)
        .where(Delegation.grantee_user_id == bindparam("user_id"), Delegation.state == ACTIVE,
               Delegation.ends_at > bindparam("now"),
               DelegationRight.right_id.in_(bindparam("right_ids", expanding=True)),
               grantor.expert_status == EXPERT_VERIFIED, grantor.disabled_at.is_(None), practises)
        .order_by(Firm.siret, Delegation.id, DelegationRight.right_id)
    )


def active_rights_for(user, audience: str, now: datetime | None = None) -> list[FirmRights]:
    """What ``user`` may do at the relying site ``audience``, firm by firm, at ``now``.

    An expert holds every right of the site (delegable or not) in each firm
    he practises in. A collaborator holds the rights of his active, unexpired
    delegations for that site, and only while the expert who gave them is
    still a verified expert practising in that firm: an expert who leaves a
    firm takes his delegations with him, without anyone having to remove
    them. The delegated part is one query on ``ix_delegations_grantee``.
    An unknown audience carries no rights.
    """
    now = now or utcnow()
    try:
        site_rights = default_catalogue().rights_for_audience(audience)
    except UnknownSite:
        return []
    right_ids = [r.id for r in site_rights]
    result = [FirmRights(f.siret, f.raison_sociale, tuple(right_ids), None, None) for f in firms_of(user)]
    rows = db.session.execute(_delegated_rights_statement(),
                              {"user_id": user.id, "now": now, "right_ids": right_ids})
    grouped: dict[int, list] = {}
    for delegation_id, siret, name, grantor_id, ends_at, right_id in rows:
        entry = grouped.setdefault(delegation_id, [siret, name, [], grantor_id, ends_at])
        entry[2].append(right_id)
    result.extend(FirmRights(s, n, tuple(r), g, e, d) for d, (s, n, r, g, e) in grouped.items())
    return result


# -- reminders -------------------------------------------------------------------------------------
def remind_expiring(now: datetime | None = None, days: int = REMIND_DAYS, *, batch: int = 500,
                    on_batch=None) -> int:
    """Tell experts and collaborators of active delegations ending within ``days``, once per expiry date.

    ``reminded_for`` remembers the expiry a reminder was sent for, so a
    second run sends nothing, and extending a delegation makes a new
    reminder due for its new date. The due delegations are found in one
    pass, then handled ``batch`` at a time; ``on_batch`` (the command
    commits there) runs after each, so a long first run keeps its progress.
    Returns the number of delegations reminded.
    """
    now = now or utcnow()
    due = list(db.session.scalars(
        select(Delegation.id).where(
            Delegation.state == ACTIVE, Delegation.ends_at > now, Delegation.ends_at <= now + timedelta(days=days),
            or_(Delegation.reminded_for.is_(None), Delegation.reminded_for != Delegation.ends_at),
        ).order_by(Delegation.ends_at, Delegation.id)
    ))
    sent = 0
    for start in range(0, len(due), batch):
        sent += _remind(due[start:start + batch], now)
        if on_batch is not None:
            on_batch()
    return sent


def _remind(ids: list[int], now: datetime) -> int:
    sent = 0
    for delegation in db.session.scalars(select(Delegation).where(Delegation.id.in_(ids))).unique():
        if effective_state(delegation.state, delegation.ends_at, now) != ACTIVE:
            continue
        # A plain UPDATE (no version bump): a reminder must not make an
        # expert's concurrent change fail. It claims the reminder, so two
        # runs at once send it once.
        claimed = db.session.execute(
            update(Delegation).where(
                Delegation.id == delegation.id, Delegation.ends_at == delegation.ends_at,
                or_(Delegation.reminded_for.is_(None), Delegation.reminded_for != delegation.ends_at),
            ).values(reminded_for=delegation.ends_at).execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        sent += 1
        params = messages.params_of(delegation)
        messages.notify(messages.EXPIRY, user=delegation.grantor, email=delegation.grantor.email,
                        delegation=delegation, params=params)
        if delegation.grantee is not None:
            messages.notify(messages.EXPIRY, user=delegation.grantee, email=delegation.grantee.email,
                            delegation=delegation, params=params)
    return sent

