"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand next to the views it describes (``api.py``); the test
suite validates it and checks that every route of the blueprint is in it.
"""
from __future__ import annotations


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


ERRORS = {
    "400": _problem("Invalid input (``code`` says what: ``invalid_json``, ``unknown_right``, "
                    "``right_not_delegable``, ``ends_at_beyond_one_year``, ``invalid_collaborators``...)."),
    "401": _problem("No token, or an invalid, expired, revoked or foreign one (``WWW-Authenticate: Bearer``)."),
    "403": _problem("Not allowed (``insufficient_scope``, ``not_an_expert``, ``not_expert_of_firm``, "
                    "``grantor_only``, ``grantee_only``, ``self_delegation``)."),
}
NOT_FOUND = {"404": _problem("No such delegation among those you are party to (``delegation_not_found``).")}
CONFLICT = {"409": _problem("The delegation's state forbids it (``cannot_<action>_<state>``), "
                            "or it changed meanwhile (``concurrent_change``).")}

ID = {"name": "delegation_id", "in": "path", "required": True, "schema": {"type": "integer"}}
PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}
PER_PAGE = {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}


def _op(operation_id: str, summary: str, responses: dict, *, body: str | None = None, params=(),
        tag: str = "delegations", extra_errors: dict | None = None) -> dict:
    operation = {
        "operationId": operation_id, "summary": summary, "tags": [tag],
        "responses": {**responses, **ERRORS, **(extra_errors or {})},
    }
    if params:
        operation["parameters"] = list(params)
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return operation


SCHEMAS = {
    "Problem": {
        "type": "object", "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri", "examples": ["urn:comptexpert:problem:unknown_right"]},
            "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
            "code": {"type": "string", "description": "Stable machine-readable code."},
            "field": {"type": "string", "description": "The input field at fault, if one is."},
            "rows": {"type": "array", "items": _ref("CollaboratorRow"),
                     "description": "With ``invalid_collaborators``: every line, each with its problem or null."},
        },
    },
    "Person": {
        "type": "object", "required": ["identifiant", "name", "email"],
        "properties": {"identifiant": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]},
                       "email": {"type": ["string", "null"]}},
    },
    "Firm": {
        "type": "object", "required": ["id", "siret", "raison_sociale", "city"],
        "properties": {"id": {"type": "integer"}, "siret": {"type": "string", "pattern": "^[0-9]{14}$"},
                       "raison_sociale": {"type": "string"}, "city": {"type": "string"}},
    },
    "Delegation": {
        "type": "object",
        "required": ["id", "state", "firm", "grantor", "grantee", "rights", "starts_at", "ends_at"],
        "properties": {
            "id": {"type": "integer"},
            "state": {"type": "string", "enum": ["pending_account", "requested", "active", "deactivated", "refused",
                                                 "expired", "removed"]},
            "firm": _ref("Firm"), "grantor": _ref("Person"), "grantee": _ref("Person"),
            "rights": {"type": "array", "items": {"type": "string", "examples": ["jesignexpert:signer"]}},
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time",
                        "description": "The delegation no longer applies from this instant."},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "message": {"type": ["string", "null"]}, "reason": {"type": ["string", "null"]},
        },
    },
    "DelegationPage": {
        "type": "object", "required": ["items", "page", "per_page", "total", "pages"],
        "properties": {"items": {"type": "array", "items": _ref("Delegation")}, "page": {"type": "integer"},
                       "per_page": {"type": "integer"}, "total": {"type": "integer"}, "pages": {"type": "integer"}},
    },
    "DelegationList": {
        "type": "object", "required": ["items"],
        "properties": {"items": {"type": "array", "items": _ref("Delegation")}},
    },
    "Received": {
        "type": "object", "required": ["items", "requests"],
        "properties": {"items": {"type": "array", "items": _ref("Delegation")},
                       "requests": {"type": "array", "items": _ref("Delegation")}},
    },
    "Pending": {
        "type": "object", "required": ["requests", "invitations"],
        "properties": {"requests": {"type": "array", "items": _ref("Delegation")},
                       "invitations": _ref("DelegationPage")},
    },
    "Right": {
        "type": "object", "required": ["id", "site", "audience", "label", "min_acr", "personal"],
        "properties": {"id": {"type": "string"}, "site": {"type": "string"}, "audience": {"type": "string"},
                       "label": {"type": "object", "properties": {"fr": {"type": "string"},
                                                                  "en": {"type": "string"}}},
                       "min_acr": {"type": "string"}, "personal": {"type": "boolean"}},
    },
    "CollaboratorRow": {
        "type": "object", "required": ["line", "value", "problem"],
        "properties": {"line": {"type": "integer"}, "value": {"type": "string"},
                       "email": {"type": ["string", "null"]}, "account": {"type": ["string", "null"]},
                       "problem": {"type": ["string", "null"],
                                   "enum": ["invalid_email", "duplicate", "self", "already_delegated", None]},
                       "message": {"type": ["string", "null"]}},
    },
    "AuditEntry": {
        "type": "object", "required": ["seq", "at", "actor", "acting_as", "via", "action", "hash"],
        "properties": {"seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                       "actor": {"type": "string"}, "acting_as": {"type": "string"}, "via": {"type": "string"},
                       "action": {"type": "string"}, "before": {"type": ["object", "null"]},
                       "after": {"type": ["object", "null"]}, "hash": {"type": "string"}},
    },
    "CreateDelegations": {
        "type": "object", "required": ["collaborators", "rights"],
        "description": "All or nothing: one bad line and nothing is created. Give ``firm_id`` or ``siret``.",
        "properties": {
            "firm_id": {"type": "integer"}, "siret": {"type": "string"},
            "collaborators": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 1},
            "rights": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "ends_at": {"type": "string", "format": "date-time",
                        "description": "At most one year from now; one year by default."},
        },
    },
    "CreateRequest": {
        "type": "object", "required": ["expert", "siret", "rights"],
        "properties": {
            "expert": {"type": "string", "description": "The expert's email or identifiant."},
            "siret": {"type": "string"}, "rights": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "message": {"type": "string", "maxLength": 1000},
            "ends_at": {"type": "string", "format": "date-time"},
        },
    },
    "Approve": {
        "type": "object",
        "properties": {
            "rights": {"type": "array", "items": {"type": "string"}, "description": "The rights asked, or fewer."},
            "ends_at": {"type": "string", "format": "date-time"},
        },
    },
    "Refuse": {"type": "object", "required": ["reason"],
               "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}}},
    "Extend": {"type": "object", "required": ["ends_at"],
               "properties": {"ends_at": {"type": "string", "format": "date-time",
                                          "description": "After now and at most one year from now."}}},
    "ChangeRights": {"type": "object", "required": ["rights"],
                     "properties": {"rights": {"type": "array", "items": {"type": "string"}, "minItems": 1}}},
}


def openapi_document(issuer: str) -> dict:
    """The document, with the provider's own URLs."""
    one = {"200": _json(_ref("Delegation"), "The delegation after the change.")}
    paths = {
        "/rights": {"get": _op("listRights", "The rights an expert may delegate (the catalogue).",
                               {"200": _json({"type": "object", "properties": {
                                   "items": {"type": "array", "items": _ref("Right")}}}, "The rights.")},
                               tag="catalogue")},
        "/firms": {"get": _op("listFirms", "The firms the caller may delegate for (an expert's firms).",
                              {"200": _json({"type": "object", "properties": {
                                  "items": {"type": "array", "items": _ref("Firm")}}}, "The firms.")},
                              tag="catalogue")},
        "/delegations": {
            "get": _op("listDelegations", "Delegations the caller gave, by firm then collaborator.",
                       {"200": _json(_ref("DelegationPage"), "A page of delegations.")},
                       params=[{"name": "firm_id", "in": "query", "schema": {"type": "integer"}},
                               {"name": "q", "in": "query", "schema": {"type": "string"},
                                "description": "Matches the collaborator's email, names or identifiant."},
                               {"name": "state", "in": "query",
                                "schema": {"type": "string",
                                           "enum": ["active", "deactivated", "expired", "pending_account"]}},
                               PAGE, PER_PAGE]),
            "post": _op("createDelegations", "Give rights of a firm to collaborators (typed emails).",
                        {"201": _json(_ref("DelegationList"), "The delegations created, active or pending.")},
                        body="CreateDelegations"),
        },
        "/delegations/{delegation_id}": {
            "get": _op("getDelegation", "One delegation the caller is party to.",
                       {"200": _json(_ref("Delegation"), "The delegation.")}, params=[ID], extra_errors=NOT_FOUND),
            "patch": _op("changeRights", "Replace the rights of a delegation (grantor).", one, body="ChangeRights",
                         params=[ID], extra_errors={**NOT_FOUND, **CONFLICT}),
            "delete": _op("removeDelegation", "Remove a delegation (grantor).",
                          {"204": {"description": "Removed."}}, params=[ID], extra_errors={**NOT_FOUND, **CONFLICT}),
        },
        "/delegations/{delegation_id}/extend": {
            "post": _op("extendDelegation", "Set a new expiry, at most one year from now (grantor).", one,
                        body="Extend", params=[ID], extra_errors={**NOT_FOUND, **CONFLICT}),
        },
        "/delegations/{delegation_id}/deactivate": {
            "post": _op("deactivateDelegation", "Suspend an active delegation (grantor).", one, params=[ID],
                        extra_errors={**NOT_FOUND, **CONFLICT}),
        },
        "/delegations/{delegation_id}/activate": {
            "post": _op("activateDelegation", "Resume a deactivated delegation (grantor).", one, params=[ID],
                        extra_errors={**NOT_FOUND, **CONFLICT}),
        },
        "/delegations/{delegation_id}/history": {
            "get": _op("delegationHistory", "The audit trail of a delegation (grantor).",
                       {"200": _json({"type": "object", "properties": {
                           "items": {"type": "array", "items": _ref("AuditEntry")}}}, "Oldest first.")},
                       params=[ID], extra_errors=NOT_FOUND),
        },
        "/pending": {
            "get": _op("listPending", "Requests waiting for the caller and invitations not yet accepted.",
                       {"200": _json(_ref("Pending"), "What waits.")}, params=[PAGE, PER_PAGE]),
        },
        "/requests": {
            "post": _op("createRequest", "Ask an expert for rights in one of his firms.",
                        {"201": _json(_ref("Delegation"), "The request, in state requested.")},
                        body="CreateRequest", tag="requests", extra_errors=CONFLICT),
        },
        "/requests/{delegation_id}/approve": {
            "post": _op("approveRequest", "Approve a request, with the rights asked or fewer (expert).", one,
                        body="Approve", params=[ID], tag="requests", extra_errors={**NOT_FOUND, **CONFLICT}),
        },
        "/requests/{delegation_id}/refuse": {
            "post": _op("refuseRequest", "Refuse a request with a reason (expert).", one, body="Refuse",
                        params=[ID], tag="requests", extra_errors={**NOT_FOUND, **CONFLICT}),
        },
        "/requests/{delegation_id}/cancel": {
            "post": _op("cancelRequest", "Withdraw one's own request (collaborator).", one, params=[ID],
                        tag="requests", extra_errors={**NOT_FOUND, **CONFLICT}),
        },
        "/received": {
            "get": _op("listReceived", "Delegations the caller received, and his requests.",
                       {"200": _json(_ref("Received"), "Received delegations and requests.")}, tag="received"),
        },
        "/received/{delegation_id}/rights/{right_id}": {
            "delete": _op("giveUpRight", "Give one right up (collaborator); no right left removes the delegation.",
                          one, params=[ID, {"name": "right_id", "in": "path", "required": True,
                                            "schema": {"type": "string"}}],
                          tag="received", extra_errors={**NOT_FOUND, **CONFLICT}),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Comptexpert délégations API", "version": "1.0.0",
            "description": "Délégations of the Ordre des Experts-Comptables: an expert gives rights of his firm "
                           "to collaborators, one year at most; collaborators ask for rights. Every operation "
                           "acts for the user of the access token, who must be party to what he reads or changes.",
        },
        "servers": [{"url": issuer + "/api/v1"}],
        "security": [{"oauth2": ["delegations"]}],
        "tags": [{"name": "delegations"}, {"name": "requests"}, {"name": "received"}, {"name": "catalogue"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": "Access tokens of this provider, for audience <issuer>/api/v1 (RFC 8707 "
                                   "resource) or the issuer, sent as RFC 6750 bearer tokens.",
                    "flows": {"authorizationCode": {
                        "authorizationUrl": issuer + "/authorize", "tokenUrl": issuer + "/token",
                        "refreshUrl": issuer + "/token",
                        "scopes": {"delegations": "Manage délégations for the user."},
                    }},
                },
            },
        },
    }
