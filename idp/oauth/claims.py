"""Claims about the user released by scope (ID token and userinfo)."""
from __future__ import annotations

from datetime import datetime

from authlib.oauth2.rfc6749.util import scope_to_list

from ..db import utcnow
from ..rights.services import firms_claim, rights_claim
from .scopes import SCOPE_CLAIMS


def user_claims(user, scope: str, *, client=None, acr: str | None = None, now: datetime | None = None,
                for_id_token: bool = False) -> dict:
    """OIDC Core §5.4: the claims the granted ``scope`` releases.

    ``firms`` and ``rights`` (docs/claims.md) are computed now; ``rights``
    covers the sites ``client`` is registered for, at the session's ``acr``.
    In an ID token (``for_id_token``) they are kept small and say when
    they were cut; userinfo gives them complete.
    """
    values = {
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "preferred_username": user.identifiant,
        "locale": user.locale,
        "email": user.email,
        "email_verified": bool(user.email_verified),
    }
    claims = {"sub": user.identifiant}
    granted = scope_to_list(scope) or []
    for item in granted:
        for name in SCOPE_CLAIMS.get(item, ()):
            claims[name] = values[name]
    now = now or utcnow()
    if "firms" in granted:
        claims.update(firms_claim(user, now, for_id_token=for_id_token))
    if "rights" in granted and client is not None:
        claims.update(rights_claim(user, client, acr, now, for_id_token=for_id_token))
    return claims
