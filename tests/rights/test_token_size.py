"""Size stays bounded: a collaborator of 50 firms, every right of a site in each, still gets a token under 8 KB.

What happens beyond the budget (docs/claims.md, "Size"): the token carries
the entries that fit, in their order, says ``authorization_details_truncated``,
is bounded by the delegations it carries only; introspection answers complete.
"""
from __future__ import annotations

import pytest
import requests
from flows import Browser
from rights_steps import OUTILS, claims_of, introspect, tokens_at

# The tools' site: three rights, all open to a password session, and the
# longest audience of the catalogue; the heaviest entries a password login gets.
TOOLS = ["outils:autodiagnostic", "outils:credit_50k", "outils:simulateurs"]


@pytest.fixture
def tools_rp(factories):
    return factories.relying_party(resources=[OUTILS], scope="openid profile email firms rights")


@pytest.mark.parametrize("signing_alg", ["ES256", "RS256"])
def test_fifty_firms_with_every_right_fit_in_8_kb(live, factories, collaborator, many_firms, signing_alg,
                                                  verifier_for, capsys):
    sirets = many_firms(50, TOOLS)
    rp = factories.relying_party(resources=[OUTILS], signing_alg=signing_alg)

    response = tokens_at(rp, live, collaborator, OUTILS)

    access_token = response["access_token"]
    assert len(access_token) < 8000
    claims = claims_of(access_token)
    carried = claims["authorization_details"]
    assert claims["authorization_details_truncated"] is True
    # The ones that fit, in SIRET order, each complete.
    assert [entry["siret"] for entry in carried] == sirets[:len(carried)]
    assert all(entry["actions"] == ["autodiagnostic", "credit_50k", "simulateurs"] for entry in carried)
    assert claims["exp"] == min(claims["iat"] + live.app.config["IDP_ACCESS_TOKEN_TTL"],
                                min(entry["exp"] for entry in carried))
    token = verifier_for(OUTILS).verify(access_token)
    assert token.has_right("outils:credit_50k", firm=sirets[0])
    with capsys.disabled():
        print(f"\n50 firms x 3 rights, {signing_alg}: access token {len(access_token)} bytes, "
              f"{len(carried)} firms carried, truncated")

    complete = introspect(live, rp.client_id, rp.secret, access_token)
    assert [entry["siret"] for entry in complete["authorization_details"]] == sirets
    assert "authorization_details_truncated" not in complete


def test_below_the_budget_nothing_is_cut(live, tools_rp, collaborator, many_firms):
    sirets = many_firms(20, TOOLS)
    claims = claims_of(tokens_at(tools_rp, live, collaborator, OUTILS)["access_token"])
    assert [entry["siret"] for entry in claims["authorization_details"]] == sirets
    assert "authorization_details_truncated" not in claims


def test_an_expert_s_own_firms_are_kept_before_delegated_ones(live, tools_rp, collaborator, many_firms, app,
                                                             make_firm):
    from idp.accounts.models import User
    from idp.extensions import db
    from idp.firms.models import UserFirm

    sirets = many_firms(50, TOOLS)
    # The collaborator becomes a verified expert of a firm whose SIRET sorts last.
    own = make_firm("CABINET PROPRE")
    with app.app_context():
        db.session.get(User, collaborator.id).expert_status = "verified"
        db.session.add(UserFirm(user_id=collaborator.id, firm_id=own.id, added_by="test"))
        db.session.commit()
        db.session.remove()

    carried = claims_of(tokens_at(tools_rp, live, collaborator, OUTILS)["access_token"])["authorization_details"]
    assert {"type": "outils", "siret": own.siret,
            "actions": ["autodiagnostic", "credit_50k", "simulateurs"]} in carried
    assert len(carried) < 51 and all(e["siret"] in sirets + [own.siret] for e in carried)


def test_the_id_token_stays_small_and_userinfo_is_complete(live, tools_rp, collaborator, many_firms):
    sirets = many_firms(50, TOOLS)
    tokens = tools_rp.tokens_for(Browser(live.url), collaborator, scope="openid firms rights")

    id_token = tools_rp.verify(tokens["id_token"], audience=tools_rp.client_id, typ="JWT")
    assert len(tokens["id_token"]) < 5000
    assert id_token["firms_truncated"] is True and id_token["rights_truncated"] is True
    assert [firm["siret"] for firm in id_token["firms"]] == sirets[:len(id_token["firms"])]

    userinfo = requests.get(live.url + "/userinfo",
                            headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert [firm["siret"] for firm in userinfo["firms"]] == sirets
    assert [entry["siret"] for entry in userinfo["rights"]] == sirets
    assert "firms_truncated" not in userinfo and "rights_truncated" not in userinfo


def test_an_expert_of_fifty_firms_gets_every_one_of_them(live, factories, make_expert, make_firm, capsys):
    expert = make_expert([make_firm(f"Cabinet {i}") for i in range(50)])
    rp = factories.relying_party(resources=[OUTILS], signing_alg="RS256")

    access_token = tokens_at(rp, live, expert, OUTILS)["access_token"]

    claims = claims_of(access_token)
    assert len(access_token) < 8000
    assert [entry["siret"] for entry in claims["authorization_details"]] == sorted(f.siret for f in expert.firms)
    assert "authorization_details_truncated" not in claims
    with capsys.disabled():
        print(f"\nan expert of 50 firms, RS256: access token {len(access_token)} bytes, all carried")
