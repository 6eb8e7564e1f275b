"""AccessToken: the rights view, scopes and authentication level, built
straight from claims (the signature is tested in test_verifier)."""

from __future__ import annotations

import time

import pytest
from rp_factories import COLLABORATOR, EXPERT, OTHER_SIRET, SIRET, access_claims

from comptexpert_rp import AccessToken, Grant, InsufficientScope, InsufficientUserAuthentication, TokenError

NOW = 1_760_000_000


def collaborator_token(**overrides) -> AccessToken:
    """A collaborator holding live and expired delegations in two firms."""
    claims = access_claims(
        sub=COLLABORATOR,
        authorization_details=[
            {"type": "jesignexpert", "actions": ["preparer_collecte"],
             "firms": [{"siret": SIRET, "by": EXPERT, "exp": NOW + 3600}]},
            {"type": "jesignexpert", "actions": ["signer"],
             "firms": [{"siret": SIRET, "by": EXPERT, "exp": NOW - 1}]},
            {"type": "ordre", "actions": ["droits_administratifs"],
             "firms": [{"siret": OTHER_SIRET, "by": "pubX", "exp": NOW + 60}]},
        ],
        **overrides,
    )
    return AccessToken(claims)


def test_own_rights_do_not_expire():
    token = AccessToken(access_claims())
    assert token.has_right("jesignexpert:signer", firm=SIRET, now=NOW + 10**9)
    assert token.rights(SIRET, now=NOW) == [
        Grant("jesignexpert", "signer", SIRET),
        Grant("jesignexpert", "sceller", SIRET),
        Grant("ordre", "site_prive", SIRET),
    ]
    assert not token.rights()[0].delegated


def test_has_right_with_live_delegation():
    token = collaborator_token()
    assert token.has_right("jesignexpert:preparer_collecte", firm=SIRET, now=NOW)
    grant = token.rights(SIRET, now=NOW)[0]
    assert (grant.by, grant.expires_at, grant.delegated) == (EXPERT, NOW + 3600, True)
    assert grant.right_id == "jesignexpert:preparer_collecte"


def test_has_right_with_expired_delegation():
    token = collaborator_token()
    assert not token.has_right("jesignexpert:signer", firm=SIRET, now=NOW)
    # Expiry is strict: at exp the right is gone.
    assert token.has_right("jesignexpert:preparer_collecte", firm=SIRET, now=NOW + 3599)
    assert not token.has_right("jesignexpert:preparer_collecte", firm=SIRET, now=NOW + 3600)


def test_has_right_uses_the_current_time_by_default():
    now = int(time.time())
    token = AccessToken(
        access_claims(
            authorization_details=[
                {"type": "jesignexpert", "actions": ["signer"],
                 "firms": [{"siret": SIRET, "by": EXPERT, "exp": now - 5}]},
                {"type": "jesignexpert", "actions": ["sceller"],
                 "firms": [{"siret": SIRET, "by": EXPERT, "exp": now + 60}]},
            ]
        )
    )
    assert not token.has_right("jesignexpert:signer", firm=SIRET)
    assert token.has_right("jesignexpert:sceller", firm=SIRET)


@pytest.mark.parametrize(
    ("right_id", "firm", "expected"),
    [
        ("jesignexpert:sceller", SIRET, True),
        ("jesignexpert:sceller", "445.236.112.00025", True),
        ("jesignexpert:sceller", "445 236 112 00025", True),
        ("jesignexpert:sceller", OTHER_SIRET, False),
        ("jesignexpert:sceller", "445236112", False),  # a SIREN is not a firm
        ("jesignexpert:sceller", None, False),
        ("jesignexpert:sceller", "", False),
        ("jefacture:sceller", SIRET, False),  # same action, other site
        ("ordre:signer", SIRET, False),
        ("jesignexpert:site_prive", SIRET, False),
    ],
)
def test_has_right_matches_site_action_and_firm(right_id, firm, expected):
    assert AccessToken(access_claims()).has_right(right_id, firm=firm) is expected


@pytest.mark.parametrize("right_id", ["signer", "jesignexpert:", ":signer", "a:b:c", "jesign expert:signer"])
def test_malformed_right_id_is_a_programming_error(right_id):
    with pytest.raises(ValueError):
        AccessToken(access_claims()).has_right(right_id, firm=SIRET)


def test_one_object_gives_its_actions_in_each_of_its_firms():
    # An expert's own firm and a firm where he holds the same actions by delegation.
    token = AccessToken(access_claims(authorization_details=[
        {"type": "jesignexpert", "actions": ["preparer_collecte", "sceller"],
         "firms": [{"siret": OTHER_SIRET}, {"siret": SIRET, "by": COLLABORATOR, "exp": NOW + 60}]},
    ]))
    assert token.rights(now=NOW) == [
        Grant("jesignexpert", "preparer_collecte", SIRET, COLLABORATOR, NOW + 60),
        Grant("jesignexpert", "sceller", SIRET, COLLABORATOR, NOW + 60),
        Grant("jesignexpert", "preparer_collecte", OTHER_SIRET),
        Grant("jesignexpert", "sceller", OTHER_SIRET),
    ], "firm by firm, in SIRET order"
    assert token.has_right("jesignexpert:sceller", firm=OTHER_SIRET, now=NOW + 10**9)
    assert not token.has_right("jesignexpert:sceller", firm=SIRET, now=NOW + 60)
    assert token.firms(now=NOW) == [SIRET, OTHER_SIRET]
    assert token.firms(now=NOW + 60) == [OTHER_SIRET]


def test_firms_lists_firms_with_live_rights():
    assert collaborator_token().firms(now=NOW) == [SIRET, OTHER_SIRET]
    assert collaborator_token().firms(now=NOW + 600) == [SIRET]
    assert collaborator_token().firms(now=NOW + 7200) == []
    assert AccessToken(access_claims(authorization_details=None)).firms() == []


def test_rights_can_include_expired():
    token = collaborator_token()
    assert [g.action for g in token.rights(SIRET, now=NOW)] == ["preparer_collecte"]
    assert [g.action for g in token.rights(SIRET, now=NOW, include_expired=True)] == ["preparer_collecte", "signer"]


def test_check_right_raises_insufficient_scope():
    with pytest.raises(InsufficientScope) as excinfo:
        collaborator_token().check_right("jesignexpert:signer", SIRET, now=NOW)
    assert excinfo.value.error == "insufficient_scope"
    assert excinfo.value.status_code == 403
    assert excinfo.value.description == "The access token does not grant jesignexpert:signer for this firm"


@pytest.mark.parametrize(
    ("acr", "level", "expected"),
    [
        ("eidas1", "eidas1", True),
        ("eidas1", "eidas2", False),
        ("eidas2", "eidas2", True),
        ("eidas2", "eidas3", False),
        ("eidas3", "eidas2", True),
        ("eidas3", "eidas3", True),
        (None, "eidas1", False),
        ("urn:unknown", "eidas1", False),
    ],
)
def test_acr_satisfies(acr, level, expected):
    assert AccessToken(access_claims(acr=acr)).acr_satisfies(level) is expected


def test_acr_satisfies_refuses_unknown_levels():
    with pytest.raises(ValueError):
        AccessToken(access_claims()).acr_satisfies("loa3")


def test_check_authentication():
    token = AccessToken(access_claims(acr="eidas2", auth_time=NOW - 600))
    token.check_authentication("eidas2", max_age=900, now=NOW)
    with pytest.raises(InsufficientUserAuthentication) as excinfo:
        token.check_authentication("eidas3", now=NOW)
    assert (excinfo.value.error, excinfo.value.acr_values, excinfo.value.max_age) == (
        "insufficient_user_authentication",
        "eidas3",
        None,
    )
    with pytest.raises(InsufficientUserAuthentication) as excinfo:
        token.check_authentication(max_age=300, now=NOW)
    assert (excinfo.value.acr_values, excinfo.value.max_age) == (None, 300)
    assert excinfo.value.description == "A more recent authentication is required"


def test_scopes():
    token = AccessToken(access_claims(scope="openid  jesignexpert"))
    assert token.has_scope("openid", "jesignexpert")
    token.check_scope("jesignexpert openid")
    with pytest.raises(InsufficientScope) as excinfo:
        token.check_scope(["jesignexpert", "jefacture"])
    assert excinfo.value.scope == ("jesignexpert", "jefacture")
    assert AccessToken(access_claims(scope=None)).scopes == frozenset()


def test_identity_claims():
    token = AccessToken(access_claims(act={"sub": "support-42"}, amr=["hwk", "sc"], acr="eidas3"))
    assert token.sub == EXPERT
    assert token.act["sub"] == "support-42"
    assert token.amr == ("hwk", "sc")
    assert token.sid == "sess-1"
    assert isinstance(token.auth_time, int)


def test_client_credentials_token():
    token = AccessToken(access_claims(sub="jesignexpert", authorization_details=None, acr=None, amr=None, auth_time=None))
    assert token.sub == token.client_id
    assert token.firms() == []
    assert not token.acr_satisfies("eidas1")


@pytest.mark.parametrize(
    "details",
    [
        [{"type": "jesignexpert", "actions": ["signer"], "firms": [{"siret": "445236112"}]}],
        [{"type": "jesignexpert", "actions": ["signer"], "firms": [{"siret": 44523611200025}]}],
        [{"type": "jesignexpert", "actions": "signer", "firms": [{"siret": SIRET}]}],
        [{"type": "jesignexpert", "actions": [1], "firms": [{"siret": SIRET}]}],
        [{"actions": ["signer"], "firms": [{"siret": SIRET}]}],
        [{"type": "jesignexpert", "actions": ["signer"], "firms": [{"siret": SIRET, "exp": "2030-01-01"}]}],
        [{"type": "jesignexpert", "actions": ["signer"], "firms": [{"siret": SIRET, "exp": True}]}],
        [{"type": "jesignexpert", "actions": ["signer"], "firms": [{"siret": SIRET, "by": ""}]}],
        [{"type": "jesignexpert", "actions": ["signer"], "firms": [SIRET]}],
        [{"type": "jesignexpert", "actions": ["signer"], "firms": {"siret": SIRET}}],
        [{"type": "jesignexpert", "actions": ["signer"]}],
        # One entry per firm, the shape of the first version of the format: refused, never half-read.
        [{"type": "jesignexpert", "siret": SIRET, "actions": ["signer"]}],
        [{"type": "jesignexpert", "siret": SIRET, "actions": ["signer"], "firms": [{"siret": OTHER_SIRET}]}],
        ["jesignexpert:signer"],
    ],
)
def test_malformed_rights_invalidate_the_token(details):
    # Guessing what a broken entry meant is how rights leak.
    with pytest.raises(TokenError) as excinfo:
        AccessToken(access_claims(authorization_details=details))
    assert excinfo.value.reason == "claims"


@pytest.mark.parametrize(
    "overrides",
    [{"amr": "pwd"}, {"amr": ["pwd", 2]}, {"acr": 3}, {"auth_time": "yesterday"}, {"auth_time": True}, {"act": {"iss": "x"}}],
)
def test_malformed_claims_invalidate_the_token(overrides):
    with pytest.raises(TokenError) as excinfo:
        AccessToken(access_claims(**overrides))
    assert excinfo.value.reason == "claims"
