"""``idp.rights.claims``: from the rights a user holds to ``authorization_details``, as plain data.

The functional tests (over HTTP) check the same rules end to end; these pin
the ones that need situations the pages cannot set up cheaply (an
``eidas3`` session, one right from three sources, a byte budget).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from idp.db import epoch
from idp.delegations.services import FirmRights
from idp.rights.claims import (
    build_authorization_details, build_firms, earliest_exp, fit_entries, json_size, payload_budget,
)

NOW = datetime(2026, 3, 2, 9, 30, 0)
A, B = "44523611200025", "73282932000074"
JESIGN = ("jesignexpert:preparer_collecte", "jesignexpert:sceller", "jesignexpert:signer")


def own(siret, rights=JESIGN, firm="SOGETES"):
    return FirmRights(siret, firm, tuple(rights), None, None)


def delegated(siret, rights, by, days, firm="SOGETES", delegation_id=1):
    return FirmRights(siret, firm, tuple(rights), by, NOW + timedelta(days=days), delegation_id)


def test_an_expert_s_own_rights_have_neither_by_nor_exp():
    entries = build_authorization_details([own(B), own(A)], "eidas3", NOW)
    assert entries == [
        {"type": "jesignexpert", "siret": A, "actions": ["preparer_collecte", "sceller", "signer"]},
        {"type": "jesignexpert", "siret": B, "actions": ["preparer_collecte", "sceller", "signer"]},
    ]


def test_delegated_rights_say_who_gave_them_and_until_when():
    entries = build_authorization_details([delegated(A, ["jesignexpert:sceller"], "dur09HP9", 30)], "eidas2", NOW)
    assert entries == [{"type": "jesignexpert", "siret": A, "actions": ["sceller"], "by": "dur09HP9",
                        "exp": epoch(NOW + timedelta(days=30))}]


def test_rights_above_the_session_level_are_left_out():
    assert build_authorization_details([own(A)], "eidas1", NOW)[0]["actions"] == ["preparer_collecte"]
    assert build_authorization_details([own(A)], "eidas2", NOW)[0]["actions"] == ["preparer_collecte", "sceller"]
    assert build_authorization_details([own(A)], "eidas3", NOW)[0]["actions"] == [
        "preparer_collecte", "sceller", "signer"]


def test_an_unknown_or_missing_session_level_opens_nothing():
    assert build_authorization_details([own(A)], None, NOW) == []
    assert build_authorization_details([own(A)], "eidas9", NOW) == []


def test_an_entry_with_no_right_left_at_the_session_level_disappears():
    assert build_authorization_details([delegated(A, ["jesignexpert:signer"], "dur09HP9", 30)], "eidas2", NOW) == []


def test_a_delegation_ending_within_the_current_second_is_left_out():
    ending = FirmRights(A, "SOGETES", ("jesignexpert:sceller",), "dur09HP9", NOW + timedelta(microseconds=500), 1)
    assert build_authorization_details([ending], "eidas2", NOW) == []


def test_a_right_held_twice_comes_once_from_the_best_source():
    # His own right beats a delegation; of two delegations the one ending last wins.
    entries = build_authorization_details([
        delegated(A, ["jesignexpert:sceller"], "aaa11AAA", 10),
        own(A, ["jesignexpert:sceller"]),
        delegated(B, ["jesignexpert:sceller"], "aaa11AAA", 10),
        delegated(B, ["jesignexpert:sceller", "jesignexpert:preparer_collecte"], "zzz99ZZZ", 40, delegation_id=2),
    ], "eidas2", NOW)
    assert [(e["siret"], e["actions"], e.get("by")) for e in entries] == [
        (A, ["sceller"], None),
        (B, ["preparer_collecte", "sceller"], "zzz99ZZZ"),
    ]


def test_order_is_by_siret_then_site_own_first_then_grantor():
    entries = build_authorization_details([
        delegated(B, ["ordre:site_prive"], "bbb22BBB", 20),
        delegated(A, ["ordre:site_prive"], "ccc33CCC", 20),
        delegated(A, ["jesignexpert:preparer_collecte"], "bbb22BBB", 20),
        own(A, ["ordre:droits_administratifs"]),
    ], "eidas1", NOW)
    assert [(e["siret"], e["type"], e.get("by")) for e in entries] == [
        (A, "jesignexpert", "bbb22BBB"), (A, "ordre", None), (A, "ordre", "ccc33CCC"), (B, "ordre", "bbb22BBB")]


def test_rights_no_longer_in_the_catalogue_go_nowhere():
    assert build_authorization_details([own(A, ["jesignexpert:teleporter"])], "eidas3", NOW) == []


def test_the_earliest_end_bounds_a_token():
    entries = build_authorization_details([
        delegated(A, ["ordre:site_prive"], "bbb22BBB", 20), delegated(B, ["ordre:site_prive"], "ccc33CCC", 5),
        own("99999999999999", ["ordre:site_prive"]),
    ], "eidas1", NOW)
    assert earliest_exp(entries) == epoch(NOW + timedelta(days=5))
    assert earliest_exp([{"type": "ordre", "siret": A, "actions": ["site_prive"]}]) is None


def test_fitting_keeps_own_rights_first_then_entries_in_order_and_says_it_cut():
    entries = [{"type": "ordre", "siret": f"{i:014d}", "actions": ["site_prive"], "by": "bbb22BBB", "exp": 1}
               for i in range(10)] + [{"type": "ordre", "siret": "99999999999999", "actions": ["site_prive"]}]
    one = json_size(entries[0])
    kept, truncated = fit_entries(entries, 2 + 3 * one + 3)
    assert truncated
    assert kept == [entries[0], entries[1], entries[10]]
    assert fit_entries(entries, json_size(entries)) == (entries, False)


def test_the_payload_budget_leaves_room_for_header_and_signature():
    # An RS256 token whose payload is exactly the budget stays under 8,000 bytes.
    budget = payload_budget(8000)
    assert 4 * -(-budget // 3) + 160 + 342 + 2 <= 8000


def test_firms_say_expert_where_he_practises_collaborator_where_he_holds_delegations():
    firms = build_firms([delegated(B, ["ordre:site_prive"], "bbb22BBB", 20, firm="BETA"),
                         own(A, ["ordre:site_prive"], firm="ALPHA"),
                         delegated(A, ["ordre:site_prive"], "ccc33CCC", 20, firm="ALPHA")])
    assert firms == [{"siret": A, "raison_sociale": "ALPHA", "role": "expert"},
                     {"siret": B, "raison_sociale": "BETA", "role": "collaborator"}]
