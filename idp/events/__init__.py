"""Security events pushed to relying sites (RFC 8417 SETs, CAEP, back-channel logout)."""
