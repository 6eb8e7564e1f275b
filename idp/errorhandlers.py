"""The one place where errors become HTTP answers."""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from .errors import IdpError
from .extensions import db

log = logging.getLogger(__name__)

MACHINE_PREFIXES = ("/token", "/revoke", "/introspect", "/userinfo", "/api/", "/jwks.json", "/.well-known/")


def _wants_json() -> bool:
    return request.path.startswith(MACHINE_PREFIXES) or request.accept_mimetypes.best == "application/json"


def handle_domain_error(error: IdpError):
    db.session.rollback()
    if _wants_json():
        return jsonify(error=error.code, error_description=error.message), error.status
    return render_template("error.html", status=error.status, message=error.message), error.status


def handle_http_error(error: HTTPException):
    if _wants_json():
        body = {"error": "invalid_request" if error.code == 413 else error.name.lower().replace(" ", "_")}
        return jsonify(body), error.code
    return render_template("error.html", status=error.code, message=error.description), error.code


def handle_csrf_error(error: CSRFError):
    # Flask-WTF's own text is English and technical; people need to know
    # what to do. Forged requests get the same answer: nothing was done.
    db.session.rollback()
    message = _("Ce formulaire a expiré ou ne vient pas de Comptexpert : rien n'a été fait. "
                "Rechargez la page et recommencez.")
    if _wants_json():
        return jsonify(error="invalid_request", error_description="CSRF token missing or invalid."), 400
    return render_template("error.html", status=400, message=message), 400


def handle_database_unavailable(error: DBAPIError):
    # The database went away: say so and when to come back, never a stack
    # trace; the pool's pre-ping reconnects once it is back.
    cause = getattr(error, "orig", None) or error  # a pool timeout has no driver error
    log.error("database unavailable: %s", type(cause).__name__)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; nothing to roll back
        pass
    headers = {"Retry-After": "5"}
    if _wants_json():
        return jsonify(error="temporarily_unavailable", error_description="Service temporarily unavailable."), 503, headers
    return render_template("unavailable.html"), 503, headers


def handle_unexpected(error: Exception):
    log.exception("unexpected error")
    db.session.rollback()
    if _wants_json():
        return jsonify(error="server_error"), 500
    return render_template("error.html", status=500, message=None), 500


def init_app(app) -> None:
    app.register_error_handler(IdpError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InterfaceError, handle_database_unavailable)
    app.register_error_handler(PoolTimeoutError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
