"""OAuth scopes the provider understands and the claims each one releases.

These are protocol scopes (what the client may read about the user), not the
délégation rights of the catalogue in ``scopes/``.
"""
# OIDC Core §5.4: claims released per scope.
SCOPE_CLAIMS = {
    "profile": ("name", "given_name", "family_name", "preferred_username", "locale"),
    "email": ("email", "email_verified"),
}

# ``firms`` and ``rights``: the user's firms and his rights at the client's
# sites, computed when asked (``idp.rights``; docs/claims.md).
RIGHTS_SCOPE_CLAIMS = {"firms": "firms", "rights": "rights"}

# ``delegations``: manage délégations through the JSON API /api/v1 (for firm software).
SCOPES_SUPPORTED = ("openid", "profile", "email", "firms", "rights", "delegations")

CLAIMS_SUPPORTED = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash",
    *SCOPE_CLAIMS["profile"], *SCOPE_CLAIMS["email"], *RIGHTS_SCOPE_CLAIMS.values(),
)
