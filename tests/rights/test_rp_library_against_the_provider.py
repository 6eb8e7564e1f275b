"""The relying-party library (``comptexpert_rp``) against the live provider: what it accepts and refuses.

Every token here was issued by the provider through a real code flow; the
library fetches the provider's ``/jwks.json`` over HTTP like a relying site.
"""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from comptexpert_rp import TokenError, UnknownKeyError
from rights_steps import JESIGN, ORDRE, tokens_at


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def _refused(verifier, token) -> str:
    with pytest.raises(TokenError) as refused:
        verifier.verify(token)
    assert refused.value.error == "invalid_token"
    return refused.value.reason


@pytest.fixture
def expert_token(live, sites_rp, make_expert):
    """An expert and a token for the Ordre's site that carries his rights in his firm."""
    expert = make_expert()
    return expert, tokens_at(sites_rp, live, expert, ORDRE)


def test_a_valid_token_gives_the_person_and_his_rights(live, sites_rp, expert_token, verifier_for):
    expert, tokens = expert_token
    token = verifier_for(ORDRE).verify(tokens["access_token"])
    assert (token.sub, token.client_id, token.acr, token.issuer) == (expert.identifiant, sites_rp.client_id,
                                                                     "eidas1", live.url)
    assert token.has_right("ordre:site_prive", firm=expert.firm.siret)
    shown = f"{expert.firm.siret[0:3]}.{expert.firm.siret[3:6]}.{expert.firm.siret[6:9]}.{expert.firm.siret[9:]}"
    assert token.has_right("ordre:droits_administratifs", firm=shown), "the SIRET as the pages show it"
    assert not token.has_right("ordre:site_prive", firm="not a siret")


def test_a_token_for_another_site_is_refused(expert_token, verifier_for):
    _, tokens = expert_token
    assert _refused(verifier_for(JESIGN), tokens["access_token"]) == "audience"


def test_an_expired_token_is_refused(live, sites_rp, make_expert, verifier_for, monkeypatch):
    expert = make_expert()
    monkeypatch.setitem(live.app.config, "IDP_ACCESS_TOKEN_TTL", 1)
    access_token = tokens_at(sites_rp, live, expert, ORDRE)["access_token"]
    expires = jwt.decode(access_token, options={"verify_signature": False})["exp"]
    while time.time() < expires + 1:
        time.sleep(0.2)
    assert _refused(verifier_for(ORDRE, leeway=0), access_token) == "expired"


def test_a_key_the_library_has_not_seen_is_fetched_again_but_not_more_than_once_a_minute(
        live, sites_rp, make_expert, runner, verifier_for):
    expert = make_expert()
    clock = [1000.0]
    verifier = verifier_for(ORDRE, min_refetch_interval=60, clock=lambda: clock[0])
    keys = verifier.jwks
    verifier.verify(tokens_at(sites_rp, live, expert, ORDRE)["access_token"])
    seen = set(keys.keys)

    # Twice: the first promotes the key published in advance (already seen),
    # the second one made at the first rotation, which the library never saw.
    for _ in range(2):
        result = runner.invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
    fresh = tokens_at(sites_rp, live, expert, ORDRE)["access_token"]
    assert jwt.get_unverified_header(fresh)["kid"] not in seen

    with pytest.raises(UnknownKeyError) as throttled:
        verifier.verify(fresh)
    assert throttled.value.reason == "unknown_key"

    clock[0] += 61
    assert verifier.verify(fresh).has_right("ordre:site_prive", firm=expert.firm.siret)


def test_a_tampered_token_is_refused(expert_token, verifier_for):
    _, tokens = expert_token
    header, payload, signature = tokens["access_token"].split(".")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["authorization_details"][0]["firms"][0]["siret"] = "73282932000074"
    assert _refused(verifier_for(ORDRE), ".".join([header, _b64(claims), signature])) == "signature"


def test_alg_none_is_refused_before_any_key_is_looked_up(expert_token, verifier_for):
    _, tokens = expert_token
    header = jwt.get_unverified_header(tokens["access_token"])
    payload = tokens["access_token"].split(".")[1]
    verifier = verifier_for(ORDRE)
    assert _refused(verifier, ".".join([_b64({**header, "alg": "none"}), payload, ""])) == "algorithm"
    assert verifier.jwks.keys == {}, "not even the JWKS was fetched"


def test_an_id_token_is_not_an_access_token(live, sites_rp, expert_token, verifier_for):
    # Signed by the provider for this very audience (the client), but typ JWT, not at+jwt.
    _, tokens = expert_token
    assert jwt.get_unverified_header(tokens["id_token"])["typ"] == "JWT"
    assert _refused(verifier_for(sites_rp.client_id), tokens["id_token"]) == "typ"
