"""JSON API ``/api/v1`` for délégations, for firm software.

The same services as the pages, acting for the user of an access token
this provider issued (RFC 6750 bearer, RFC 9068 JWT) that carries the
``delegations`` scope and is meant for this API (``aud`` is the issuer or
``<issuer>/api/v1``). Errors are RFC 9457 problem details with a stable
``code``; the operations are described at ``/api/v1/openapi.json``.
Bearer tokens are not sent by browsers on their own, so there is no CSRF
to guard against here.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from http import HTTPStatus

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from scopes import default_catalogue

from ..accounts.models import User
from ..db import utcnow
from ..errors import Forbidden, IdpError, InvalidInput
from ..extensions import csrf, db
from ..firms.models import Firm
from ..firms.siret import normalise_siret
from ..oauth.tokens import verify_access_token
from . import services
from .audit import decoded
from .openapi import openapi_document
from .rules import ends_at_of_day
from .states import effective_state

log = logging.getLogger(__name__)

bp = Blueprint("delegations_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

SCOPE = "delegations"
PROBLEM = "application/problem+json"
MAX_PER_PAGE = 100


# -- problem details (RFC 9457) ---------------------------------------------------------------------
def problem(status: int, code: str, detail: str, headers: dict | None = None, **extra):
    """An ``application/problem+json`` answer; ``type`` names the code, ``title`` the status."""
    body = {"type": f"urn:comptexpert:problem:{code}", "title": HTTPStatus(status).phrase, "status": status,
            "detail": detail, "code": code, **{k: v for k, v in extra.items() if v is not None}}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.errorhandler(IdpError)
def _domain_error(error: IdpError):
    db.session.rollback()
    extra = {"field": error.field}
    if isinstance(error, services.InvalidCollaborators):
        extra["rows"] = [_row_json(row) for row in error.rows]
    return problem(error.status, error.code, error.message, **extra)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    db.session.rollback()
    code = (error.name or "error").lower().replace(" ", "_")
    return problem(error.code or 500, code, error.description or "")


@bp.errorhandler(DBAPIError)
def _database_error(error: DBAPIError):
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; nothing to roll back
        pass
    log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else type(error).__name__)
    return problem(503, "temporarily_unavailable", "Service temporarily unavailable.", {"Retry-After": "5"})


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    log.exception("unexpected error in the API")
    db.session.rollback()
    return problem(500, "server_error", "Unexpected error.")


# -- bearer tokens (RFC 6750) -----------------------------------------------------------------------
def _challenge(status: int, code: str, detail: str, error: str | None = None):
    """401/403 with ``WWW-Authenticate`` (RFC 6750 §3); no ``error`` when no token was sent (§3.1)."""
    parts = ['Bearer realm="comptexpert"']
    if error:
        parts.append(f'error="{error}"')
        parts.append(f'error_description="{detail}"')
    if error == "insufficient_scope":
        parts.append(f'scope="{SCOPE}"')
    return problem(status, code, detail, {"WWW-Authenticate": ", ".join(parts)})


def api_audiences() -> set[str]:
    issuer = current_app.config["IDP_ISSUER"]
    return {issuer, issuer + "/api/v1"}


@bp.before_request
def _authenticate():
    if request.endpoint == "delegations_api.openapi":
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _challenge(401, "missing_token", "A bearer access token with the delegations scope is required.")
    verified = verify_access_token(token)
    if verified is None:
        return _challenge(401, "invalid_token", "The access token is invalid, expired or revoked.", "invalid_token")
    audience = verified.claims.get("aud")
    audiences = set(audience) if isinstance(audience, list) else {audience}
    if not audiences & api_audiences():
        return _challenge(401, "invalid_token", "The access token is not meant for this API.", "invalid_token")
    user = db.session.get(User, verified.record.user_id) if verified.record.user_id else None
    if user is None or not user.active:
        # A client_credentials token acts for no one: this API acts for a person.
        return _challenge(401, "invalid_token", "The access token does not act for a user.", "invalid_token")
    if SCOPE not in verified.scope.split():
        return _challenge(403, "insufficient_scope", "The access token lacks the delegations scope.",
                          "insufficient_scope")
    g.api_user = user
    g.api_via = f"api:{verified.claims.get('client_id', '')}"[:100]
    return None


# -- input --------------------------------------------------------------------------------------------
def _body() -> dict:
    data = request.get_json(silent=True)
    if data is None and not request.get_data():
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.", code="invalid_json")
    return data


def _list_of_strings(data: dict, name: str, required: bool = True) -> list[str] | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"'{name}' must be an array of strings.", code="invalid_json", field=name)
    return value


def _string(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string.", code="invalid_json", field=name)
    return value


def _moment(data: dict, name: str = "ends_at") -> datetime | None:
    """An RFC 3339 date-time (UTC when it has no offset), or a date (the start of that day, UTC)."""
    value = _string(data, name)
    if value is None:
        return None
    try:
        if len(value) == 10:
            return ends_at_of_day(date.fromisoformat(value))
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"'{name}' must be an RFC 3339 date-time.", code="invalid_datetime",
                           field=name) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _firm_id(data: dict) -> int:
    if data.get("firm_id") is not None:
        if not isinstance(data["firm_id"], int) or isinstance(data["firm_id"], bool):
            raise InvalidInput("'firm_id' must be an integer.", code="invalid_json", field="firm_id")
        return data["firm_id"]
    siret = _string(data, "siret")
    if not siret:
        raise InvalidInput("Give 'firm_id' or 'siret'.", code="invalid_firm", field="firm_id")
    firm_id = db.session.scalar(select(Firm.id).where(Firm.siret == normalise_siret(siret)[:14]))
    if firm_id is None:
        raise Forbidden("Vous n'exercez pas dans cette société d'exercice.", code="not_expert_of_firm")
    return firm_id


# -- output -------------------------------------------------------------------------------------------
def _iso(moment: datetime | None) -> str | None:
    return moment.replace(microsecond=0).isoformat() + "Z" if moment is not None else None


def _user_json(user, email: str | None = None) -> dict:
    if user is None:
        return {"identifiant": None, "name": None, "email": email}
    return {"identifiant": user.identifiant, "name": user.name, "email": user.email}


def delegation_json(d, now: datetime | None = None) -> dict:
    """A delegation as the API shows it; ``state`` is the effective state (``expired`` included)."""
    now = now or utcnow()
    return {
        "id": d.id,
        "state": effective_state(d.state, d.ends_at, now),
        "firm": {"id": d.firm.id, "siret": d.firm.siret, "raison_sociale": d.firm.raison_sociale,
                 "city": d.firm.city},
        "grantor": _user_json(d.grantor),
        "grantee": _user_json(d.grantee, d.grantee_email),
        "rights": d.rights,
        "starts_at": _iso(d.starts_at),
        "ends_at": _iso(d.ends_at),
        "created_at": _iso(d.created_at),
        "updated_at": _iso(d.updated_at),
        "message": d.message,
        "reason": d.reason,
    }


def _page_json(page, now) -> dict:
    return {"items": [delegation_json(d, now) for d in page.items], "page": page.page, "per_page": page.per_page,
            "total": page.total, "pages": page.pages}


def _row_json(row) -> dict:
    return {"line": row.line, "value": row.value, "email": row.email, "problem": row.problem,
            "message": row.message, "account": row.account.identifiant if row.account is not None else None}


def _per_page() -> int:
    try:
        return max(1, min(int(request.args.get("per_page", services.PER_PAGE)), MAX_PER_PAGE))
    except ValueError:
        raise InvalidInput("'per_page' must be an integer.", code="invalid_query", field="per_page") from None


def _done(payload, status: int = 200):
    """Commit the one transaction of a writing request, then answer."""
    db.session.commit()
    return jsonify(payload), status


# -- operations ---------------------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["IDP_ISSUER"]))


@bp.get("/rights")
def rights():
    return jsonify({"items": [
        {"id": r.id, "site": r.site_id, "audience": r.audience, "label": {"fr": r.label.fr, "en": r.label.en},
         "min_acr": r.min_acr, "personal": r.personal}
        for r in default_catalogue().delegable_rights()
    ]})


@bp.get("/firms")
def firms():
    return jsonify({"items": [{"id": f.id, "siret": f.siret, "raison_sociale": f.raison_sociale, "city": f.city}
                              for f in services.firms_for_delegation(g.api_user)]})


@bp.get("/delegations")
def list_delegations():
    now = utcnow()
    page = services.list_given(g.api_user, firm_id=request.args.get("firm_id"), q=request.args.get("q"),
                               state=request.args.get("state") or None, page=request.args.get("page"),
                               per_page=_per_page(), now=now)
    return jsonify(_page_json(page, now))


@bp.post("/delegations")
def create_delegations():
    data = _body()
    created = services.create_delegations(
        g.api_user, _firm_id(data), _list_of_strings(data, "collaborators"), _list_of_strings(data, "rights"),
        _moment(data), via=g.api_via,
    )
    now = utcnow()
    return _done({"items": [delegation_json(d, now) for d in created]}, 201)


@bp.get("/delegations/<int:delegation_id>")
def get_delegation(delegation_id: int):
    return jsonify(delegation_json(services.load_delegation(g.api_user, delegation_id)))


@bp.patch("/delegations/<int:delegation_id>")
def change_rights(delegation_id: int):
    data = _body()
    delegation = services.change_rights(g.api_user, delegation_id, _list_of_strings(data, "rights"), via=g.api_via)
    return _done(delegation_json(delegation))


@bp.post("/delegations/<int:delegation_id>/extend")
def extend(delegation_id: int):
    ends_at = _moment(_body())
    if ends_at is None:
        raise InvalidInput("'ends_at' is required.", code="invalid_json", field="ends_at")
    return _done(delegation_json(services.extend(g.api_user, delegation_id, ends_at, via=g.api_via)))


@bp.post("/delegations/<int:delegation_id>/deactivate")
def deactivate(delegation_id: int):
    return _done(delegation_json(services.deactivate(g.api_user, delegation_id, via=g.api_via)))


@bp.post("/delegations/<int:delegation_id>/activate")
def activate(delegation_id: int):
    return _done(delegation_json(services.activate(g.api_user, delegation_id, via=g.api_via)))


@bp.delete("/delegations/<int:delegation_id>")
def remove(delegation_id: int):
    services.remove(g.api_user, delegation_id, via=g.api_via)
    db.session.commit()
    return "", 204


@bp.get("/delegations/<int:delegation_id>/history")
def history(delegation_id: int):
    return jsonify({"items": [
        {"seq": e.seq, "at": _iso(e.at), "actor": e.actor, "acting_as": e.acting_as, "via": e.via,
         "action": e.action, "before": decoded(e.before), "after": decoded(e.after), "hash": e.hash}
        for e in services.history(g.api_user, delegation_id)
    ]})


@bp.get("/pending")
def pending():
    now = utcnow()
    requests_, invitations = services.list_pending(g.api_user, page=request.args.get("page"),
                                                   per_page=_per_page(), now=now)
    return jsonify({"requests": [delegation_json(d, now) for d in requests_],
                    "invitations": _page_json(invitations, now)})


@bp.post("/requests")
def create_request():
    data = _body()
    delegation = services.request_delegation(
        g.api_user, _string(data, "expert") or "", _string(data, "siret") or "", _list_of_strings(data, "rights"),
        _string(data, "message"), _moment(data), via=g.api_via,
    )
    return _done(delegation_json(delegation), 201)


@bp.post("/requests/<int:delegation_id>/approve")
def approve(delegation_id: int):
    data = _body()
    delegation = services.approve_request(g.api_user, delegation_id, _list_of_strings(data, "rights", False),
                                          _moment(data), via=g.api_via)
    return _done(delegation_json(delegation))


@bp.post("/requests/<int:delegation_id>/refuse")
def refuse(delegation_id: int):
    data = _body()
    delegation = services.refuse_request(g.api_user, delegation_id, _string(data, "reason") or "", via=g.api_via)
    return _done(delegation_json(delegation))


@bp.post("/requests/<int:delegation_id>/cancel")
def cancel(delegation_id: int):
    return _done(delegation_json(services.cancel_request(g.api_user, delegation_id, via=g.api_via)))


@bp.get("/received")
def received():
    now = utcnow()
    return jsonify({"items": [delegation_json(d, now) for d in services.list_received(g.api_user)],
                    "requests": [delegation_json(d, now) for d in services.list_requests(g.api_user)]})


@bp.delete("/received/<int:delegation_id>/rights/<right_id>")
def give_up(delegation_id: int, right_id: str):
    return _done(delegation_json(services.give_up(g.api_user, delegation_id, right_id, via=g.api_via)))
