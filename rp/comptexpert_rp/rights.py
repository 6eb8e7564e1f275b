"""Rights carried by an access token, as RFC 9396 ``authorization_details``.

One object per site (``type``) and set of ``actions``, listing the firms
(``firms``, by SIRET) where the person may do exactly those actions::

    {"type": "jesignexpert", "actions": ["sceller", "signer"],
     "firms": [{"siret": "44523611200025"},
               {"siret": "73282932000074", "by": "pub7QX2a", "exp": 1790000000}]}

``by`` and ``exp`` are present only for rights delegated by an expert; an
expert's own rights in his firms have neither. A right is named
``site:action`` in this API, e.g. ``jesignexpert:signer``; a token is read
into one :class:`Grant` per action and firm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .errors import TokenError

__all__ = ["Grant", "parse_right_id", "normalise_siret", "parse_authorization_details"]

_SIRET = re.compile(r"\d{14}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True)
class Grant:
    """One action a person may do for one firm on one site."""

    site: str
    action: str
    siret: str
    #: ``sub`` of the expert who delegated this right; None for own rights.
    by: str | None = None
    #: Expiry of a delegated right (seconds since the epoch); None if it
    #: does not expire on its own.
    expires_at: int | None = None

    @property
    def right_id(self) -> str:
        """``site:action``, e.g. ``jesignexpert:signer``."""
        return f"{self.site}:{self.action}"

    @property
    def delegated(self) -> bool:
        """True when the right was delegated by an expert."""
        return self.by is not None

    def is_active(self, now: float) -> bool:
        """True unless the delegation has expired at ``now``.

        No leeway: the expiry is the expert's decision, and a right is better
        refused a few seconds early than granted late.
        """
        return self.expires_at is None or self.expires_at > now


def parse_right_id(right_id: str) -> tuple[str, str]:
    """Split ``site:action``; a malformed identifier is a programming error."""
    site, sep, action = right_id.partition(":")
    if not sep or not _NAME.fullmatch(site) or not _NAME.fullmatch(action):
        raise ValueError(f"right identifiers look like 'site:action', got {right_id!r}")
    return site, action


def normalise_siret(firm: Any) -> str | None:
    """Return the 14-digit SIRET, accepting the displayed form
    ``445.236.112.00025`` and spaces; None when it is not a SIRET at all.

    Firms often come from URLs, i.e. from the caller: a bad one simply matches
    no right rather than raising.
    """
    if isinstance(firm, int) and not isinstance(firm, bool):
        firm = f"{firm:014d}"
    if not isinstance(firm, str):
        return None
    siret = firm.replace(".", "").replace(" ", "").replace("\u00a0", "")
    return siret if _SIRET.fullmatch(siret) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _firm_error(index: int, position: int, firm: Any) -> TokenError:
    # Only called for a broken firm: which check failed is worked out again
    # here rather than on every firm of every token.
    where = f"authorization_details[{index}].firms[{position}]"
    if not isinstance(firm, dict):
        return TokenError("claims", f"{where} is not an object")
    siret, by = firm.get("siret"), firm.get("by")
    if not isinstance(siret, str) or not _SIRET.fullmatch(siret):
        return TokenError("claims", f"{where}.siret is invalid")
    if by is not None and (not isinstance(by, str) or not by):
        return TokenError("claims", f"{where}.by is invalid")
    return TokenError("claims", f"{where}.exp is invalid")


#: One firm of one ``authorization_details`` entry, validated:
#: ``(site, actions, siret, by, exp)``.
FirmRights = tuple[str, tuple[str, ...], str, "str | None", "int | None"]


def validate_authorization_details(details: Any) -> tuple[FirmRights, ...]:
    """Check ``authorization_details`` and return its firms, in token order.

    A malformed object makes the whole token invalid (reason ``claims``):
    guessing what a broken right meant is how people get rights they were
    never given. No :class:`Grant` is built: a site usually asks about one
    right of one firm, which needs none (see :func:`grants_of`).
    """
    # Runs on every verification: it is written for speed (no per-entry
    # string formatting, one pass per firm), error messages being built only
    # when an entry is refused.
    if details is None:
        return ()
    if not isinstance(details, list):
        raise TokenError("claims", "authorization_details is not a list")
    firm_rights: list[FirmRights] = []
    name, siret_pattern = _NAME.fullmatch, _SIRET.fullmatch
    for index, entry in enumerate(details):
        if not isinstance(entry, dict):
            raise TokenError("claims", f"authorization_details[{index}] is not an object")
        site, actions, firms = entry.get("type"), entry.get("actions"), entry.get("firms")
        if not isinstance(site, str) or not name(site):
            raise TokenError("claims", f"authorization_details[{index}].type is invalid")
        if not isinstance(actions, list):
            raise TokenError("claims", f"authorization_details[{index}].actions is invalid")
        for action in actions:
            if not isinstance(action, str) or not name(action):
                raise TokenError("claims", f"authorization_details[{index}].actions is invalid")
        # An object naming a firm of its own is the shape of another format
        # (or a forgery): which firms would it cover?
        if not isinstance(firms, list) or "siret" in entry:
            raise TokenError("claims", f"authorization_details[{index}].firms is invalid")
        for position, firm in enumerate(firms):
            if not isinstance(firm, dict):
                raise _firm_error(index, position, firm)
            siret, by, exp = firm.get("siret"), firm.get("by"), firm.get("exp")
            if (
                not isinstance(siret, str)
                or not siret_pattern(siret)
                or (by is not None and (not isinstance(by, str) or not by))
                or (exp is not None and (not isinstance(exp, int) or isinstance(exp, bool)))
            ):
                raise _firm_error(index, position, firm)
            firm_rights.append((site, tuple(actions), siret, by, exp))
    return tuple(firm_rights)


def grants_of(firm_rights: tuple[FirmRights, ...]) -> tuple[Grant, ...]:
    """One :class:`Grant` per action and firm, firm by firm (SIRET order),
    each firm's in the token's order."""
    grants = [
        Grant(site, action, siret, by, exp)
        for site, actions, siret, by, exp in firm_rights
        for action in actions
    ]
    # Stable: within a firm, the token's order is kept.
    grants.sort(key=_by_siret)
    return tuple(grants)


def parse_authorization_details(details: Any) -> tuple[Grant, ...]:
    """Parse ``authorization_details`` into grants, one per action and firm.

    Grants come firm by firm (SIRET order), each firm's in the token's
    order. A malformed object makes the whole token invalid (reason
    ``claims``).
    """
    return grants_of(validate_authorization_details(details))


_by_siret = attrgetter("siret")
