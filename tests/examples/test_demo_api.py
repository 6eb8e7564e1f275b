"""jesignexpert's bearer API, as firm software calls it: the level first, then the right, RFC 6750 and 9470 answers."""
from __future__ import annotations

import requests

from flows import Browser, RelyingParty

REALM = "https://jesignexpert.com"


def signatures(site, siret: str, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{site.url}/api/cabinets/{siret}/signatures", headers=headers, timeout=10)


def test_without_a_token_the_api_names_its_realm(jesignexpert, expert):
    response = signatures(jesignexpert, expert.siret)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{REALM}"'


def test_a_token_that_is_not_ours_is_invalid(jesignexpert, expert):
    response = signatures(jesignexpert, expert.siret, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}", error="invalid_token", '
        'error_description="The token is signed with an algorithm that is not accepted"')


def test_a_password_session_holding_the_right_is_asked_to_step_up(live, app, jesignexpert, expert, collaborator):
    from idp.accounts.models import User
    from idp.delegations.services import create_delegations
    from idp.extensions import db

    with app.app_context():
        create_delegations(db.session.get(User, expert.id), expert.firm_id, [collaborator.email],
                           ["jesignexpert:signer"])
        db.session.commit()
        db.session.remove()
    relying_party = RelyingParty(live.url, jesignexpert.client, jesignexpert.client_secret)
    tokens = relying_party.tokens_for(Browser(live.url), collaborator)

    response = signatures(jesignexpert, expert.siret, tokens["access_token"])

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}", error="insufficient_user_authentication", '
        'error_description="A stronger authentication is required", acr_values="eidas3"')
    assert response.json() == {"error": "insufficient_user_authentication",
                               "error_description": "A stronger authentication is required"}
