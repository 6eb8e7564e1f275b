"""A uniform view of a presented token for revocation and introspection."""
from __future__ import annotations

from dataclasses import dataclass

from ...db import digest, epoch, utcnow
from ...extensions import db
from ..models import RefreshToken
from ..tokens import verify_access_token

HINTS = ("access_token", "refresh_token")


@dataclass
class TokenHandle:
    kind: str
    client_id: str
    access: object | None = None
    refresh: RefreshToken | None = None

    def check_client(self, client) -> bool:
        return self.client_id == client.client_id

    def is_expired(self) -> bool:
        if self.refresh is not None:
            return self.refresh.expires_at <= utcnow()
        return self.access.claims["exp"] <= epoch(utcnow())

    def is_revoked(self) -> bool:
        if self.refresh is not None:
            return self.refresh.revoked_at is not None or self.refresh.rotated_at is not None
        return self.access.record.revoked_at is not None


def find_token(token_string: str, hint: str | None) -> TokenHandle | None:
    """Find a token by its value; the hint only orders the search (RFC 7009 §2.1)."""
    if not token_string or len(token_string) > 16384:
        return None
    order = ["refresh_token", "access_token"] if hint == "refresh_token" else ["access_token", "refresh_token"]
    for kind in order:
        if kind == "access_token" and token_string.count(".") == 2:
            verified = verify_access_token(token_string)
            if verified is not None:
                return TokenHandle("access_token", verified.claims["client_id"], access=verified)
        elif kind == "refresh_token":
            row = db.session.get(RefreshToken, digest(token_string))
            if row is not None:
                return TokenHandle("refresh_token", row.client_id, refresh=row)
    return None
