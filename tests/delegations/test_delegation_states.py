"""The life of a delegation as a specification: every transition, allowed or not, with its error code.

The table below is written out by hand on purpose: it is the rule, and the
state machine in ``idp.delegations.states`` must agree with it line by line.
"""
from datetime import datetime, timedelta

import pytest

from idp.delegations.states import (
    ACTIVE, DEACTIVATED, EXPIRED, GRANTEE, GRANTOR, PENDING_ACCOUNT, REFUSED, REMOVED, REQUESTED, STATES,
    TRANSITIONS, TransitionForbidden, allowed_actions, check_transition, effective_state,
)
from idp.errors import Conflict

NOW = datetime(2026, 11, 26, 10, 0, 0)
FUTURE = NOW + timedelta(days=90)
PAST = NOW - timedelta(seconds=1)

# action: {effective state it may start from: stored state afterwards (None: unchanged)}
ALLOWED = {
    "approve": {REQUESTED: ACTIVE},
    "refuse": {REQUESTED: REFUSED},
    "cancel": {REQUESTED: REMOVED},
    "account_confirmed": {PENDING_ACCOUNT: ACTIVE},
    "deactivate": {ACTIVE: DEACTIVATED},
    "activate": {DEACTIVATED: ACTIVE},
    "extend": {PENDING_ACCOUNT: None, ACTIVE: None, DEACTIVATED: None, EXPIRED: None},
    "change_rights": {PENDING_ACCOUNT: None, ACTIVE: None, DEACTIVATED: None},
    "give_up": {ACTIVE: None, DEACTIVATED: None},
    "remove": {PENDING_ACCOUNT: REMOVED, ACTIVE: REMOVED, DEACTIVATED: REMOVED, EXPIRED: REMOVED},
}
WHO = {
    "approve": GRANTOR, "refuse": GRANTOR, "cancel": GRANTEE, "account_confirmed": "system",
    "deactivate": GRANTOR, "activate": GRANTOR, "extend": GRANTOR, "change_rights": GRANTOR,
    "give_up": GRANTEE, "remove": GRANTOR,
}


def stored(state: str) -> tuple[str, datetime]:
    """A stored state and expiry that show as ``state`` at NOW (expired: active past its end)."""
    return (ACTIVE, PAST) if state == EXPIRED else (state, FUTURE)


def test_the_specification_covers_every_action():
    assert set(ALLOWED) == set(TRANSITIONS)
    assert {name: t.by for name, t in TRANSITIONS.items()} == WHO


@pytest.mark.parametrize("action,state,target", [
    (action, state, target) for action, sources in ALLOWED.items() for state, target in sources.items()
])
def test_allowed_transition(action, state, target):
    transition = check_transition(action, *stored(state), NOW)
    assert transition.target == target


@pytest.mark.parametrize("action,state", [
    (action, state) for action, sources in ALLOWED.items() for state in STATES if state not in sources
])
def test_forbidden_transition_is_a_conflict_with_a_stable_code(action, state):
    with pytest.raises(TransitionForbidden) as caught:
        check_transition(action, *stored(state), NOW)
    assert isinstance(caught.value, Conflict) and caught.value.status == 409
    assert caught.value.code == f"cannot_{action}_{state}"
    assert (caught.value.action, caught.value.state) == (action, state)


def test_refused_and_removed_are_final():
    for state in (REFUSED, REMOVED):
        assert allowed_actions(state, FUTURE, NOW, GRANTOR) == []
        assert allowed_actions(state, FUTURE, NOW, GRANTEE) == []


@pytest.mark.parametrize("state", [PENDING_ACCOUNT, ACTIVE, DEACTIVATED])
def test_a_lapsing_state_is_expired_from_its_end_to_the_second(state):
    ends_at = NOW
    assert effective_state(state, ends_at, ends_at - timedelta(seconds=1)) == state
    assert effective_state(state, ends_at, ends_at) == EXPIRED
    assert effective_state(state, ends_at, ends_at + timedelta(seconds=1)) == EXPIRED


@pytest.mark.parametrize("state", [REQUESTED, REFUSED, REMOVED])
def test_requests_refusals_and_removals_never_expire(state):
    assert effective_state(state, PAST, NOW) == state


def test_an_expired_delegation_can_only_be_extended_or_removed_by_its_expert():
    assert allowed_actions(ACTIVE, PAST, NOW, GRANTOR) == ["extend", "remove"]
    assert allowed_actions(ACTIVE, PAST, NOW, GRANTEE) == []


def test_what_each_party_may_do_with_an_active_delegation():
    assert allowed_actions(ACTIVE, FUTURE, NOW, GRANTOR) == ["deactivate", "extend", "change_rights", "remove"]
    assert allowed_actions(ACTIVE, FUTURE, NOW, GRANTEE) == ["give_up"]
    assert allowed_actions(REQUESTED, FUTURE, NOW, GRANTOR) == ["approve", "refuse"]
    assert allowed_actions(REQUESTED, FUTURE, NOW, GRANTEE) == ["cancel"]
