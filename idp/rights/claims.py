"""The rights a user holds, as RFC 9396 ``authorization_details``, within a size budget.

Plain data in, plain data out (no Flask, no database)::

    FirmRights (one per firm and source) ── build_authorization_details(acr, now) ──▶ details
    details ── fit_authorization_details(room) ──▶ the firms that fit, and whether some were left out
    details ── earliest_exp ──▶ the first end of a delegation carried
    FirmRights ── build_firms() ──▶ the ``firms`` claim

One object per site and set of actions, listing the firms where the person
holds exactly those actions (docs/claims.md)::

    {"type": "jesignexpert", "actions": ["preparer_collecte", "sceller"],
     "firms": [{"siret": "44523611200025"},
               {"siret": "73282932000074", "by": "dur09HP9", "exp": 1790000000}]}

``by`` (the expert who delegated, his identifiant, i.e. his ``sub``) and
``exp`` (when the delegation ends) are present only for delegated rights;
an expert's own rights in the firms he practises in have neither.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from scopes import Catalogue, UnknownRight, acr_satisfies, default_catalogue

from ..db import epoch

if TYPE_CHECKING:
    from ..delegations.services import FirmRights

AUTHORIZATION_DETAILS = "authorization_details"
AUTHORIZATION_DETAILS_TRUNCATED = "authorization_details_truncated"

# An access token travels in an ``Authorization`` header on every call to a
# relying site's API; proxies and servers commonly cap a header at 8 KB
# (nginx's large_client_header_buffers default, Apache's LimitRequestFieldSize).
MAX_ACCESS_TOKEN_BYTES = 8000
# What the header and the signature take in the compact JWS, at most:
# {"alg":"RS256","kid":<43 chars>,"typ":"at+jwt"} is under 120 base64url
# characters, an RS256 signature (2048-bit key) 342 (ES256: 86).
HEADER_ALLOWANCE = 160
SIGNATURE_ALLOWANCE = 342

# Roles in the ``firms`` claim.
EXPERT = "expert"
COLLABORATOR = "collaborator"


def json_size(value) -> int:
    """Bytes of ``value`` as compact JSON, as it is signed in a JWT (UTF-8, no spaces)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def payload_budget(max_token_bytes: int = MAX_ACCESS_TOKEN_BYTES) -> int:
    """The largest JSON payload (bytes) whose signed compact JWT stays within ``max_token_bytes``."""
    return (max_token_bytes - HEADER_ALLOWANCE - SIGNATURE_ALLOWANCE - 2) * 3 // 4


def _known_right(catalogue: Catalogue, right_id: str):
    try:
        return catalogue.right(right_id)
    except UnknownRight:
        # A right removed from the catalogue while delegations still name
        # it: no site checks it any more, so it goes nowhere.
        return None


def _preference(source: tuple[str | None, int | None]) -> tuple:
    """Of several sources for one right in one firm, the one a token should carry.

    An expert's own right first (it does not end); then the delegation that
    ends last, so that the token is cut short as little as possible; then
    the grantor's identifiant, so that the choice never depends on row order.
    """
    by, exp = source
    return (by is not None, -(exp or 0), by or "")


def _firm_order(firm: dict) -> tuple:
    # Own firms first, then by SIRET. A SIRET appears at most once in a
    # group: the sources of one firm hold disjoint sets of actions.
    return ("by" in firm, firm["siret"])


def build_authorization_details(holdings: Iterable[FirmRights], acr: str | None, now: datetime,
                                catalogue: Catalogue | None = None) -> list[dict]:
    """The ``authorization_details`` for ``holdings`` in a session authenticated at ``acr``, at ``now``.

    - A right whose ``min_acr`` the session has not reached is left out
      (``acr`` None, as for a client without a user, reaches nothing).
    - A delegation ending within the current second is left out: its
      ``exp`` in whole seconds could not say it is still valid.
    - One right held twice in one firm (the expert's own and delegated, or
      from two delegations) appears once, from the preferred source (see
      ``_preference``).
    - The rights each source opens in a firm are grouped by site and set of
      actions: one object per (``type``, ``actions``), its ``firms`` those
      holding exactly these actions, each with ``by`` and ``exp`` when
      delegated. Objects are ordered by site then actions, firms own first
      then by SIRET, actions sorted: the same rights always give the same
      bytes.
    """
    catalogue = catalogue or default_catalogue()
    second = epoch(now)
    candidates: dict[tuple[str, str], list[tuple[str | None, int | None]]] = {}
    for holding in holdings:
        exp = None if holding.grantor is None else epoch(holding.ends_at)
        if exp is not None and exp <= second:
            continue
        for right_id in holding.rights:
            right = _known_right(catalogue, right_id)
            if right is None or not acr_satisfies(acr, right.min_acr):
                continue
            candidates.setdefault((holding.siret, right.id), []).append((holding.grantor, exp))
    per_source: dict[tuple[str, str, str | None, int | None], list[str]] = {}
    for (siret, right_id), sources in candidates.items():
        by, exp = min(sources, key=_preference)
        right = catalogue.right(right_id)
        per_source.setdefault((right.site_id, siret, by, exp), []).append(right.short_id)
    groups: dict[tuple[str, tuple[str, ...]], list[dict]] = {}
    for (site, siret, by, exp), actions in per_source.items():
        firm = {"siret": siret} if by is None else {"siret": siret, "by": by, "exp": exp}
        groups.setdefault((site, tuple(sorted(actions))), []).append(firm)
    return [{"type": site, "actions": list(actions), "firms": sorted(groups[site, actions], key=_firm_order)}
            for site, actions in sorted(groups)]


def earliest_exp(details: Iterable[dict]) -> int | None:
    """The first end of a delegation in ``details``; None when they are all own rights."""
    return min((firm["exp"] for detail in details for firm in detail["firms"] if "exp" in firm), default=None)


def fit_authorization_details(details: list[dict], room: int) -> tuple[list[dict], bool]:
    """The firms of ``details`` whose JSON array takes at most ``room`` bytes, and whether any was left out.

    When all do not fit, firms are taken whole (every object naming the
    firm, or none): a person's own firms first, then the delegated ones by
    SIRET, until the next would not fit. An object left without firms is
    dropped; what is kept stays in its original order. Deterministic: the
    same details and room always keep the same firms.
    """
    if json_size(details) <= room:
        return details, False
    places: dict[tuple, list[tuple[int, int]]] = {}
    for index, detail in enumerate(details):
        for position, firm in enumerate(detail["firms"]):
            places.setdefault(_firm_order(firm), []).append((index, position))
    kept: dict[int, set[int]] = {}
    used = 2  # the brackets
    for firm_key in sorted(places):
        size, opened = 0, set()
        for index, position in places[firm_key]:
            firm = details[index]["firms"][position]
            if index in kept or index in opened:
                size += 1 + json_size(firm)  # a comma, the firm
            else:
                size += (1 if kept or opened else 0) + json_size({**details[index], "firms": [firm]})
                opened.add(index)
        if used + size > room:
            break
        for index, position in places[firm_key]:
            kept.setdefault(index, set()).add(position)
        used += size
    return [{**detail, "firms": [firm for position, firm in enumerate(detail["firms"]) if position in kept[index]]}
            for index, detail in enumerate(details) if index in kept], True


def fit_entries(entries: list[dict], room: int, priority: Callable[[dict], object]) -> tuple[list[dict], bool]:
    """The entries of a flat list whose JSON array takes at most ``room`` bytes, and whether any was left out.

    When all do not fit, entries are taken by ``priority`` (lowest first),
    then in their order, until the next one would not fit; those kept stay
    in their original order. Deterministic: the same entries and room
    always keep the same ones.
    """
    if json_size(entries) <= room:
        return entries, False
    kept: set[int] = set()
    used = 2  # the brackets
    for index in sorted(range(len(entries)), key=lambda i: (priority(entries[i]), i)):
        size = json_size(entries[index]) + (1 if kept else 0)
        if used + size > room:
            break
        kept.add(index)
        used += size
    return [entry for index, entry in enumerate(entries) if index in kept], True


def build_firms(holdings: Iterable[FirmRights]) -> list[dict]:
    """The ``firms`` claim: each firm the user practises in or holds delegated rights in, by SIRET.

    ``role`` is ``expert`` for a firm he practises in (even if he also
    holds delegations there), ``collaborator`` otherwise.
    """
    firms: dict[str, tuple[str, str]] = {}
    for holding in holdings:
        role = EXPERT if holding.grantor is None else COLLABORATOR
        if holding.siret not in firms or role == EXPERT:
            firms[holding.siret] = (holding.firm, role)
    return [{"siret": siret, "raison_sociale": name, "role": role} for siret, (name, role) in sorted(firms.items())]


def experts_first_out(entry: dict) -> bool:
    """Priority for ``fit_entries`` on the ``firms`` claim: the firms he practises in first."""
    return entry["role"] != EXPERT
