"""Multi-factor authentication: TOTP authenticator app and recovery codes."""
