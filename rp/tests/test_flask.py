"""The Flask decorators, through Flask's test client: exact status codes and
exact ``WWW-Authenticate`` challenges."""

from __future__ import annotations

import time

import flask
import pytest
from rp_factories import COLLABORATOR, EXPERT, OTHER_SIRET, SIRET

from comptexpert_rp.flask import require_right, require_token

REALM = 'realm="https://jesignexpert.com"'


def create_app(verifier) -> flask.Flask:
    """A miniature jesignexpert.com."""
    app = flask.Flask(__name__)

    @app.get("/me")
    @require_token(verifier)
    def me():
        return {"sub": flask.g.access_token.sub}

    @app.get("/documents")
    @require_token(verifier, scope="jesignexpert documents")
    def documents():
        return {"ok": True}

    @app.post("/firms/<siret>/signatures")
    @require_right(verifier, "jesignexpert:signer", firm_from="siret", acr="eidas3")
    def sign(siret):
        return {"signed_by": flask.g.access_token.sub, "firm": siret}, 201

    @app.post("/seal")
    @require_right(verifier, "jesignexpert:sceller", firm_from=lambda: flask.request.args.get("siret"))
    def seal():
        return {"sealed": flask.request.args["siret"]}

    @app.post("/firms/<siret>/campaigns")
    @require_right(verifier, "jesignexpert:preparer_collecte", firm_from="siret", max_age=300, realm="jesign")
    def campaign(siret):
        return {"ok": True}

    return app


@pytest.fixture
def client(verifier):
    return create_app(verifier).test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_token_reaches_the_view(client, issue):
    response = client.get("/me", headers=bearer(issue()))
    assert response.status_code == 200
    assert response.json == {"sub": EXPERT}
    assert "WWW-Authenticate" not in response.headers


def test_scheme_is_case_insensitive(client, issue):
    assert client.get("/me", headers={"Authorization": f"bearer {issue()}"}).status_code == 200


def test_no_authorization_header(client):
    response = client.get("/me")
    assert response.status_code == 401
    # RFC 6750 §3.1: no error code when no credentials were presented.
    assert response.headers["WWW-Authenticate"] == f"Bearer {REALM}"


def test_other_scheme_is_treated_as_no_credentials(client):
    response = client.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f"Bearer {REALM}"


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer a b", 'Bearer "quoted"'])
def test_malformed_bearer_header(client, value):
    response = client.get("/me", headers={"Authorization": value})
    assert response.status_code == 400
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer {REALM}, error="invalid_request", error_description="The Authorization header is malformed"'
    )


def test_token_in_query_string_is_ignored(client, issue):
    response = client.get("/me", query_string={"access_token": issue()})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f"Bearer {REALM}"


def test_expired_token(client, issue):
    response = client.get("/me", headers=bearer(issue(exp=int(time.time()) - 3600)))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer {REALM}, error="invalid_token", error_description="The token expired"'
    )
    assert response.json == {"error": "invalid_token", "error_description": "The token expired"}


def test_token_for_another_site(client, issue):
    response = client.get("/me", headers=bearer(issue(aud="https://jefacture.com")))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer {REALM}, error="invalid_token", error_description="The token is not intended for this audience"'
    )


def test_missing_scope(client, issue):
    response = client.get("/documents", headers=bearer(issue()))
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer {REALM}, error="insufficient_scope", '
        'error_description="The access token lacks a required scope", scope="jesignexpert documents"'
    )


def test_scope_present(client, issue):
    response = client.get("/documents", headers=bearer(issue(scope="openid jesignexpert documents")))
    assert response.status_code == 200


def test_right_and_acr_granted(client, issue):
    response = client.post(f"/firms/{SIRET}/signatures", headers=bearer(issue(acr="eidas3")))
    assert response.status_code == 201
    assert response.json == {"signed_by": EXPERT, "firm": SIRET}


def test_right_for_displayed_siret(client, issue):
    response = client.post("/firms/445.236.112.00025/signatures", headers=bearer(issue(acr="eidas3")))
    assert response.status_code == 201


def test_right_missing_for_this_firm(client, issue):
    response = client.post(f"/firms/{OTHER_SIRET}/signatures", headers=bearer(issue(acr="eidas3")))
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer {REALM}, error="insufficient_scope", '
        'error_description="The access token does not grant jesignexpert:signer for this firm"'
    )


def test_expired_delegation_is_refused(client, issue):
    token = issue(
        sub=COLLABORATOR,
        acr="eidas3",
        authorization_details=[
            {"type": "jesignexpert", "actions": ["signer"],
             "firms": [{"siret": SIRET, "by": EXPERT, "exp": int(time.time()) - 1}]}
        ],
    )
    response = client.post(f"/firms/{SIRET}/signatures", headers=bearer(token))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_acr_too_low_asks_for_step_up(client, issue):
    response = client.post(f"/firms/{SIRET}/signatures", headers=bearer(issue(acr="eidas2")))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer {REALM}, error="insufficient_user_authentication", '
        'error_description="A stronger authentication is required", acr_values="eidas3"'
    )


def test_missing_right_with_a_weak_login_asks_for_step_up_first(client, issue):
    # The provider leaves rights above the session's level out of the token:
    # the right may come with the stronger login, so that is asked first.
    response = client.post(f"/firms/{OTHER_SIRET}/signatures", headers=bearer(issue(acr="eidas1")))
    assert response.status_code == 401
    assert 'error="insufficient_user_authentication"' in response.headers["WWW-Authenticate"]
    assert 'acr_values="eidas3"' in response.headers["WWW-Authenticate"]


def test_max_age_asks_for_recent_authentication(client, issue):
    token = issue(
        auth_time=int(time.time()) - 3600,
        authorization_details=[
            {"type": "jesignexpert", "actions": ["preparer_collecte"], "firms": [{"siret": SIRET}]}
        ],
    )
    response = client.post(f"/firms/{SIRET}/campaigns", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="jesign", error="insufficient_user_authentication", '
        'error_description="A more recent authentication is required", max_age="300"'
    )


def test_firm_from_callable(client, issue):
    assert client.post(f"/seal?siret={SIRET}", headers=bearer(issue())).status_code == 200
    response = client.post(f"/seal?siret={OTHER_SIRET}", headers=bearer(issue()))
    assert response.status_code == 403


def test_firm_missing_matches_no_right(client, issue):
    # The callable returns None: that must never mean "any firm".
    response = client.post("/seal", headers=bearer(issue()))
    assert response.status_code == 403


def test_jwks_outage_answers_503(client, issue, jwks_server):
    jwks_server.status = 500
    response = client.get("/me", headers=bearer(issue()))
    assert response.status_code == 503
    assert "WWW-Authenticate" not in response.headers
    assert response.json["error"] == "temporarily_unavailable"


def test_misconfiguration_fails_at_declaration(verifier):
    with pytest.raises(ValueError):
        require_right(verifier, "signer", firm_from="siret")
    with pytest.raises(ValueError):
        require_token(verifier, acr="loa3")
