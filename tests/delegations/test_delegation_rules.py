"""The rules every caller meets: one year at most, expiry to the second, delegable rights only."""
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.delegations.rules import check_ends_at, check_rights, ends_at_of_day, one_year_after
from idp.delegations.states import ACTIVE, EXPIRED, effective_state
from idp.errors import InvalidInput
from scopes import Catalogue, default_catalogue
from scopes.catalogue import parse_site

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 12, 31)).map(
    lambda m: m.replace(microsecond=0))
offsets = st.integers(min_value=-3 * 366 * 86400, max_value=3 * 366 * 86400).map(lambda s: timedelta(seconds=s))


@given(now=moments, offset=offsets)
def test_an_expiry_is_accepted_exactly_when_it_is_after_now_and_within_one_calendar_year(now, offset):
    ends_at = now + offset
    if now < ends_at <= one_year_after(now):
        assert check_ends_at(ends_at, now) == ends_at
    else:
        with pytest.raises(InvalidInput) as caught:
            check_ends_at(ends_at, now)
        assert caught.value.code == ("ends_at_in_past" if ends_at <= now else "ends_at_beyond_one_year")


@given(now=moments)
def test_one_year_is_the_last_second_accepted(now):
    limit = one_year_after(now)
    assert check_ends_at(limit, now) == limit
    with pytest.raises(InvalidInput):
        check_ends_at(limit + timedelta(seconds=1), now)
    assert timedelta(days=365) <= limit - now <= timedelta(days=366)


@given(now=moments)
def test_now_itself_is_not_a_future_expiry(now):
    with pytest.raises(InvalidInput) as caught:
        check_ends_at(now, now)
    assert caught.value.code == "ends_at_in_past"


@given(ends_at=moments, offset=st.integers(min_value=-10**9, max_value=10**9))
def test_a_delegation_is_expired_from_its_end_to_the_second(ends_at, offset):
    now = ends_at + timedelta(seconds=offset)
    assert (effective_state(ACTIVE, ends_at, now) == EXPIRED) == (offset >= 0)


def test_29_february_gives_28_february_next_year():
    assert one_year_after(datetime(2028, 2, 29, 12, 0, 0)) == datetime(2029, 2, 28, 12, 0, 0)


def test_a_date_picked_in_the_pages_ends_the_delegation_at_the_start_of_that_day():
    assert ends_at_of_day(date(2027, 11, 26)) == datetime(2027, 11, 26, 0, 0, 0)
    now = datetime(2026, 11, 26, 9, 30)
    assert check_ends_at(ends_at_of_day(date(2027, 11, 26)), now)  # the day one year from today: accepted
    with pytest.raises(InvalidInput):
        check_ends_at(ends_at_of_day(date(2026, 11, 26)), now)  # today: already started


def test_rights_are_deduplicated_and_sorted():
    assert check_rights(["ordre:site_prive", "jesignexpert:signer", "ordre:site_prive"]) == [
        "jesignexpert:signer", "ordre:site_prive"]


@pytest.mark.parametrize("rights,code", [
    ([], "no_rights"),
    (["  "], "no_rights"),
    (["ordre:nope"], "unknown_right"),
    (["delegations"], "unknown_right"),
    (["ordre:site_prive", "ordre:deleguer"], "unknown_right"),
])
def test_unknown_rights_are_refused(rights, code):
    with pytest.raises(InvalidInput) as caught:
        check_rights(rights)
    assert caught.value.code == code and caught.value.field == "rights"


def test_a_right_that_is_not_delegable_is_refused():
    site = parse_site({
        "id": "annuaire", "audience": "https://annuaire.example", "name": {"fr": "Annuaire", "en": "Directory"},
        "rights": {"publier": {"label": {"fr": "Publier", "en": "Publish"},
                               "description": {"fr": "Publier", "en": "Publish"},
                               "delegable": False, "min_acr": "eidas1", "personal": False}},
    }, "annuaire.toml")
    with pytest.raises(InvalidInput) as caught:
        check_rights(["annuaire:publier"], Catalogue([site]))
    assert caught.value.code == "right_not_delegable"


def test_no_right_of_the_catalogue_is_the_power_to_delegate():
    # "Droits administratifs" is delegable, but nothing in a delegation lets
    # its holder delegate: only a verified expert grants (see test_delegations_api).
    assert "ordre:droits_administratifs" in {r.id for r in default_catalogue().delegable_rights()}
