"""Rights as they are now (introspection), and the ``firms`` and ``rights`` scopes (ID token, userinfo)."""
from __future__ import annotations

import requests
from flows import Browser
from rights_steps import JESIGN, ORDRE, details, introspect, tokens_at


def _userinfo(live, access_token: str) -> dict:
    response = requests.get(live.url + "/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.text
    return response.json()


# -- introspection ---------------------------------------------------------------------------------
def test_introspection_reflects_a_deactivation_immediately(live, sites_rp, make_expert, collaborator, delegate,
                                                          change):
    expert = make_expert()
    delegation_id = delegate(expert, collaborator, expert.firm, ["ordre:site_prive"])
    token = tokens_at(sites_rp, live, collaborator, ORDRE)["access_token"]
    before = introspect(live, sites_rp.client_id, sites_rp.secret, token)
    assert details(before["authorization_details"]) == [
        ("ordre", expert.firm.siret, ("site_prive",), expert.identifiant, True)]

    change("deactivate", expert, delegation_id)
    after = introspect(live, sites_rp.client_id, sites_rp.secret, token)

    # The token still proves who he is; it no longer carries the right.
    assert after["active"] is True and after["sub"] == collaborator.identifiant
    assert "authorization_details" not in after


def test_introspection_shows_a_right_given_after_the_token_was_issued(live, sites_rp, make_expert, collaborator,
                                                                     delegate):
    expert = make_expert()
    token = tokens_at(sites_rp, live, collaborator, ORDRE)["access_token"]
    assert "authorization_details" not in introspect(live, sites_rp.client_id, sites_rp.secret, token)

    delegate(expert, collaborator, expert.firm, ["ordre:droits_administratifs"])

    body = introspect(live, sites_rp.client_id, sites_rp.secret, token)
    assert details(body["authorization_details"]) == [
        ("ordre", expert.firm.siret, ("droits_administratifs",), expert.identifiant, True)]


def test_introspection_keeps_the_session_s_level(live, sites_rp, make_expert):
    expert = make_expert()
    token = tokens_at(sites_rp, live, expert, JESIGN)["access_token"]
    body = introspect(live, sites_rp.client_id, sites_rp.secret, token)
    assert body["acr"] == "eidas1"
    assert details(body["authorization_details"]) == [("jesignexpert", expert.firm.siret, ("preparer_collecte",),
                                                       None, False)]


def test_the_site_the_token_is_for_may_introspect_it_with_the_rights(live, factories, sites_rp, make_expert):
    expert = make_expert()
    token = tokens_at(sites_rp, live, expert, JESIGN)["access_token"]
    jesignexpert = factories.relying_party(grant_types=["client_credentials"], redirect_uris=[], resources=[JESIGN],
                                           scope="")
    body = introspect(live, jesignexpert.client_id, jesignexpert.secret, token)
    assert body["active"] is True and body["aud"] == JESIGN
    assert body["authorization_details"][0]["firms"] == [{"siret": expert.firm.siret}]


def test_a_disabled_account_s_tokens_are_inactive(live, app, sites_rp, make_expert):
    from idp.accounts.models import User
    from idp.db import utcnow
    from idp.extensions import db

    expert = make_expert()
    token = tokens_at(sites_rp, live, expert, ORDRE)["access_token"]
    with app.app_context():
        db.session.get(User, expert.id).disabled_at = utcnow()
        db.session.commit()
        db.session.remove()

    assert introspect(live, sites_rp.client_id, sites_rp.secret, token) == {"active": False}


# -- ID token and userinfo ---------------------------------------------------------------------------
def test_the_firms_scope_gives_each_firm_with_the_user_s_role_there(live, sites_rp, make_expert, make_firm,
                                                                    delegate):
    own_firm = make_firm("CABINET PROPRE")
    user = make_expert([own_firm])
    other = make_expert(family_name="Martin")
    delegate(other, user, other.firm, ["jesignexpert:preparer_collecte"])
    expected = sorted([{"siret": own_firm.siret, "raison_sociale": "CABINET PROPRE", "role": "expert"},
                       {"siret": other.firm.siret, "raison_sociale": "SOGETES", "role": "collaborator"}],
                      key=lambda firm: firm["siret"])

    tokens = tokens_at(sites_rp, live, user, ORDRE, scope="openid firms")

    id_token = sites_rp.verify(tokens["id_token"], audience=sites_rp.client_id, typ="JWT")
    assert id_token["firms"] == expected
    assert _userinfo(live, tokens["access_token"])["firms"] == expected


def test_the_rights_scope_gives_the_rights_at_every_site_of_the_client_and_no_other(
        live, sites_rp, make_expert, collaborator, delegate):
    expert = make_expert()
    delegate(expert, collaborator, expert.firm, ["ordre:site_prive", "jesignexpert:preparer_collecte",
                                                 "jesignexpert:sceller", "outils:simulateurs"])
    siret, by = expert.firm.siret, expert.identifiant
    # The client is registered for the Ordre's site and jesignexpert, not for the tools;
    # sceller needs a second factor, the session has a password only.
    expected = [("jesignexpert", siret, ("preparer_collecte",), by, True), ("ordre", siret, ("site_prive",), by, True)]

    tokens = tokens_at(sites_rp, live, collaborator, ORDRE, scope="openid rights")

    id_token = sites_rp.verify(tokens["id_token"], audience=sites_rp.client_id, typ="JWT")
    assert details(id_token["rights"]) == expected
    assert details(_userinfo(live, tokens["access_token"])["rights"]) == expected


def test_without_the_scopes_neither_firms_nor_rights_are_given(live, sites_rp, make_expert):
    expert = make_expert()
    tokens = tokens_at(sites_rp, live, expert, ORDRE, scope="openid profile")
    id_token = sites_rp.verify(tokens["id_token"], audience=sites_rp.client_id, typ="JWT")
    assert not {"firms", "rights"} & set(id_token)
    assert not {"firms", "rights"} & set(_userinfo(live, tokens["access_token"]))


def test_the_consent_page_says_what_firms_and_rights_mean(live, sites_rp, user):
    browser = Browser(live.url)
    page = browser.follow(browser.get(sites_rp.authorize_url(scope="openid firms rights")))
    page = browser.login(user.email, user.password, page)
    assert "Connaître vos sociétés d&#39;exercice et si vous y êtes expert-comptable ou collaborateur" in page.text
    assert "Connaître les droits que vous détenez sur ses sites, société par société" in page.text
