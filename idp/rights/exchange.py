"""Token exchange (RFC 8693): a user's access token for one aimed at another site.

A relying site's back end holds a user's access token and needs to call
another site's API for him. It sends that token (the *subject token*) and
names the other site (``audience`` or ``resource``); it gets a new access
token for that site carrying only the rights the user holds there, at the
same session level, expiring no later than the subject token, with
``act: {"sub": <client_id>}`` (RFC 8693 §4.1): the client acts, the user
is the subject, and rights delegated to him keep their ``by``.

The request is checked in this order, each check raising the RFC 6749 /
RFC 8693 error a client must see::

    check_client_may_exchange   unauthorized_client
    check_parameters            invalid_request
    check_target                invalid_request, invalid_target
    load_subject                invalid_grant
    check_scope                 invalid_scope
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError, InvalidRequestError, InvalidScopeError, UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.util import scope_to_list

from ..db import utcnow
from ..extensions import db
from ..oauth.grants.common import InvalidTargetError
from ..oauth.tokens import AuthContext, VerifiedAccessToken, issue_tokens, verify_access_token

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
# RFC 8693 §3: the only token type taken and given here.
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


@dataclass(frozen=True)
class Exchange:
    """A checked exchange request: whose token, for which audience, with which scope."""

    subject: VerifiedAccessToken
    user: object
    target: str
    scope: str

    @property
    def context(self) -> AuthContext:
        """The subject token's session facts, carried over unchanged."""
        claims = self.subject.claims
        auth_time = datetime.fromtimestamp(claims["auth_time"], timezone.utc).replace(tzinfo=None)
        return AuthContext(claims["acr"], tuple(claims.get("amr", ())), auth_time, claims.get("sid"))


def check_client_may_exchange(client) -> None:
    """Only clients registered with exchange audiences may exchange at all."""
    if not client.exchange_audiences:
        raise UnauthorizedClientError("The client is not authorized to exchange tokens.")


def _single(payload, name: str) -> str | None:
    values = payload.datalist.get(name, [])
    if len(values) > 1:
        raise InvalidRequestError(f"'{name}' must be given once.")
    return values[0] if values else None


def check_parameters(payload) -> str:
    """RFC 8693 §2.1: a subject access token, no actor token, an access token asked for; returns it."""
    subject_token = _single(payload, "subject_token")
    if not subject_token:
        raise InvalidRequestError("Missing 'subject_token'.")
    subject_token_type = _single(payload, "subject_token_type")
    if not subject_token_type:
        raise InvalidRequestError("Missing 'subject_token_type'.")
    if subject_token_type != ACCESS_TOKEN_TYPE:
        raise InvalidRequestError(f"Only access tokens can be exchanged: 'subject_token_type' must be "
                                  f"'{ACCESS_TOKEN_TYPE}'.")
    if payload.data.get("actor_token") or payload.data.get("actor_token_type"):
        # The authenticated client is the actor; a second party would have
        # to be authenticated by a token we cannot vouch for.
        raise InvalidRequestError("'actor_token' is not supported: the client is the actor.")
    requested = _single(payload, "requested_token_type")
    if requested is not None and requested != ACCESS_TOKEN_TYPE:
        raise InvalidRequestError(f"Only access tokens are issued: 'requested_token_type' must be "
                                  f"'{ACCESS_TOKEN_TYPE}'.")
    return subject_token


def check_target(client, payload) -> str:
    """The one audience asked for (``audience`` or ``resource``, RFC 8693 §2.1), allowed to ``client``."""
    targets = list(dict.fromkeys(payload.datalist.get("audience", []) + payload.datalist.get("resource", [])))
    if not targets:
        raise InvalidRequestError("Name the target site with 'audience' or 'resource'.")
    if len(targets) > 1:
        # One audience per token keeps it useless anywhere else.
        raise InvalidTargetError("Only one target per token: ask once per site.")
    if targets[0] not in client.exchange_audiences:
        raise InvalidTargetError("The client may not exchange tokens for this audience.")
    return targets[0]


def load_subject(client, subject_token: str, now: datetime):
    """The live user token the client may exchange, and its user.

    The client must be the one the token was issued to, or the resource
    server it was meant for: a token picked up elsewhere cannot be turned
    into a token for yet another site.
    """
    from ..accounts.models import User

    subject = verify_access_token(subject_token, now)
    if subject is None:
        raise InvalidGrantError("The subject token is invalid, expired or revoked.")
    claims = subject.claims
    if claims.get("client_id") != client.client_id and claims.get("aud") not in (client.resources or []):
        raise InvalidGrantError("The subject token was not issued to or for this client.")
    user = db.session.get(User, subject.record.user_id) if subject.record.user_id is not None else None
    if user is None or "acr" not in claims or "auth_time" not in claims:
        raise InvalidGrantError("The subject token does not represent a user.")
    if not user.active:
        raise InvalidGrantError("The subject token's account is disabled.")
    return subject, user


def check_scope(client, subject: VerifiedAccessToken, requested: str | None) -> str:
    """The scope of the new token: what is asked (by default the subject's), never more than the subject
    token has nor than the client may have."""
    subject_scope = scope_to_list(subject.scope) or []
    if not requested:
        return client.get_allowed_scope(" ".join(subject_scope)) or ""
    asked = list(dict.fromkeys(scope_to_list(requested) or []))
    if not set(asked) <= set(subject_scope) & set(scope_to_list(client.scope) or []):
        raise InvalidScopeError("The requested scope exceeds the subject token's or the client's.")
    return " ".join(asked)


def check_exchange(client, payload, now: datetime | None = None) -> Exchange:
    """Every check of an exchange request by the authenticated ``client``, in order (module docstring)."""
    now = now or utcnow()
    check_client_may_exchange(client)
    subject_token = check_parameters(payload)
    target = check_target(client, payload)
    subject, user = load_subject(client, subject_token, now)
    scope = check_scope(client, subject, payload.scope)
    return Exchange(subject, user, target, scope)


def issue_exchanged_token(client, exchange: Exchange, now: datetime | None = None) -> dict:
    """The RFC 8693 §2.2.1 response: an access token for ``exchange.target``, no refresh token.

    The new token shares the subject token's family and code: revoking the
    subject's refresh tokens or replaying its code revokes it too.
    """
    claims = exchange.subject.claims
    act = {"sub": client.client_id}
    if isinstance(claims.get("act"), dict):
        # §4.1: a chain of delegation, the most recent actor outermost.
        act["act"] = claims["act"]
    token = issue_tokens(
        client=client,
        grant_type=GRANT_TYPE,
        user=exchange.user,
        scope=exchange.scope,
        resource=exchange.target,
        context=exchange.context,
        family_id=exchange.subject.record.family_id,
        code_hash=exchange.subject.record.code_hash,
        include_refresh_token=False,
        act=act,
        not_after=datetime.fromtimestamp(claims["exp"], timezone.utc).replace(tzinfo=None),
        now=now,
    )
    token["issued_token_type"] = ACCESS_TOKEN_TYPE
    return token
