"""Rights for tokens, loaded for a user and fitted where they go.

    access token   add_rights: the rights at its audience, within 8 KB, exp bounded
    introspection  current_rights: the same, recomputed now, complete
    ID token       firms_claim, rights_claim with a small budget (``for_id_token``)
    userinfo       firms_claim, rights_claim, complete

Every function reads the database through ``active_rights_for``, so that a
token, the ID token, userinfo and introspection agree on who holds what.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from scopes import default_catalogue

from ..delegations.services import FirmRights, active_rights_for
from .claims import (
    AUTHORIZATION_DETAILS, AUTHORIZATION_DETAILS_TRUNCATED, MAX_ACCESS_TOKEN_BYTES, build_authorization_details,
    build_firms, earliest_exp, experts_first_out, fit_authorization_details, fit_entries, json_size,
    payload_budget,
)

# In an ID token, the ``firms`` and ``rights`` claims are kept small: the ID
# token comes back as ``id_token_hint`` in logout URLs, where a few
# kilobytes are the limit. Userinfo gives them complete.
ID_TOKEN_FIRMS_MAX_BYTES = 1200
ID_TOKEN_RIGHTS_MAX_BYTES = 1800
FIRMS = "firms"
RIGHTS = "rights"


def holdings_for(user, audiences: Iterable[str], now: datetime) -> list[FirmRights]:
    """What ``user`` holds at each of ``audiences`` (unknown audiences hold nothing)."""
    holdings: list[FirmRights] = []
    for audience in dict.fromkeys(audiences):
        holdings.extend(active_rights_for(user, audience, now))
    return holdings


def authorization_details_for(user, audience: str, acr: str | None, now: datetime) -> list[dict]:
    """The complete ``authorization_details`` of ``user`` at ``audience`` for a session at ``acr``."""
    return build_authorization_details(active_rights_for(user, audience, now), acr, now)


def add_rights(claims: dict, *, user, acr: str | None, now: datetime,
               max_token_bytes: int = MAX_ACCESS_TOKEN_BYTES) -> dict:
    """``claims`` of an access token with the rights at its ``aud``, its ``exp`` bounded by them.

    Grouped by action set, 50 firms with every right of a site take about
    5 KB; beyond ``max_token_bytes`` the firms that do not fit are left out
    (own firms kept first) and ``authorization_details_truncated`` says so:
    the relying site then asks introspection, which answers complete.
    ``exp`` becomes at most the earliest end of a delegation the token
    carries. No rights, no claim.
    """
    details = authorization_details_for(user, claims["aud"], acr, now)
    if not details:
        return claims
    room = payload_budget(max_token_bytes) - json_size({**claims, AUTHORIZATION_DETAILS: [],
                                                         AUTHORIZATION_DETAILS_TRUNCATED: True}) + 2
    kept, truncated = fit_authorization_details(details, room)
    claims = dict(claims)
    if kept:
        claims[AUTHORIZATION_DETAILS] = kept
    if truncated:
        claims[AUTHORIZATION_DETAILS_TRUNCATED] = True
    bound = earliest_exp(kept)
    if bound is not None and bound < claims["exp"]:
        claims["exp"] = bound
    return claims


def current_rights(user, claims: dict, now: datetime) -> list[dict]:
    """The rights an issued access token would carry if it were issued ``now``, complete (introspection)."""
    return authorization_details_for(user, claims.get("aud"), claims.get("acr"), now)


def firms_claim(user, now: datetime, *, for_id_token: bool = False) -> dict:
    """``{"firms": [...]}``: the firms the user practises in or holds active delegated rights in.

    Not filtered by assurance level: belonging to a firm is not a right.
    """
    firms = build_firms(holdings_for(user, default_catalogue().audiences(), now))
    if not for_id_token:
        return {FIRMS: firms}
    kept, truncated = fit_entries(firms, ID_TOKEN_FIRMS_MAX_BYTES, experts_first_out)
    return {FIRMS: kept, **({FIRMS + "_truncated": True} if truncated else {})}


def rights_claim(user, client, acr: str | None, now: datetime, *, for_id_token: bool = False) -> dict:
    """``{"rights": [...]}``: the rights at every site the client is registered for, shaped as in tokens."""
    details = build_authorization_details(holdings_for(user, client.resources or [], now), acr, now)
    if not for_id_token:
        return {RIGHTS: details}
    kept, truncated = fit_authorization_details(details, ID_TOKEN_RIGHTS_MAX_BYTES)
    return {RIGHTS: kept, **({RIGHTS + "_truncated": True} if truncated else {})}
