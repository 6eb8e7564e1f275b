"""Size stays bounded: a collaborator of 50 firms, every right of a site in each, still gets a token under 8 KB.

``authorization_details`` hold one object per set of actions, listing the
firms (docs/claims.md, "Size"): 50 firms delegated by 50 experts, each
delegation ending on its own day, take about 60 bytes each and the whole
token stays near 5 KB, all 50 carried. Beyond the 8 KB budget (about 85
such firms) the token carries the firms that fit, own first then by SIRET,
says ``authorization_details_truncated``, is bounded by the delegations it
carries only; introspection answers complete.
"""
from __future__ import annotations

import pytest
import requests
from flows import Browser
from rights_steps import OUTILS, claims_of, introspect, sirets_of, tokens_at

# The tools' site: three rights, all open to a password session, and the
# longest audience of the catalogue; the heaviest tokens a password login gets.
TOOLS = ["outils:autodiagnostic", "outils:credit_50k", "outils:simulateurs"]
ACTIONS = ["autodiagnostic", "credit_50k", "simulateurs"]


@pytest.fixture
def tools_rp(factories):
    return factories.relying_party(resources=[OUTILS], scope="openid profile email firms rights")


@pytest.mark.parametrize("signing_alg", ["ES256", "RS256"])
def test_fifty_firms_with_every_right_fit_in_8_kb_all_of_them(live, factories, collaborator, many_firms,
                                                             signing_alg, verifier_for, capsys):
    rp = factories.relying_party(resources=[OUTILS], signing_alg=signing_alg)
    verifier = verifier_for(OUTILS)
    sirets, sizes = [], {}

    for count in (1, 10, 50):
        sirets = sorted(sirets + many_firms(count - len(sirets), TOOLS))
        access_token = tokens_at(rp, live, collaborator, OUTILS)["access_token"]
        sizes[count] = len(access_token)

        claims = claims_of(access_token)
        assert "authorization_details_truncated" not in claims
        # One object: the same three actions in every firm, each firm with its expert and its end.
        [detail] = claims["authorization_details"]
        assert detail["type"] == "outils" and detail["actions"] == ACTIONS
        assert [firm["siret"] for firm in detail["firms"]] == sirets
        assert all(set(firm) == {"siret", "by", "exp"} for firm in detail["firms"])
        assert claims["exp"] == min(claims["iat"] + live.app.config["IDP_ACCESS_TOKEN_TTL"],
                                    min(firm["exp"] for firm in detail["firms"]))
        token = verifier.verify(access_token)
        assert all(token.has_right(right, firm=siret) for right in TOOLS for siret in sirets)

    assert sizes[50] < 8000
    # The grouped shape's margin: what the 50 firms take leaves room for as many again.
    assert sizes[50] < 5200
    with capsys.disabled():
        print(f"\nrights of a collaborator, 3 per firm, {signing_alg}: access token "
              + ", ".join(f"{count} firms {size} bytes" for count, size in sizes.items()) + ", all carried")


@pytest.mark.parametrize("signing_alg", ["ES256", "RS256"])
def test_beyond_the_budget_the_firms_that_fit_are_carried_and_introspection_has_them_all(
        live, factories, collaborator, many_firms, signing_alg, capsys):
    sirets = many_firms(100, TOOLS)
    rp = factories.relying_party(resources=[OUTILS], signing_alg=signing_alg)

    access_token = tokens_at(rp, live, collaborator, OUTILS)["access_token"]

    assert len(access_token) < 8000
    claims = claims_of(access_token)
    assert claims["authorization_details_truncated"] is True
    [detail] = claims["authorization_details"]
    carried = [firm["siret"] for firm in detail["firms"]]
    assert 50 < len(carried) < 100
    assert carried == sirets[:len(carried)], "the first ones by SIRET, each whole"
    assert claims["exp"] == min(claims["iat"] + live.app.config["IDP_ACCESS_TOKEN_TTL"],
                                min(firm["exp"] for firm in detail["firms"]))
    with capsys.disabled():
        print(f"\n100 firms x 3 rights, {signing_alg}: access token {len(access_token)} bytes, "
              f"{len(carried)} firms carried, truncated")

    complete = introspect(live, rp.client_id, rp.secret, access_token)
    assert sirets_of(complete["authorization_details"]) == sirets
    assert "authorization_details_truncated" not in complete


def test_an_expert_s_own_firms_are_kept_before_delegated_ones(live, tools_rp, collaborator, many_firms, app,
                                                             make_firm):
    from idp.accounts.models import User
    from idp.extensions import db
    from idp.firms.models import UserFirm

    sirets = many_firms(100, TOOLS)
    # The collaborator becomes a verified expert of a firm of his own.
    own = make_firm("CABINET PROPRE")
    with app.app_context():
        db.session.get(User, collaborator.id).expert_status = "verified"
        db.session.add(UserFirm(user_id=collaborator.id, firm_id=own.id, added_by="test"))
        db.session.commit()
        db.session.remove()

    claims = claims_of(tokens_at(tools_rp, live, collaborator, OUTILS)["access_token"])
    assert claims["authorization_details_truncated"] is True
    [detail] = claims["authorization_details"]
    assert detail["firms"][0] == {"siret": own.siret}, "his own firm, first and without by or exp"
    assert [firm["siret"] for firm in detail["firms"][1:]] == sirets[:len(detail["firms"]) - 1]


def test_the_id_token_stays_small_and_userinfo_is_complete(live, tools_rp, collaborator, many_firms):
    sirets = many_firms(50, TOOLS)
    tokens = tools_rp.tokens_for(Browser(live.url), collaborator, scope="openid firms rights")

    id_token = tools_rp.verify(tokens["id_token"], audience=tools_rp.client_id, typ="JWT")
    assert len(tokens["id_token"]) < 5000
    assert id_token["firms_truncated"] is True and id_token["rights_truncated"] is True
    assert [firm["siret"] for firm in id_token["firms"]] == sirets[:len(id_token["firms"])]
    assert sirets_of(id_token["rights"]) == sirets[:len(sirets_of(id_token["rights"]))]

    userinfo = requests.get(live.url + "/userinfo",
                            headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert [firm["siret"] for firm in userinfo["firms"]] == sirets
    assert userinfo["rights"] == [{"type": "outils", "actions": ACTIONS, "firms": userinfo["rights"][0]["firms"]}]
    assert sirets_of(userinfo["rights"]) == sirets
    assert "firms_truncated" not in userinfo and "rights_truncated" not in userinfo


def test_an_expert_of_fifty_firms_gets_every_one_of_them(live, factories, make_expert, make_firm, capsys):
    expert = make_expert([make_firm(f"Cabinet {i}") for i in range(50)])
    rp = factories.relying_party(resources=[OUTILS], signing_alg="RS256")

    access_token = tokens_at(rp, live, expert, OUTILS)["access_token"]

    claims = claims_of(access_token)
    assert len(access_token) < 8000
    assert claims["authorization_details"] == [{"type": "outils", "actions": ACTIONS,
                                                "firms": [{"siret": siret}
                                                          for siret in sorted(f.siret for f in expert.firms)]}]
    assert "authorization_details_truncated" not in claims
    with capsys.disabled():
        print(f"\nan expert of 50 firms, RS256: access token {len(access_token)} bytes, all carried")
