"""Discovery (OIDC Discovery 1.0, RFC 8414) and JWKS (RFC 7517).

Only what works is advertised; tests check each advertised value.
"""
from __future__ import annotations

from flask import current_app, url_for

from keys import SUPPORTED_ALGORITHMS
from scopes import default_catalogue
from scopes.acr import ACR_VALUES

from ...rights.exchange import GRANT_TYPE as EXCHANGE_GRANT_TYPE
from ..grants.common import AUTH_METHODS
from ..scopes import CLAIMS_SUPPORTED, SCOPES_SUPPORTED


def provider_metadata() -> dict:
    issuer = current_app.config["IDP_ISSUER"]

    def endpoint(name: str) -> str:
        return issuer + url_for(name)

    algs = list(SUPPORTED_ALGORITHMS)
    return {
        "issuer": issuer,
        "authorization_endpoint": endpoint("oauth.authorize"),
        "token_endpoint": endpoint("oauth.token"),
        "userinfo_endpoint": endpoint("oauth.userinfo"),
        "jwks_uri": endpoint("oauth.jwks"),
        "revocation_endpoint": endpoint("oauth.revoke"),
        "introspection_endpoint": endpoint("oauth.introspect"),
        "end_session_endpoint": endpoint("oauth.end_session"),
        "scopes_supported": list(SCOPES_SUPPORTED),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", EXCHANGE_GRANT_TYPE],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "access_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": algs,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": algs,
        "code_challenge_methods_supported": ["S256"],
        # RFC 9396 §10: the types are the catalogue's sites (docs/claims.md).
        "authorization_details_types_supported": [site.id for site in default_catalogue().sites()],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claim_types_supported": ["normal"],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["fr", "en"],
        "claims_locales_supported": ["fr"],
        "authorization_response_iss_parameter_supported": True,
        # Assurance levels (docs/assurance.md); the claims parameter is read for
        # an essential id_token acr (step-up), other requested claims are
        # released by scope as usual, which OIDC Core §5.5 allows.
        "acr_values_supported": list(ACR_VALUES),
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        # OpenID Connect Back-Channel Logout 1.0 §2.1 (docs/events.md): logout
        # tokens carry sid, pushed by `idp events deliver`.
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
