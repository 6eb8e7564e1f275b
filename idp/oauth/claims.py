"""Claims about the user released by scope (ID token and userinfo)."""
from __future__ import annotations

from authlib.oauth2.rfc6749.util import scope_to_list

from .scopes import SCOPE_CLAIMS


def user_claims(user, scope: str) -> dict:
    """OIDC Core §5.4: the standard claims the granted ``scope`` releases."""
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
    for item in scope_to_list(scope) or []:
        for name in SCOPE_CLAIMS.get(item, ()):
            claims[name] = values[name]
    return claims
