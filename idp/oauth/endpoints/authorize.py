"""Authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2), as an ordered list of checks.

    check_parameter_sizes → load_login → validate (Authlib: client, redirect_uri,
    response_type, scope, PKCE S256, nonce, prompt) → check_max_age → check_acr_request
    → check_resource → require_login → require_consent → respond

A session answers a request only if it is recent enough (``prompt=login``,
``max_age``) and strong enough: the ``acr`` it was opened at meets the level
asked with ``acr_values`` or an essential ``acr`` claim (see
``requested_acr``). Otherwise the user logs in again, or ``login_required``
goes back when he may not be asked to (``prompt=none``).

Errors before the redirect URI is known to belong to the client are shown
as a page, never redirected (RFC 6749 §4.1.2.1); every redirect carries
``iss`` (RFC 9207).
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from functools import cached_property

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import current_app, redirect, render_template, request, session, url_for
from werkzeug.datastructures import MultiDict

from scopes.acr import ACR_VALUES, acr_rank, acr_satisfies, is_acr

from ...db import new_secret, utcnow
from ...extensions import db
from ...i18n import remember_ui_locales
from ...sessions.web import current_login
from ..consent import has_consent
from ..grants.common import requested_resource
from ..models import Interaction
from ..server import authorization, issuer_parameter

INTERACTION_TTL = timedelta(minutes=30)
# Which interactions this browser started: an interaction id copied into
# another browser is worthless there.
SESSION_KEY = "interactions"


class ParamsPayload(OAuth2Payload):
    def __init__(self, params: MultiDict):
        self._params = params

    @property
    def data(self):
        return self._params

    @cached_property
    def datalist(self):
        values = defaultdict(list)
        for key in self._params:
            values[key].extend(self._params.getlist(key))
        return values


class AuthorizationRequest(OAuth2Request):
    """An authorization request built from its parameters, fresh or resumed."""

    def __init__(self, params: MultiDict):
        super().__init__("GET", request.url, headers=request.headers)
        self.payload = ParamsPayload(params)
        self.login_session = None
        self.resource = None

    @property
    def args(self):
        return self.payload.data

    @property
    def form(self):
        return MultiDict()


# -- interactions --------------------------------------------------------------

def save_interaction(params: MultiDict) -> Interaction:
    now = utcnow()
    interaction = Interaction(
        id=new_secret(24), params=list(params.items(multi=True)), created_at=now, expires_at=now + INTERACTION_TTL
    )
    db.session.add(interaction)
    db.session.commit()
    session[SESSION_KEY] = (session.get(SESSION_KEY, []) + [interaction.id])[-5:]
    return interaction


def load_interaction(interaction_id: str | None) -> Interaction | None:
    if not interaction_id or interaction_id not in session.get(SESSION_KEY, []):
        return None
    interaction = db.session.get(Interaction, interaction_id)
    if interaction is None or interaction.expires_at <= utcnow():
        return None
    return interaction


# -- the checks ------------------------------------------------------------------

def check_parameter_sizes(params: MultiDict) -> None:
    limit = current_app.config["IDP_MAX_PARAM_LENGTH"]
    for key, value in params.items(multi=True):
        if len(key) > 64 or len(value) > limit:
            raise InvalidRequestError(f"Parameter '{key[:64]}' is too long.")


def _max_age(params: MultiDict) -> int | None:
    raw = params.get("max_age")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 10:
        return -1
    return int(raw)


def fresh_login(login, interaction: Interaction | None) -> bool:
    """The user logged in after this request started (so prompt=login is honoured)."""
    return interaction is not None and login is not None and login.auth_time >= interaction.created_at


class UnmetAuthenticationRequirementsError(OAuth2Error):
    """OpenID Connect Unmet Authentication Requirements 1.0 §2: an essential ``acr`` no login here can give."""

    error = "unmet_authentication_requirements"


def _acr_claim(params: MultiDict) -> dict | None:
    """The ``acr`` member of ``id_token`` in the ``claims`` parameter (OIDC Core §5.5), if any."""
    raw = params.get("claims")
    if not raw:
        return None
    try:
        claims = json.loads(raw)
    except ValueError:
        raise InvalidRequestError("'claims' must be a JSON object.") from None
    if not isinstance(claims, dict):
        raise InvalidRequestError("'claims' must be a JSON object.")
    id_token = claims.get("id_token")
    if id_token is None:
        return None
    if not isinstance(id_token, dict):
        raise InvalidRequestError("'claims.id_token' must be a JSON object.")
    acr = id_token.get("acr")
    if acr is not None and not isinstance(acr, dict):
        raise InvalidRequestError("'claims.id_token.acr' must be null or a JSON object.")
    return acr


def _weakest(values) -> str | None:
    known = [value for value in values if is_acr(value)]
    return min(known, key=acr_rank) if known else None


def requested_acr(params: MultiDict) -> str | None:
    """The level a session needs for this request, ``None`` when any will do.

    Levels are ordered (``scopes.acr``), so of several values the weakest
    is the requirement: a session at that level or above satisfies the
    request, and the ID token then says the level the session really has.
    ``acr_values`` (Core §3.1.2.1) counts as a requirement here, as at the
    French public SSOs, though Core calls it voluntary; unknown values are
    ignored. An essential ``acr`` claim with values none of which is known
    cannot be met: ``unmet_authentication_requirements``. When both are
    given, both must be met.
    """
    levels = [_weakest((params.get("acr_values") or "").split())]
    claim = _acr_claim(params)
    if claim:
        values = claim.get("values")
        if values is None and "value" in claim:
            values = [claim["value"]]
        if values is not None and not isinstance(values, list):
            raise InvalidRequestError("'claims.id_token.acr.values' must be an array.")
        level = _weakest(values or [])
        if claim.get("essential") is True and values and level is None:
            raise UnmetAuthenticationRequirementsError(
                "None of the requested 'acr' values is supported: " + " ".join(ACR_VALUES) + ".")
        levels.append(level)
    wanted = [level for level in levels if level is not None]
    return max(wanted, key=acr_rank) if wanted else None


def session_meets_acr(login, params: MultiDict) -> bool:
    """Whether ``login`` is strong enough for the level this request asks."""
    try:
        required = requested_acr(params)
    except OAuth2Error:
        # A malformed request: refused by check_acr_request once the redirect
        # URI is validated; until then, no session answers it.
        return False
    return required is None or acr_satisfies(login.acr, required)


def check_acr_request(grant, params: MultiDict) -> None:
    try:
        requested_acr(params)
    except OAuth2Error as error:
        error.redirect_uri = grant.redirect_uri
        raise


def login_satisfies(login, params: MultiDict, interaction: Interaction | None, now: datetime) -> bool:
    """Whether the current session may answer this request without a new login."""
    if login is None:
        return False
    # Even a login made for this very request must reach the level asked:
    # logging in again with the password does not answer a request for eidas3.
    if not session_meets_acr(login, params):
        return False
    if fresh_login(login, interaction):
        return True
    prompts = (params.get("prompt") or "").split()
    if "login" in prompts:
        return False
    max_age = _max_age(params)
    # max_age=0 is OIDC's way of saying prompt=login (Core §3.1.2.1).
    if max_age is not None and (max_age <= 0 or login.auth_time + timedelta(seconds=max_age) < now):
        return False
    return True


def check_max_age(grant, params: MultiDict) -> None:
    if _max_age(params) == -1:
        raise InvalidRequestError("'max_age' must be a non-negative integer.", redirect_uri=grant.redirect_uri)


def check_resource(grant, oauth_request) -> None:
    try:
        oauth_request.resource = requested_resource(oauth_request, grant.client)
    except OAuth2Error as error:
        error.redirect_uri = grant.redirect_uri
        raise


def error_response(oauth_request, error: OAuth2Error):
    """Redirect the error to a verified redirect URI, or show it as a page."""
    if getattr(error, "redirect_uri", None):
        error.state = oauth_request.payload.state
        response = authorization.handle_error_response(oauth_request, error)
        issuer_parameter.add_issuer_parameter(authorization, response)
        return response
    db.session.rollback()
    return render_template("oauth/error.html", error=error), error.status_code or 400


def run(params: MultiDict, interaction: Interaction | None = None):
    """The whole authorization request, from parameters to redirect or page."""
    oauth_request = AuthorizationRequest(params)
    now = utcnow()
    remember_ui_locales(params.get("ui_locales"))
    try:
        check_parameter_sizes(params)
        login = current_login()
        end_user = login.user if login_satisfies(login, params, interaction, now) else None
        grant = authorization.get_consent_grant(request=oauth_request, end_user=end_user)
        check_max_age(grant, params)
        check_acr_request(grant, params)
        check_resource(grant, oauth_request)
        prompts = (params.get("prompt") or "").split()
        if end_user is None:
            if "none" in prompts:
                raise LoginRequiredError(redirect_uri=grant.redirect_uri)
            return redirect(url_for("auth.login", interaction=save_interaction(params).id))
        consented = interaction is not None and interaction.consented_at is not None
        if not consented and ("consent" in prompts or not has_consent(end_user.id, grant.client, oauth_request.scope)):
            if "none" in prompts:
                raise ConsentRequiredError(redirect_uri=grant.redirect_uri)
            interaction = interaction or save_interaction(params)
            return render_template(
                "oauth/consent.html", client=grant.client, scopes=oauth_request.scope.split(), interaction=interaction
            )
        oauth_request.login_session = login
        response = authorization.create_authorization_response(request=oauth_request, grant_user=end_user, grant=grant)
        db.session.commit()
        return response
    except OAuth2Error as error:
        return error_response(oauth_request, error)


def deny(params: MultiDict):
    """The user refused: ``access_denied`` to the client (RFC 6749 §4.1.2.1)."""
    oauth_request = AuthorizationRequest(params)
    try:
        grant = authorization.get_consent_grant(request=oauth_request, end_user=current_login().user)
    except OAuth2Error as error:
        return error_response(oauth_request, error)
    return authorization.create_authorization_response(request=oauth_request, grant_user=None, grant=grant)
