"""Token exchange (RFC 8693): the Ordre's site's back end turns a user's token into one for jesignexpert.com."""
from __future__ import annotations

import json

import pytest
import requests
from flows import Browser
from rights_steps import ACCESS_TOKEN_TYPE, EXCHANGE, JESIGN, ORDRE, OUTILS, claims_of, details, exchange, introspect


@pytest.fixture
def ordre_site(factories):
    """The Ordre's site: users log in there; its back end may exchange their tokens for jesignexpert.com."""
    return factories.relying_party(resources=[ORDRE], exchange_audiences=[JESIGN],
                                   scope="openid profile email firms rights")


@pytest.fixture
def holder(make_expert, collaborator, delegate):
    """A collaborator with rights of one firm on the Ordre's site and on jesignexpert.com; his expert."""
    expert = make_expert()
    delegate(expert, collaborator, expert.firm, ["ordre:site_prive", "jesignexpert:preparer_collecte",
                                                 "outils:simulateurs"])
    return collaborator, expert


@pytest.fixture
def subject(live, ordre_site, holder) -> dict:
    """The token response the Ordre's site got when the collaborator logged in there."""
    return ordre_site.tokens_for(Browser(live.url), holder[0], scope="openid profile")


def _exchange(live, rp, subject_token, **extra):
    data = {"subject_token": subject_token, "subject_token_type": ACCESS_TOKEN_TYPE, "audience": JESIGN, **extra}
    return exchange(live, rp.client_id, rp.secret, **data)


def _error(response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    return body.get("error_description", "")


def test_the_new_token_is_for_the_other_site_with_only_its_rights_and_the_client_as_actor(
        live, ordre_site, holder, subject, verifier_for):
    collaborator, expert = holder
    response = _exchange(live, ordre_site, subject["access_token"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE and body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    token = verifier_for(JESIGN).verify(body["access_token"])
    assert token.sub == collaborator.identifiant and token.client_id == ordre_site.client_id
    assert dict(token.act) == {"sub": ordre_site.client_id}
    # He acts for his expert's firm: the right says by whom it was given.
    assert details(token.claims["authorization_details"]) == [
        ("jesignexpert", expert.firm.siret, ("preparer_collecte",), expert.identifiant, True)]
    assert token.has_right("jesignexpert:preparer_collecte", firm=expert.firm.siret)
    before = claims_of(subject["access_token"])
    assert (token.acr, token.amr, token.auth_time, token.sid) == (before["acr"], tuple(before["amr"]),
                                                                   before["auth_time"], before["sid"])
    assert token.expires_at <= before["exp"]
    assert body["expires_in"] == token.expires_at - token.issued_at
    assert token.scopes == {"openid", "profile"}


def test_the_target_may_be_named_with_resource_too(live, ordre_site, subject):
    response = exchange(live, ordre_site.client_id, ordre_site.secret, subject_token=subject["access_token"],
                        subject_token_type=ACCESS_TOKEN_TYPE, resource=JESIGN,
                        requested_token_type=ACCESS_TOKEN_TYPE, scope="openid")
    assert response.status_code == 200, response.text
    claims = claims_of(response.json()["access_token"])
    assert claims["aud"] == JESIGN and claims["scope"] == "openid"


def test_an_exchanged_token_chains_its_actors(live, factories, ordre_site, subject):
    # jesignexpert's back end receives the exchanged token and exchanges it in turn for the tools' API.
    jesign_backend = factories.relying_party(grant_types=["client_credentials"], redirect_uris=[],
                                             resources=[JESIGN], exchange_audiences=[OUTILS], scope="openid profile")
    first = _exchange(live, ordre_site, subject["access_token"]).json()["access_token"]
    second = exchange(live, jesign_backend.client_id, jesign_backend.secret, subject_token=first,
                      subject_token_type=ACCESS_TOKEN_TYPE, audience=OUTILS)
    assert second.status_code == 200, second.text
    claims = claims_of(second.json()["access_token"])
    assert claims["act"] == {"sub": jesign_backend.client_id, "act": {"sub": ordre_site.client_id}}
    assert [e["type"] for e in claims["authorization_details"]] == ["outils"]


def test_revoking_the_login_revokes_the_exchanged_token(live, ordre_site, subject):
    exchanged = _exchange(live, ordre_site, subject["access_token"]).json()["access_token"]
    revoked = requests.post(live.url + "/revoke", data={"token": subject["refresh_token"],
                                                        "token_type_hint": "refresh_token"},
                            auth=(ordre_site.client_id, ordre_site.secret))
    assert revoked.status_code == 200
    assert introspect(live, ordre_site.client_id, ordre_site.secret, exchanged) == {"active": False}


def test_the_token_endpoint_advertises_the_grant(live):
    metadata = requests.get(live.url + "/.well-known/openid-configuration").json()
    assert EXCHANGE in metadata["grant_types_supported"]
    assert set(metadata["authorization_details_types_supported"]) == {
        "jefacture", "jesignexpert", "ordre", "outils", "services"}


# -- refusals -------------------------------------------------------------------------------------------------
def test_a_missing_subject_token_is_an_invalid_request(live, ordre_site):
    response = exchange(live, ordre_site.client_id, ordre_site.secret, subject_token_type=ACCESS_TOKEN_TYPE,
                        audience=JESIGN)
    assert _error(response, 400, "invalid_request") == "Missing 'subject_token'."


@pytest.mark.parametrize("extra, description", [
    ({"subject_token_type": "urn:ietf:params:oauth:token-type:id_token"},
     f"Only access tokens can be exchanged: 'subject_token_type' must be '{ACCESS_TOKEN_TYPE}'."),
    ({"subject_token_type": None}, "Missing 'subject_token_type'."),
    ({"requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token"},
     f"Only access tokens are issued: 'requested_token_type' must be '{ACCESS_TOKEN_TYPE}'."),
    ({"actor_token": "x", "actor_token_type": ACCESS_TOKEN_TYPE},
     "'actor_token' is not supported: the client is the actor."),
    ({"audience": None}, "Name the target site with 'audience' or 'resource'."),
])
def test_malformed_requests_are_invalid_requests(live, ordre_site, subject, extra, description):
    assert _error(_exchange(live, ordre_site, subject["access_token"], **extra), 400,
                  "invalid_request") == description


def test_a_token_that_is_not_ours_is_an_invalid_grant(live, ordre_site):
    forged = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    assert _error(_exchange(live, ordre_site, forged), 400, "invalid_grant") == \
        "The subject token is invalid, expired or revoked."


def test_an_expired_subject_token_is_an_invalid_grant(live, ordre_site, holder, monkeypatch):
    # Issued already expired: the provider's clock, not the test's, decides.
    monkeypatch.setitem(live.app.config, "IDP_ACCESS_TOKEN_TTL", -1)
    expired = ordre_site.tokens_for(Browser(live.url), holder[0])["access_token"]
    assert _error(_exchange(live, ordre_site, expired), 400, "invalid_grant") == \
        "The subject token is invalid, expired or revoked."


def test_a_revoked_subject_token_is_an_invalid_grant(live, ordre_site, subject):
    requests.post(live.url + "/revoke", data={"token": subject["access_token"]},
                  auth=(ordre_site.client_id, ordre_site.secret)).raise_for_status()
    assert _error(_exchange(live, ordre_site, subject["access_token"]), 400, "invalid_grant") == \
        "The subject token is invalid, expired or revoked."


def test_a_token_issued_to_and_for_someone_else_is_an_invalid_grant(live, factories, holder):
    elsewhere = factories.relying_party(resources=["https://api.cabinet.example"])
    stolen = elsewhere.tokens_for(Browser(live.url), holder[0])["access_token"]
    thief = factories.relying_party(resources=[ORDRE], exchange_audiences=[JESIGN])
    assert _error(_exchange(live, thief, stolen), 400, "invalid_grant") == \
        "The subject token was not issued to or for this client."


def test_a_token_without_a_user_is_an_invalid_grant(live, factories):
    backend = factories.relying_party(grant_types=["client_credentials"], redirect_uris=[], resources=[ORDRE],
                                      exchange_audiences=[JESIGN], scope="")
    own = backend.token({"grant_type": "client_credentials"}).json()["access_token"]
    assert _error(_exchange(live, backend, own), 400, "invalid_grant") == \
        "The subject token does not represent a user."


def test_an_audience_the_client_may_not_exchange_for_is_an_invalid_target(live, ordre_site, subject):
    assert _error(_exchange(live, ordre_site, subject["access_token"], audience=OUTILS), 400,
                  "invalid_target") == "The client may not exchange tokens for this audience."


def test_two_targets_are_an_invalid_target(live, ordre_site, subject):
    assert _error(_exchange(live, ordre_site, subject["access_token"], resource=OUTILS), 400,
                  "invalid_target") == "Only one target per token: ask once per site."


def test_a_client_without_exchange_audiences_is_an_unauthorized_client(live, sites_rp, subject):
    # sites_rp is registered for jesignexpert.com as a resource, which gives no leave to exchange.
    assert _error(_exchange(live, sites_rp, subject["access_token"]), 400, "unauthorized_client") == \
        "The client is not authorized to exchange tokens."


def test_a_scope_beyond_the_subject_token_s_is_an_invalid_scope(live, ordre_site, subject):
    assert _error(_exchange(live, ordre_site, subject["access_token"], scope="openid email"), 400,
                  "invalid_scope") == "The requested scope exceeds the subject token's or the client's."


def test_the_client_must_authenticate(live, ordre_site, subject):
    response = requests.post(live.url + "/token", data={"grant_type": EXCHANGE,
                                                        "subject_token": subject["access_token"],
                                                        "subject_token_type": ACCESS_TOKEN_TYPE,
                                                        "audience": JESIGN})
    assert _error(response, 401, "invalid_client")


# -- registration -------------------------------------------------------------------------------------------
def test_idp_clients_create_registers_exchange_audiences(live, runner):
    result = runner.invoke(args=["clients", "create", "--name", "Site de l'Ordre", "--redirect-uri",
                                 "https://www.experts-comptables.fr/cb", "--resource", ORDRE,
                                 "--exchange-audience", JESIGN, "--exchange-audience", OUTILS, "--json"])
    assert result.exit_code == 0, result.output
    client_id = json.loads(result.output)["client_id"]
    listed = json.loads(runner.invoke(args=["clients", "list", "--json"]).output)
    assert next(c for c in listed if c["client_id"] == client_id)["exchange_audiences"] == [JESIGN, OUTILS]


def test_an_exchange_audience_must_be_an_https_uri(live, runner):
    result = runner.invoke(args=["clients", "create", "--name", "X", "--redirect-uri", "https://x.example/cb",
                                 "--exchange-audience", "http://jesignexpert.com"])
    assert result.exit_code != 0
    assert "exchange_audience: https is required" in result.output
