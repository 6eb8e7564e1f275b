"""Helpers of the rights tests: the catalogue's sites, SIRETs, tokens through the code flow, the RP library.

Nothing here imports the server's code except to build data (``new_siret``
uses the provider's Luhn helper so that SIRETs are valid ones).
"""
from __future__ import annotations

import base64
import json
import secrets

import requests

from flows import Browser, csrf_of, query_of

# Audiences of the catalogue's sites (scopes/sites/*.toml).
ORDRE = "https://www.experts-comptables.fr"
JESIGN = "https://jesignexpert.com"
OUTILS = "https://outils.experts-comptables.fr"

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def new_siret() -> str:
    """A SIRET that passes the Luhn checks (SIREN and SIRET), never La Poste's."""
    from idp.firms.siret import luhn_check_digit

    while True:
        body = "".join(secrets.choice("0123456789") for _ in range(8))
        if not body.startswith("356"):
            break
    siren = body + luhn_check_digit(body)
    nic = "".join(secrets.choice("0123456789") for _ in range(4))
    return siren + nic + luhn_check_digit(siren + nic)


def claims_of(jwt_token: str) -> dict:
    """The payload of a JWT, unverified (the tests verify with the RP library where it matters)."""
    payload = jwt_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def tokens_at(rp, live, user, audience: str, scope: str = "openid", browser: Browser | None = None) -> dict:
    """The token response of a code flow for ``user`` with ``resource=audience`` (password login)."""
    return rp.tokens_for(browser or Browser(live.url), user, resource=audience, scope=scope)


def tokens_at_eidas2(rp, live, user, recovery_code: str, audience: str, scope: str = "openid") -> dict:
    """Same, logging in with the password and a recovery code (a second factor: ``eidas2``)."""
    browser = Browser(live.url)
    page = browser.follow(browser.get(rp.authorize_url(resource=audience, scope=scope)))
    second = browser.login(user.email, user.password, page)
    assert second.status_code == 200 and 'name="code"' in second.text, second.text[:300]
    response = browser.follow(browser.post("/login/code", data={"csrf_token": csrf_of(second.text),
                                                                "code": recovery_code}))
    if 'value="allow"' in response.text:
        response = browser.consent(response)
    assert response.status_code == 302, response.text[:300]
    answer = rp.exchange(query_of(response.headers["Location"])["code"])
    assert answer.status_code == 200, answer.text
    return answer.json()


def introspect(live, client_id: str, secret: str, token: str) -> dict:
    response = requests.post(live.url + "/introspect", data={"token": token}, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    return response.json()


def exchange(live, client_id: str, secret: str, **data) -> requests.Response:
    """A token exchange request (RFC 8693 §2.1) by a client authenticated with client_secret_basic."""
    form = {"grant_type": EXCHANGE, **{k: v for k, v in data.items() if v is not None}}
    return requests.post(live.url + "/token", data=form, auth=(client_id, secret))


def details(objects: list[dict] | None) -> list[tuple]:
    """``authorization_details`` as comparable tuples, one per firm of each object, in the token's order:
    (type, siret, actions, by, has exp)."""
    return [(o["type"], firm["siret"], tuple(o["actions"]), firm.get("by"), "exp" in firm)
            for o in objects or [] for firm in o["firms"]]


def sirets_of(objects: list[dict] | None) -> list[str]:
    """The SIRETs named in ``authorization_details``, each once, in the token's order."""
    return list(dict.fromkeys(firm["siret"] for o in objects or [] for firm in o["firms"]))
