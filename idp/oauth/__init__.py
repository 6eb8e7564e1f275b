"""OAuth 2.0 / OpenID Connect: clients, grants, tokens and endpoints (Authlib)."""
