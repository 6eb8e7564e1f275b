"""The SSO session: one login serves every relying site until logout or expiry."""
