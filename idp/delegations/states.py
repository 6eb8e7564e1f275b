"""The life of a delegation, on one screen.

    request (collaborator) ──► requested ──approve──► active ◄──activate── deactivated
                                   │  └──refuse──► refused       │ └──deactivate──►┘
                                   └──cancel──► removed           │
    create (expert) ──► active, or pending_account ──account_confirmed──► active
    extend, change_rights: the state is kept;  remove: ──► removed
    give_up (collaborator, one right): the state is kept, removed when no right is left

``expired`` is never stored: a pending, active or deactivated delegation
whose ``ends_at`` has passed *is* expired, to the second, with no job to
run. ``refused`` and ``removed`` are final.

Every action names who may take it (the grantor, the grantee, or the
system) and the effective states it starts from. Anything else raises
``TransitionForbidden`` (a ``Conflict``) whose ``code`` is
``cannot_<action>_<state>``, stable for API clients.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from ..errors import Conflict

PENDING_ACCOUNT = "pending_account"
REQUESTED = "requested"
ACTIVE = "active"
DEACTIVATED = "deactivated"
REFUSED = "refused"
EXPIRED = "expired"
REMOVED = "removed"

STATES = (PENDING_ACCOUNT, REQUESTED, ACTIVE, DEACTIVATED, REFUSED, EXPIRED, REMOVED)
# Stored states that lapse when ``ends_at`` passes.
LAPSING = (PENDING_ACCOUNT, ACTIVE, DEACTIVATED)
FINAL = (REFUSED, REMOVED)

GRANTOR, GRANTEE, SYSTEM = "grantor", "grantee", "system"


@dataclass(frozen=True)
class Transition:
    by: str                   # who may take it: GRANTOR, GRANTEE or SYSTEM
    sources: frozenset[str]   # effective states it starts from
    target: str | None        # stored state after it; None keeps the stored state


TRANSITIONS: dict[str, Transition] = {
    "approve": Transition(GRANTOR, frozenset({REQUESTED}), ACTIVE),
    "refuse": Transition(GRANTOR, frozenset({REQUESTED}), REFUSED),
    "cancel": Transition(GRANTEE, frozenset({REQUESTED}), REMOVED),
    "account_confirmed": Transition(SYSTEM, frozenset({PENDING_ACCOUNT}), ACTIVE),
    "deactivate": Transition(GRANTOR, frozenset({ACTIVE}), DEACTIVATED),
    "activate": Transition(GRANTOR, frozenset({DEACTIVATED}), ACTIVE),
    # Extending an expired delegation revives it in the state it had.
    "extend": Transition(GRANTOR, frozenset({PENDING_ACCOUNT, ACTIVE, DEACTIVATED, EXPIRED}), None),
    "change_rights": Transition(GRANTOR, frozenset({PENDING_ACCOUNT, ACTIVE, DEACTIVATED}), None),
    "give_up": Transition(GRANTEE, frozenset({ACTIVE, DEACTIVATED}), None),
    "remove": Transition(GRANTOR, frozenset({PENDING_ACCOUNT, ACTIVE, DEACTIVATED, EXPIRED}), REMOVED),
}


class TransitionForbidden(Conflict):
    """The delegation's state does not allow this action."""

    def __init__(self, action: str, state: str):
        super().__init__(
            _("Action « %(action)s » impossible sur une délégation dans l'état « %(state)s ».",
              action=action, state=state),
            code=f"cannot_{action}_{state}",
        )
        self.action = action
        self.state = state


def effective_state(state: str, ends_at: datetime, now: datetime) -> str:
    """The state as people see it: ``expired`` once ``ends_at`` is reached (``ends_at <= now``)."""
    if state in LAPSING and ends_at <= now:
        return EXPIRED
    return state


def check_transition(action: str, state: str, ends_at: datetime, now: datetime) -> Transition:
    """The transition for ``action`` from the delegation's effective state, or ``TransitionForbidden``."""
    transition = TRANSITIONS[action]
    current = effective_state(state, ends_at, now)
    if current not in transition.sources:
        raise TransitionForbidden(action, current)
    return transition


def allowed_actions(state: str, ends_at: datetime, now: datetime, by: str) -> list[str]:
    """The actions ``by`` (grantor or grantee) may take now, for pages to offer only those."""
    current = effective_state(state, ends_at, now)
    return [name for name, t in TRANSITIONS.items() if t.by == by and current in t.sources]
