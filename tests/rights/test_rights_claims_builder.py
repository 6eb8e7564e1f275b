"""``idp.rights.claims``: from the rights a user holds to ``authorization_details``, as plain data.

The functional tests (over HTTP) check the same rules end to end; these pin
the ones that need situations the pages cannot set up cheaply (an
``eidas3`` session, one right from three sources, a byte budget).
``authorization_details`` hold one object per site and set of actions,
listing its firms (docs/claims.md).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from idp.db import epoch
from idp.delegations.services import FirmRights
from idp.rights.claims import (
    build_authorization_details, build_firms, earliest_exp, experts_first_out, fit_authorization_details,
    fit_entries, json_size, payload_budget,
)

NOW = datetime(2026, 3, 2, 9, 30, 0)
A, B, C = "44523611200025", "73282932000074", "99999999999999"
JESIGN = ("jesignexpert:preparer_collecte", "jesignexpert:sceller", "jesignexpert:signer")


def own(siret, rights=JESIGN, firm="SOGETES"):
    return FirmRights(siret, firm, tuple(rights), None, None)


def delegated(siret, rights, by, days, firm="SOGETES", delegation_id=1):
    return FirmRights(siret, firm, tuple(rights), by, NOW + timedelta(days=days), delegation_id)


def test_an_expert_s_own_rights_have_neither_by_nor_exp():
    details = build_authorization_details([own(B), own(A)], "eidas3", NOW)
    assert details == [
        {"type": "jesignexpert", "actions": ["preparer_collecte", "sceller", "signer"],
         "firms": [{"siret": A}, {"siret": B}]},
    ]


def test_delegated_rights_say_who_gave_them_and_until_when():
    details = build_authorization_details([delegated(A, ["jesignexpert:sceller"], "dur09HP9", 30)], "eidas2", NOW)
    assert details == [{"type": "jesignexpert", "actions": ["sceller"],
                        "firms": [{"siret": A, "by": "dur09HP9", "exp": epoch(NOW + timedelta(days=30))}]}]


def test_firms_holding_the_same_actions_share_one_object_own_firms_first():
    details = build_authorization_details([
        delegated(A, ["ordre:site_prive"], "bbb22BBB", 20),
        own(C, ["ordre:site_prive"]),
        delegated(B, ["ordre:site_prive", "ordre:droits_administratifs"], "ccc33CCC", 20),
    ], "eidas1", NOW)
    ends = epoch(NOW + timedelta(days=20))
    assert details == [
        {"type": "ordre", "actions": ["droits_administratifs", "site_prive"],
         "firms": [{"siret": B, "by": "ccc33CCC", "exp": ends}]},
        {"type": "ordre", "actions": ["site_prive"],
         "firms": [{"siret": C}, {"siret": A, "by": "bbb22BBB", "exp": ends}]},
    ]


def test_a_firm_with_rights_from_two_delegations_is_in_the_object_of_each_action_set():
    details = build_authorization_details([
        delegated(A, ["jesignexpert:sceller"], "aaa11AAA", 40),
        delegated(A, ["jesignexpert:preparer_collecte"], "zzz99ZZZ", 10, delegation_id=2),
    ], "eidas2", NOW)
    assert [(d["actions"], [(f["siret"], f["by"]) for f in d["firms"]]) for d in details] == [
        (["preparer_collecte"], [(A, "zzz99ZZZ")]),
        (["sceller"], [(A, "aaa11AAA")]),
    ]


def test_rights_above_the_session_level_are_left_out():
    assert build_authorization_details([own(A)], "eidas1", NOW)[0]["actions"] == ["preparer_collecte"]
    assert build_authorization_details([own(A)], "eidas2", NOW)[0]["actions"] == ["preparer_collecte", "sceller"]
    assert build_authorization_details([own(A)], "eidas3", NOW)[0]["actions"] == [
        "preparer_collecte", "sceller", "signer"]


def test_an_unknown_or_missing_session_level_opens_nothing():
    assert build_authorization_details([own(A)], None, NOW) == []
    assert build_authorization_details([own(A)], "eidas9", NOW) == []


def test_a_firm_with_no_right_left_at_the_session_level_disappears():
    assert build_authorization_details([delegated(A, ["jesignexpert:signer"], "dur09HP9", 30)], "eidas2", NOW) == []


def test_a_delegation_ending_within_the_current_second_is_left_out():
    ending = FirmRights(A, "SOGETES", ("jesignexpert:sceller",), "dur09HP9", NOW + timedelta(microseconds=500), 1)
    assert build_authorization_details([ending], "eidas2", NOW) == []


def test_a_right_held_twice_comes_once_from_the_best_source():
    # His own right beats a delegation; of two delegations the one ending last wins.
    details = build_authorization_details([
        delegated(A, ["jesignexpert:sceller"], "aaa11AAA", 10),
        own(A, ["jesignexpert:sceller"]),
        delegated(B, ["jesignexpert:sceller"], "aaa11AAA", 10),
        delegated(B, ["jesignexpert:sceller", "jesignexpert:preparer_collecte"], "zzz99ZZZ", 40, delegation_id=2),
    ], "eidas2", NOW)
    assert details == [
        {"type": "jesignexpert", "actions": ["preparer_collecte", "sceller"],
         "firms": [{"siret": B, "by": "zzz99ZZZ", "exp": epoch(NOW + timedelta(days=40))}]},
        {"type": "jesignexpert", "actions": ["sceller"], "firms": [{"siret": A}]},
    ]


def test_order_is_by_site_then_actions_then_own_firms_first_then_siret():
    details = build_authorization_details([
        delegated(B, ["ordre:site_prive"], "bbb22BBB", 20),
        delegated(A, ["ordre:site_prive"], "ccc33CCC", 20),
        delegated(A, ["jesignexpert:preparer_collecte"], "bbb22BBB", 20),
        own(C, ["ordre:droits_administratifs", "ordre:site_prive"]),
        own(B, ["ordre:droits_administratifs"]),
    ], "eidas1", NOW)
    assert [(d["type"], d["actions"], [f["siret"] for f in d["firms"]]) for d in details] == [
        ("jesignexpert", ["preparer_collecte"], [A]),
        ("ordre", ["droits_administratifs"], [B]),
        ("ordre", ["droits_administratifs", "site_prive"], [C]),
        ("ordre", ["site_prive"], [A, B]),
    ]


def test_rights_no_longer_in_the_catalogue_go_nowhere():
    assert build_authorization_details([own(A, ["jesignexpert:teleporter"])], "eidas3", NOW) == []


def test_the_earliest_end_bounds_a_token():
    details = build_authorization_details([
        delegated(A, ["ordre:site_prive"], "bbb22BBB", 20), delegated(B, ["ordre:site_prive"], "ccc33CCC", 5),
        own(C, ["ordre:site_prive"]),
    ], "eidas1", NOW)
    assert earliest_exp(details) == epoch(NOW + timedelta(days=5))
    assert earliest_exp([{"type": "ordre", "actions": ["site_prive"], "firms": [{"siret": A}]}]) is None


def _delegated_firm(i: int) -> dict:
    return {"siret": f"{i:014d}", "by": "bbb22BBB", "exp": 1}


def test_fitting_keeps_own_firms_first_then_delegated_firms_by_siret_and_says_it_cut():
    details = [
        {"type": "ordre", "actions": ["droits_administratifs"], "firms": [_delegated_firm(1), _delegated_firm(3)]},
        {"type": "ordre", "actions": ["site_prive"],
         "firms": [{"siret": "99999999999999"}, _delegated_firm(0), _delegated_firm(2)]},
    ]
    # Room for the own firm and two delegated firms, in their objects.
    room = 2 + json_size({**details[1], "firms": [{"siret": "99999999999999"}, _delegated_firm(0)]}) + 1 + \
        json_size({**details[0], "firms": [_delegated_firm(1)]})
    kept, truncated = fit_authorization_details(details, room)
    assert truncated
    assert kept == [
        {"type": "ordre", "actions": ["droits_administratifs"], "firms": [_delegated_firm(1)]},
        {"type": "ordre", "actions": ["site_prive"], "firms": [{"siret": "99999999999999"}, _delegated_firm(0)]},
    ]
    assert json_size(kept) == room
    assert fit_authorization_details(details, json_size(details)) == (details, False)


def test_fitting_takes_a_firm_whole_or_not_at_all():
    # Firm 1 is in both objects: with room for one of its objects only, it is left out entirely.
    details = [
        {"type": "ordre", "actions": ["droits_administratifs"], "firms": [_delegated_firm(0), _delegated_firm(1)]},
        {"type": "ordre", "actions": ["site_prive"], "firms": [_delegated_firm(1)]},
    ]
    room = json_size(details) - 1
    assert fit_authorization_details(details, room) == (
        [{"type": "ordre", "actions": ["droits_administratifs"], "firms": [_delegated_firm(0)]}], True)
    assert fit_authorization_details(details, 10) == ([], True)


def test_fitting_a_flat_list_keeps_the_priority_first():
    firms = [{"siret": f"{i:014d}", "raison_sociale": "X", "role": "collaborator"} for i in range(5)] + [
        {"siret": "99999999999999", "raison_sociale": "X", "role": "expert"}]
    kept, truncated = fit_entries(firms, 2 + 2 * json_size(firms[0]) + 1, experts_first_out)
    assert truncated and kept == [firms[0], firms[5]]


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
