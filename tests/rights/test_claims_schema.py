"""docs/claims.schema.json says what the provider issues: checked against the catalogue and real tokens."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator
from rights_steps import ACCESS_TOKEN_TYPE, JESIGN, ORDRE, OUTILS, claims_of, exchange, introspect, tokens_at

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "claims.schema.json").read_text())


def validator(shape: str = "accessToken") -> Draft202012Validator:
    return Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{shape}"})


def test_the_schema_is_valid_and_names_the_catalogue_s_sites_and_rights():
    from scopes import default_catalogue

    Draft202012Validator.check_schema(SCHEMA)
    detail = SCHEMA["$defs"]["authorizationDetail"]
    catalogue = default_catalogue()
    assert detail["properties"]["type"]["enum"] == [site.id for site in catalogue.sites()]
    per_site = {rule["if"]["properties"]["type"]["const"]: rule["then"]["properties"]["actions"]["items"]["enum"]
                for rule in detail["allOf"]}
    assert per_site == {site.id: [right.short_id for right in site.rights] for site in catalogue.sites()}


def test_the_schema_takes_one_object_per_set_of_actions_listing_its_firms():
    assert validator("authorizationDetail").is_valid(
        {"type": "ordre", "actions": ["droits_administratifs", "site_prive"],
         "firms": [{"siret": "44523611200025"}, {"siret": "73282932000074", "by": "dur09HP9", "exp": 1790000000}]})


@pytest.mark.parametrize("detail", [
    {"type": "ordre", "actions": ["site_prive"], "firms": [{"siret": "44523611200025", "by": "dur09HP9"}]},
    {"type": "ordre", "actions": ["site_prive"], "firms": [{"siret": "44523611200025", "exp": 1790000000}]},
    {"type": "ordre", "actions": ["site_prive"], "firms": [{"siret": "445.236.112.00025"}]},
    {"type": "ordre", "actions": ["signer"], "firms": [{"siret": "44523611200025"}]},
    {"type": "ordre", "actions": [], "firms": [{"siret": "44523611200025"}]},
    {"type": "ordre", "actions": ["site_prive"], "firms": []},
    {"type": "ordre", "actions": ["site_prive"], "firms": ["44523611200025"]},
    {"type": "ordre", "actions": ["site_prive"], "firms": [{"siret": "44523611200025", "firm": "SOGETES"}]},
    {"type": "ordre", "actions": ["site_prive"], "firms": [{"siret": "44523611200025"}], "by": "dur09HP9"},
    # One object per firm, the shape of the first version of the format.
    {"type": "ordre", "siret": "44523611200025", "actions": ["site_prive"]},
])
def test_the_schema_refuses_what_the_provider_never_issues(detail):
    assert not validator("authorizationDetail").is_valid(detail)


def test_tokens_id_tokens_userinfo_and_introspection_follow_the_schema(live, factories, make_expert, collaborator,
                                                                       delegate, many_firms):
    expert = make_expert()
    delegate(expert, collaborator, expert.firm, ["ordre:site_prive", "jesignexpert:preparer_collecte",
                                                 "outils:simulateurs"])
    many_firms(100, ["outils:autodiagnostic", "outils:credit_50k", "outils:simulateurs"])
    site = factories.relying_party(resources=[ORDRE, OUTILS], exchange_audiences=[JESIGN],
                                   scope="openid profile email firms rights")

    own = tokens_at(site, live, expert, ORDRE, scope="openid firms rights")
    held = tokens_at(site, live, collaborator, ORDRE, scope="openid firms rights")
    truncated = tokens_at(site, live, collaborator, OUTILS)["access_token"]
    exchanged = exchange(live, site.client_id, site.secret, subject_token=held["access_token"],
                         subject_token_type=ACCESS_TOKEN_TYPE, audience=JESIGN).json()["access_token"]

    for access_token in (own["access_token"], held["access_token"], truncated, exchanged):
        validator().validate(claims_of(access_token))
    assert claims_of(truncated)["authorization_details_truncated"] is True
    assert claims_of(exchanged)["act"] == {"sub": site.client_id}
    for response in (own, held):
        validator("idToken").validate(claims_of(response["id_token"]))
        userinfo = requests.get(live.url + "/userinfo",
                                headers={"Authorization": f"Bearer {response['access_token']}"}).json()
        validator("userinfo").validate(userinfo)
    validator("introspection").validate(introspect(live, site.client_id, site.secret, truncated))
    assert claims_of(held["id_token"])["firms_truncated"] is True, "101 firms do not fit in an ID token"
