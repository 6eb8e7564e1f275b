"""The JSON API /api/v1 over HTTP, with access tokens the provider really issued."""
from datetime import datetime, timedelta, timezone

import requests

from deleg_steps import ApiClient, assert_problem

SIGN = ["jesignexpert:signer", "jesignexpert:preparer_collecte", "jesignexpert:sceller"]


# -- bearer tokens ----------------------------------------------------------------------------------------
def test_no_token_is_a_401_challenge_without_error_code(live):
    response = ApiClient(live.url, None).get("/delegations")
    assert_problem(response, 401, "missing_token")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="comptexpert"'


def test_a_forged_token_is_invalid_token(live):
    response = ApiClient(live.url, "eyJhbGciOiJIUzI1NiJ9.e30.xxxx").get("/delegations")
    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_without_the_delegations_scope_is_insufficient_scope(live, factories, browser, expert):
    rp = factories.relying_party(scope="openid profile email delegations", resources=[live.url + "/api/v1"],
                                 first_party=True)
    tokens = rp.tokens_for(browser, expert, scope="openid profile")
    response = ApiClient(live.url, tokens["access_token"]).get("/delegations")
    assert_problem(response, 403, "insufficient_scope")
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="delegations"' in challenge


def test_a_token_meant_for_another_site_is_refused(live, factories, browser, expert):
    rp = factories.relying_party(scope="openid delegations", resources=["https://jesignexpert.example"],
                                 first_party=True)
    tokens = rp.tokens_for(browser, expert, scope="openid delegations")
    assert_problem(ApiClient(live.url, tokens["access_token"]).get("/delegations"), 401, "invalid_token")


def test_a_client_credentials_token_acts_for_nobody_and_is_refused(live, factories):
    rp = factories.relying_party(scope="delegations", resources=[live.url + "/api/v1"],
                                 grant_types=["client_credentials"], redirect_uris=[])
    response = rp.token({"grant_type": "client_credentials", "scope": "delegations"})
    assert response.status_code == 200, response.text
    api = ApiClient(live.url, response.json()["access_token"])
    body = assert_problem(api.get("/delegations"), 401, "invalid_token")
    assert body["detail"] == "The access token does not act for a user."


def test_a_revoked_token_is_refused(live, api_rp, expert):
    from flows import Browser

    tokens = api_rp.tokens_for(Browser(live.url), expert, scope="openid delegations")
    api = ApiClient(live.url, tokens["access_token"])
    assert api.get("/delegations").status_code == 200
    revoked = requests.post(live.url + "/revoke", data={"token": tokens["access_token"]},
                            auth=(api_rp.client_id, api_rp.secret))
    assert revoked.status_code == 200
    assert_problem(api.get("/delegations"), 401, "invalid_token")


# -- giving rights -----------------------------------------------------------------------------------------
def test_an_expert_gives_rights_to_a_collaborator_who_sees_them(api, expert, collaborator):
    response = api(expert).create(expert.firm, [collaborator.email.upper()], SIGN)
    assert response.status_code == 201, response.text
    [given] = response.json()["items"]
    assert given["state"] == "active"
    assert given["rights"] == sorted(SIGN)
    assert given["firm"]["siret"] == expert.firm.siret
    assert given["grantor"]["identifiant"] == expert.identifiant
    assert given["grantee"] == {"identifiant": collaborator.identifiant, "name": "Benjamin Dossat",
                                "email": collaborator.email}
    assert given["ends_at"].endswith("Z")

    received = api(collaborator).get("/received").json()
    assert [d["id"] for d in received["items"]] == [given["id"]]
    assert api(collaborator).get(f"/delegations/{given['id']}").json()["rights"] == sorted(SIGN)


def test_a_delegation_to_an_address_without_account_waits_for_it(api, expert):
    response = api(expert).create(expert.firm, ["futur.collaborateur@cabinet.example"], ["ordre:site_prive"])
    [pending] = response.json()["items"]
    assert pending["state"] == "pending_account"
    assert pending["grantee"] == {"identifiant": None, "name": None, "email": "futur.collaborateur@cabinet.example"}
    invitations = api(expert).get("/pending").json()["invitations"]
    assert [d["id"] for d in invitations["items"]] == [pending["id"]]


def test_a_firm_can_be_named_by_its_siret(api, expert, collaborator):
    response = api(expert).post("/delegations", {"siret": expert.firm.siret, "collaborators": [collaborator.email],
                                                 "rights": ["ordre:droits_administratifs"]})
    assert response.status_code == 201, response.text


def test_only_a_verified_expert_delegates(api, collaborator, make_collaborator, make_firm):
    other = make_collaborator(email="autre@cabinet.example")
    response = api(collaborator).create(make_firm(), [other.email], ["ordre:site_prive"])
    assert_problem(response, 403, "not_an_expert")


def test_an_expert_delegates_only_for_his_own_firms(api, expert, collaborator, make_firm):
    assert_problem(api(expert).create(make_firm(), [collaborator.email], ["ordre:site_prive"]), 403,
                   "not_expert_of_firm")
    assert_problem(api(expert).post("/delegations", {"siret": "44523611200025", "collaborators": [
        collaborator.email], "rights": ["ordre:site_prive"]}), 403, "not_expert_of_firm")


def test_a_collaborator_never_passes_a_right_on(api, expert, collaborator, make_collaborator):
    api(expert).create(expert.firm, [collaborator.email], ["ordre:droits_administratifs", "ordre:site_prive"])
    third = make_collaborator(email="tiers@cabinet.example")
    response = api(collaborator).create(expert.firm, [third.email], ["ordre:site_prive"])
    assert_problem(response, 403, "not_an_expert")


def test_nobody_grants_to_himself(api, expert):
    body = assert_problem(api(expert).create(expert.firm, [expert.email], ["ordre:site_prive"]), 400,
                          "invalid_collaborators")
    assert [(row["line"], row["problem"]) for row in body["rows"]] == [(1, "self")]


def test_a_bad_line_applies_nothing(api, expert, collaborator):
    response = api(expert).create(expert.firm, [collaborator.email, "pas-une-adresse", collaborator.email],
                                  ["ordre:site_prive"])
    body = assert_problem(response, 400, "invalid_collaborators")
    assert [(row["line"], row["problem"]) for row in body["rows"]] == [
        (1, None), (2, "invalid_email"), (3, "duplicate")]
    assert api(expert).get("/delegations").json()["total"] == 0


def test_unknown_rights_and_more_than_a_year_are_refused(api, expert, collaborator):
    assert_problem(api(expert).create(expert.firm, [collaborator.email], ["ordre:tout"]), 400, "unknown_right")
    assert_problem(api(expert).create(expert.firm, [collaborator.email], []), 400, "no_rights")
    assert_problem(api(expert).create(expert.firm, [collaborator.email], ["ordre:site_prive"],
                                      ends_at="2999-01-01T00:00:00Z"), 400, "ends_at_beyond_one_year")
    assert_problem(api(expert).create(expert.firm, [collaborator.email], ["ordre:site_prive"],
                                      ends_at="2001-01-01T00:00:00Z"), 400, "ends_at_in_past")
    assert_problem(api(expert).create(expert.firm, [collaborator.email], ["ordre:site_prive"],
                                      ends_at="bientôt"), 400, "invalid_datetime")
    assert_problem(api(expert).post("/delegations", ["not", "an", "object"]), 400, "invalid_json")


def test_a_second_delegation_to_the_same_collaborator_is_refused(api, expert, collaborator):
    api(expert).create(expert.firm, [collaborator.email], ["ordre:site_prive"])
    body = assert_problem(api(expert).create(expert.firm, [collaborator.email], ["jefacture:acces"]), 400,
                          "invalid_collaborators")
    assert body["rows"][0]["problem"] == "already_delegated"


# -- managing -----------------------------------------------------------------------------------------------
def test_the_expert_deactivates_activates_extends_changes_and_removes(api, expert, collaborator):
    expert_api = api(expert)
    [d] = expert_api.create(expert.firm, [collaborator.email], SIGN).json()["items"]
    path = f"/delegations/{d['id']}"

    assert expert_api.post(path + "/deactivate").json()["state"] == "deactivated"
    assert_problem(expert_api.post(path + "/deactivate"), 409, "cannot_deactivate_deactivated")
    assert expert_api.post(path + "/activate").json()["state"] == "active"
    assert_problem(expert_api.post(path + "/activate"), 409, "cannot_activate_active")

    changed = expert_api.patch(path, {"rights": ["jesignexpert:signer"]})
    assert changed.status_code == 200 and changed.json()["rights"] == ["jesignexpert:signer"]

    sooner = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    extended = expert_api.post(path + "/extend", {"ends_at": sooner.isoformat()})
    assert extended.status_code == 200 and extended.json()["ends_at"] == sooner.replace(tzinfo=None).isoformat() + "Z"
    assert_problem(expert_api.post(path + "/extend", {"ends_at": "2999-01-01T00:00:00Z"}), 400,
                   "ends_at_beyond_one_year")

    assert expert_api.delete(path).status_code == 204
    assert expert_api.get(path).json()["state"] == "removed"
    assert_problem(expert_api.post(path + "/activate"), 409, "cannot_activate_removed")
    assert_problem(expert_api.post(path + "/extend", {"ends_at": sooner.isoformat()}), 409, "cannot_extend_removed")
    assert expert_api.get("/delegations").json()["total"] == 0

    history = expert_api.get(path + "/history").json()["items"]
    assert [e["action"] for e in history] == ["create", "deactivate", "activate", "change_rights", "extend",
                                              "remove"]
    assert all(e["acting_as"] == "expert" and e["via"].startswith("api:") for e in history)
    assert history[3]["before"]["rights"] == sorted(SIGN) and history[3]["after"]["rights"] == ["jesignexpert:signer"]


def test_the_collaborator_cannot_manage_what_he_received(api, expert, collaborator):
    [d] = api(expert).create(expert.firm, [collaborator.email], SIGN).json()["items"]
    assert_problem(api(collaborator).post(f"/delegations/{d['id']}/deactivate"), 403, "grantor_only")
    assert_problem(api(collaborator).post(f"/delegations/{d['id']}/extend", {"ends_at": "2027-01-01"}), 403,
                   "grantor_only")
    assert_problem(api(collaborator).get(f"/delegations/{d['id']}/history"), 403, "grantor_only")
    assert_problem(api(expert).delete(f"/received/{d['id']}/rights/jesignexpert:signer"), 403, "grantee_only")


def test_the_collaborator_gives_a_right_up_and_the_last_one_removes_the_delegation(api, expert, collaborator):
    [d] = api(expert).create(expert.firm, [collaborator.email], ["ordre:site_prive", "jefacture:acces"]).json()[
        "items"]
    mine = api(collaborator)
    assert mine.delete(f"/received/{d['id']}/rights/jefacture:acces").json()["rights"] == ["ordre:site_prive"]
    assert_problem(mine.delete(f"/received/{d['id']}/rights/jefacture:acces"), 400, "right_not_held")
    last = mine.delete(f"/received/{d['id']}/rights/ordre:site_prive").json()
    assert last["state"] == "removed" and last["rights"] == []
    assert mine.get("/received").json()["items"] == []


def test_guessing_identifiers_finds_nothing(api, expert, make_expert, collaborator, make_collaborator):
    [d] = api(expert).create(expert.firm, [collaborator.email], SIGN).json()["items"]
    stranger_expert = make_expert(email="autre.expert@cabinet.example")
    stranger = make_collaborator(email="curieux@cabinet.example")
    for outsider in (stranger_expert, stranger):
        client = api(outsider)
        for method, path, body in [
            ("get", f"/delegations/{d['id']}", None),
            ("get", f"/delegations/{d['id']}/history", None),
            ("patch", f"/delegations/{d['id']}", {"rights": ["ordre:site_prive"]}),
            ("post", f"/delegations/{d['id']}/deactivate", None),
            ("post", f"/delegations/{d['id']}/extend", {"ends_at": "2027-01-01"}),
            ("delete", f"/delegations/{d['id']}", None),
            ("post", f"/requests/{d['id']}/approve", {}),
            ("delete", f"/received/{d['id']}/rights/jesignexpert:signer", None),
            ("get", f"/delegations/{d['id'] + 1000}", None),
        ]:
            response = getattr(client, method)(path, **({"json": body} if body is not None else {}))
            assert_problem(response, 404, "delegation_not_found")
    assert api(expert).get(f"/delegations/{d['id']}").json()["state"] == "active"


def test_lists_are_paginated_and_searchable(api, expert, make_collaborator):
    people = [make_collaborator(email=f"collab{i:02d}@cabinet.example", family_name=f"Nom{i:02d}")
              for i in range(3)]
    emails = [p.email for p in people] + [f"invite{i:02d}@cabinet.example" for i in range(4)]
    assert api(expert).create(expert.firm, emails, ["ordre:site_prive"]).status_code == 201
    page = api(expert).get("/delegations", params={"per_page": 3}).json()
    assert (page["total"], page["pages"], len(page["items"])) == (7, 3, 3)
    last = api(expert).get("/delegations", params={"per_page": 3, "page": 3}).json()
    assert len(last["items"]) == 1
    found = api(expert).get("/delegations", params={"q": "nom01"}).json()
    assert [d["grantee"]["email"] for d in found["items"]] == ["collab01@cabinet.example"]
    waiting = api(expert).get("/delegations", params={"state": "pending_account"}).json()
    assert waiting["total"] == 4
    assert_problem(api(expert).get("/delegations", params={"state": "bizarre"}), 400, "invalid_state")


def test_rights_and_firms_lists(api, expert):
    rights = api(expert).get("/rights").json()["items"]
    assert "ordre:droits_administratifs" in {r["id"] for r in rights}
    assert api(expert).get("/firms").json()["items"] == [
        {"id": expert.firm.id, "siret": expert.firm.siret, "raison_sociale": "SOGETES", "city": "Paris"}]
