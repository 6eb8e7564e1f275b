"""Grant types, thin adapters over ``idp.oauth.tokens`` (one module per grant)."""
