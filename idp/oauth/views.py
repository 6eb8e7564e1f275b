"""Routes of the protocol endpoints; each delegates to Authlib or an endpoint module."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ..auth.forms import ConfirmForm
from ..auth.views import logout_current_session
from ..db import utcnow
from ..extensions import csrf, db
from ..sessions.web import current_login
from ..signing.services import load_ring
from .consent import grant_consent
from .endpoints import authorize as authorize_endpoint
from .endpoints.discovery import provider_metadata
from .server import authorization, query_client

bp = Blueprint("oauth", __name__)


# The token of an introspection or revocation request may be a large JWT;
# every other parameter is short.
_LONG_PARAMETERS = {"token": 16384, "client_assertion": 8192, "subject_token": 16384}


@bp.before_request
def check_parameter_sizes():
    """Oversized parameters are refused before any work (``invalid_request``)."""
    if request.method != "POST" or request.endpoint not in ("oauth.token", "oauth.revoke", "oauth.introspect"):
        return None
    limit = current_app.config["IDP_MAX_PARAM_LENGTH"]
    for key, value in request.form.items(multi=True):
        if len(key) > 64 or len(value) > _LONG_PARAMETERS.get(key, limit):
            response = jsonify(error="invalid_request", error_description=f"Parameter '{key[:64]}' is too long.")
            response.headers["Cache-Control"] = "no-store"
            return response, 400
    return None


def _json(data, max_age: int):
    response = jsonify(data)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery():
    return _json(provider_metadata(), 3600)


@bp.get("/jwks.json")
def jwks():
    # Short cache: relying sites see a key published as "next" long before
    # it signs, and drop a retired one soon after it stops being needed.
    return _json(load_ring().jwks, 300)


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt  # OIDC Core §3.1.2.1 allows POST of the request itself, from the relying site
def authorize():
    return authorize_endpoint.run(MultiDict(request.values.items(multi=True)))


@bp.get("/authorize/resume")
def authorize_resume():
    interaction = authorize_endpoint.load_interaction(request.args.get("interaction"))
    if interaction is None:
        return render_template("oauth/expired.html"), 400
    return authorize_endpoint.run(MultiDict(interaction.params), interaction)


@bp.post("/authorize/consent")
def consent():
    form = ConfirmForm()
    interaction = authorize_endpoint.load_interaction(request.form.get("interaction"))
    login = current_login()
    if interaction is None or login is None or not form.validate_on_submit():
        return render_template("oauth/expired.html"), 400
    params = MultiDict(interaction.params)
    if request.form.get("decision") != "allow":
        return authorize_endpoint.deny(params)
    client = query_client(params.get("client_id"))
    scope = client.get_allowed_scope(params.get("scope")) if client else None
    if not scope:
        return render_template("oauth/expired.html"), 400
    grant_consent(login.user_id, client.client_id, scope)
    interaction.consented_at = utcnow()
    db.session.commit()
    return authorize_endpoint.run(params, interaction)


def _transactional(response):
    # One transaction per protocol request: a failed request writes nothing
    # (except reuse and replay revocations, committed where detected).
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


@bp.post("/token")
@csrf.exempt
def token():
    return _transactional(authorization.create_token_response())


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo():
    response = authorization.create_endpoint_response("userinfo")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/revoke")
@csrf.exempt
def revoke():
    return _transactional(authorization.create_endpoint_response("revocation"))


@bp.post("/introspect")
@csrf.exempt
def introspect():
    response = authorization.create_endpoint_response("introspection")
    response.headers["Cache-Control"] = "no-store"
    return _transactional(response)


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt  # checked below, only for the confirmation form
def end_session():
    from authlib.oauth2.rfc6749.errors import OAuth2Error

    if request.method == "POST" and not ConfirmForm().validate_on_submit():
        return render_template("oauth/expired.html"), 400
    try:
        validated = authorization.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return render_template("oauth/error.html", error=error), 400
    if request.method == "GET" and validated.needs_confirmation:
        return render_template("oauth/logout_confirm.html", form=ConfirmForm(), params=request.args)
    response = authorization.create_endpoint_response("end_session", validated)
    if response is None:
        response = redirect(url_for("auth.logged_out"))
    return logout_current_session(response)
