"""Authentication assurance levels (``acr`` values), weakest first.

The values are those of the French public SSOs (ProConnect,
FranceConnect+), so relying sites that already speak to them ask for the
same strings here:

- ``eidas1``: password;
- ``eidas2``: password and a second factor (TOTP application);
- ``eidas3``: hardware-bound credential with PIN (Signexpert certificate).
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import UnknownAcr

ACR_VALUES: tuple[str, ...] = ("eidas1", "eidas2", "eidas3")

_RANK: dict[str, int] = {acr: rank for rank, acr in enumerate(ACR_VALUES)}


def is_acr(value: object) -> bool:
    """Return whether ``value`` is one of ``ACR_VALUES``."""
    return isinstance(value, str) and value in _RANK


def acr_rank(acr: str) -> int:
    """Return the position of ``acr`` in ``ACR_VALUES`` (0 is the weakest).

    Raises ``UnknownAcr`` for anything else.
    """
    if not is_acr(acr):
        raise UnknownAcr(acr)
    return _RANK[acr]


def acr_satisfies(session_acr: str | None, required_acr: str) -> bool:
    """Return whether a session authenticated at ``session_acr`` meets ``required_acr``.

    An unknown or missing session level satisfies nothing: a session whose
    strength we cannot place must not open anything, not even the weakest
    right. An unknown *required* level is a configuration or caller error
    and raises ``UnknownAcr`` rather than quietly refusing.
    """
    required = acr_rank(required_acr)
    if not isinstance(session_acr, str) or session_acr not in _RANK:
        return False
    return _RANK[session_acr] >= required


def max_acr(acrs: Iterable[str]) -> str:
    """Return the strongest of ``acrs``; the weakest level when there are none.

    Used to find the level a set of rights needs. With no rights the answer
    is still ``eidas1``: every session is at least password-authenticated.
    Raises ``UnknownAcr`` if any value is unknown.
    """
    return ACR_VALUES[max((acr_rank(acr) for acr in acrs), default=0)]
