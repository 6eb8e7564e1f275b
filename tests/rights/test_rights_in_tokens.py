"""Rights in access tokens, for every kind of holder, read back with the relying-party library.

Each token comes from a real code flow against the live provider and is
verified by ``comptexpert_rp`` with the provider's published keys, as a
relying site does it.
"""
from __future__ import annotations

from datetime import timedelta

from flows import Browser
from rights_steps import JESIGN, ORDRE, OUTILS, claims_of, details, sirets_of, tokens_at, tokens_at_eidas2

from idp.db import epoch, utcnow


def test_an_expert_of_two_firms_holds_every_right_of_the_site_in_each(live, sites_rp, make_expert, make_firm,
                                                                       verifier_for):
    expert = make_expert([make_firm("ALPHA"), make_firm("BETA")])
    tokens = tokens_at(sites_rp, live, expert, ORDRE)

    token = verifier_for(ORDRE).verify(tokens["access_token"])
    a, b = sorted(f.siret for f in expert.firms)
    assert details(token.claims["authorization_details"]) == [
        ("ordre", a, ("droits_administratifs", "site_prive"), None, False),
        ("ordre", b, ("droits_administratifs", "site_prive"), None, False),
    ]
    assert token.has_right("ordre:site_prive", firm=a) and token.has_right("ordre:droits_administratifs", firm=b)
    assert not any(grant.delegated for grant in token.rights())
    assert token.firms() == [a, b]
    assert not token.has_right("ordre:site_prive", firm="73282932000074"), "a firm he does not practise in"


def test_a_collaborator_holds_rights_from_two_experts_each_saying_who_and_until_when(
        live, sites_rp, make_expert, collaborator, delegate, verifier_for):
    first, second = make_expert(family_name="Durant"), make_expert(family_name="Martin")
    now = utcnow()
    delegate(first, collaborator, first.firm, ["ordre:site_prive"], ends_at=now + timedelta(days=30))
    delegate(second, collaborator, second.firm, ["ordre:site_prive", "ordre:droits_administratifs"],
             ends_at=now + timedelta(days=90))

    token = verifier_for(ORDRE).verify(tokens_at(sites_rp, live, collaborator, ORDRE)["access_token"])

    by_firm = {grant.siret: grant for grant in token.rights()}
    assert by_firm[first.firm.siret].by == first.identifiant
    assert by_firm[first.firm.siret].expires_at == epoch(now + timedelta(days=30))
    assert token.has_right("ordre:site_prive", firm=first.firm.siret)
    assert not token.has_right("ordre:droits_administratifs", firm=first.firm.siret)
    assert token.has_right("ordre:droits_administratifs", firm=second.firm.siret)
    assert {g.by for g in token.rights(firm=second.firm.siret)} == {second.identifiant}
    assert all(grant.delegated for grant in token.rights())


def test_expired_deactivated_and_pending_delegations_give_nothing(live, app, sites_rp, make_expert, collaborator,
                                                                   delegate, change, verifier_for):
    from idp.accounts.models import User
    from idp.delegations.services import request_delegation
    from idp.extensions import db

    active, lapsed, suspended, asked = (make_expert(family_name=n) for n in ("Actif", "Echu", "Suspendu", "Sollicite"))
    delegate(active, collaborator, active.firm, ["ordre:site_prive"])
    past = utcnow() - timedelta(days=40)
    delegate(lapsed, collaborator, lapsed.firm, ["ordre:site_prive"], now=past, ends_at=past + timedelta(days=30))
    change("deactivate", suspended, delegate(suspended, collaborator, suspended.firm, ["ordre:site_prive"]))
    with app.app_context():
        request_delegation(db.session.get(User, collaborator.id), asked.identifiant, asked.firm.siret,
                           ["ordre:site_prive"])
        db.session.commit()
        db.session.remove()

    token = verifier_for(ORDRE).verify(tokens_at(sites_rp, live, collaborator, ORDRE)["access_token"])

    assert token.firms() == [active.firm.siret]
    for gone in (lapsed, suspended, asked):
        assert not token.has_right("ordre:site_prive", firm=gone.firm.siret)


def test_rights_above_the_session_s_level_are_left_out(live, sites_rp, make_expert, second_factor, verifier_for):
    expert = make_expert()
    verifier = verifier_for(JESIGN)
    siret = expert.firm.siret

    with_password = verifier.verify(tokens_at(sites_rp, live, expert, JESIGN)["access_token"])
    assert with_password.acr == "eidas1"
    assert [g.action for g in with_password.rights(firm=siret)] == ["preparer_collecte"]

    codes = second_factor(expert)
    with_second_factor = verifier.verify(tokens_at_eidas2(sites_rp, live, expert, codes[0], JESIGN)["access_token"])
    assert with_second_factor.acr == "eidas2"
    assert with_second_factor.has_right("jesignexpert:sceller", firm=siret)
    # Signing is personal: only his own Signexpert certificate (eidas3) opens it.
    assert not with_second_factor.has_right("jesignexpert:signer", firm=siret)


def test_a_token_for_jesignexpert_carries_only_jesignexpert_rights(live, sites_rp, make_expert, collaborator,
                                                                   delegate, verifier_for):
    expert = make_expert()
    delegate(expert, collaborator, expert.firm, ["ordre:site_prive", "jesignexpert:preparer_collecte",
                                                 "outils:simulateurs"])

    claims = claims_of(tokens_at(sites_rp, live, collaborator, JESIGN)["access_token"])
    assert claims["aud"] == JESIGN
    assert details(claims["authorization_details"]) == [
        ("jesignexpert", expert.firm.siret, ("preparer_collecte",), expert.identifiant, True)]
    token = verifier_for(JESIGN).verify(tokens_at(sites_rp, live, collaborator, JESIGN)["access_token"])
    assert not token.has_right("ordre:site_prive", firm=expert.firm.siret)


def test_an_access_token_never_outlives_the_first_delegation_it_carries(live, sites_rp, make_expert, collaborator,
                                                                        delegate):
    soon, later = make_expert(family_name="Bientot"), make_expert(family_name="Tard")
    ends_at = utcnow() + timedelta(seconds=120)
    delegate(soon, collaborator, soon.firm, ["ordre:site_prive"], ends_at=ends_at)
    delegate(later, collaborator, later.firm, ["ordre:site_prive"])

    response = tokens_at(sites_rp, live, collaborator, ORDRE)
    claims = claims_of(response["access_token"])
    assert claims["exp"] == epoch(ends_at) < claims["iat"] + live.app.config["IDP_ACCESS_TOKEN_TTL"]
    assert response["expires_in"] == claims["exp"] - claims["iat"]

    refreshed = sites_rp.refresh(response["refresh_token"]).json()
    assert claims_of(refreshed["access_token"])["exp"] == epoch(ends_at), "each refresh bounds it again"


def test_a_refresh_after_a_deactivation_drops_the_right(live, sites_rp, make_expert, collaborator, delegate, change,
                                                         verifier_for):
    expert = make_expert()
    delegation_id = delegate(expert, collaborator, expert.firm, ["ordre:site_prive"])
    verifier = verifier_for(ORDRE)
    tokens = tokens_at(sites_rp, live, collaborator, ORDRE)
    assert verifier.verify(tokens["access_token"]).has_right("ordre:site_prive", firm=expert.firm.siret)

    change("deactivate", expert, delegation_id)
    refreshed = sites_rp.refresh(tokens["refresh_token"])

    assert refreshed.status_code == 200, refreshed.text
    token = verifier.verify(refreshed.json()["access_token"])
    assert not token.has_right("ordre:site_prive", firm=expert.firm.siret)
    assert "authorization_details" not in token.claims

    change("activate", expert, delegation_id)
    again = verifier.verify(sites_rp.refresh(refreshed.json()["refresh_token"]).json()["access_token"])
    assert again.has_right("ordre:site_prive", firm=expert.firm.siret), "and gets it back once reactivated"


def test_tokens_without_a_user_carry_no_rights(live, factories, make_expert):
    make_expert()
    backend = factories.relying_party(grant_types=["client_credentials"], redirect_uris=[], resources=[ORDRE],
                                      scope="")
    response = backend.token({"grant_type": "client_credentials"})
    assert response.status_code == 200, response.text
    assert "authorization_details" not in claims_of(response.json()["access_token"])


def test_tokens_for_an_audience_outside_the_catalogue_carry_no_rights(live, factories, make_expert):
    expert = make_expert()
    issuer_only = factories.relying_party(resources=[])
    other_site = factories.relying_party(resources=["https://api.cabinet.example"])

    for rp, audience in ((issuer_only, live.url), (other_site, "https://api.cabinet.example")):
        claims = claims_of(rp.tokens_for(Browser(live.url), expert)["access_token"])
        assert claims["aud"] == audience
        assert "authorization_details" not in claims


def test_the_same_rights_always_give_the_same_bytes_one_object_in_siret_order(live, factories, make_expert,
                                                                               make_firm, collaborator, delegate):
    expert = make_expert([make_firm("ALPHA"), make_firm("BETA"), make_firm("GAMMA")])
    for firm in expert.firms:
        delegate(expert, collaborator, firm, ["outils:simulateurs", "outils:autodiagnostic", "outils:credit_50k"])
    tools = factories.relying_party(resources=[OUTILS])

    first, second = (claims_of(tokens_at(tools, live, collaborator, OUTILS)["access_token"]) for _ in range(2))

    assert first["authorization_details"] == second["authorization_details"]
    [detail] = first["authorization_details"]
    assert detail["actions"] == ["autodiagnostic", "credit_50k", "simulateurs"]
    assert sirets_of([detail]) == sorted(f.siret for f in expert.firms)
