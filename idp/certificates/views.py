"""SIGNEXPERT pages: log in with a certificate, bind one in Sécurité, remove one; ``idp serve-tls``.

These pages read the certificate of the TLS connection, so in production
they are served on an origin that asks browsers for one
(``IDP_CERTIFICATE_LOGIN_URL``, see ``deploy/nginx-signexpert.conf``); the
rest of the site never asks. Cookies do not depend on the port, so the
session opened here is the provider's session, and every page sends the
browser back to the issuer when it is done.

Each GET shows what the connection presented (whose certificate, or why it
is refused) and changes nothing; the POST behind it does the work, checking
the certificate again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import click
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask.cli import with_appcontext
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from scopes.acr import acr_satisfies

from ..account.views import login_required
from ..accounts.models import User
from ..auth import throttle
from ..auth.forms import ConfirmForm
from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db, limiter
from ..i18n import current_locale
from ..oauth.endpoints.authorize import load_interaction, requested_acr
from ..sessions.services import SIGNEXPERT, end_session, open_session
from ..sessions.web import current_login, set_login_cookie
from . import services
from .errors import CertificateError
from .forms import BindCertificateForm, CertificateLoginForm
from .trust import ValidatedCertificate
from .web import certificate_login_enabled, load_trust_store_at_start, validate_presented_certificate

log = logging.getLogger(__name__)

# cli_group=None: ``serve-tls`` is a top-level ``idp`` command.
bp = Blueprint("certificates", __name__, cli_group=None)

# The same per-address budget as the password form: a certificate cannot be
# guessed, but each attempt costs a path validation.
limit_per_address = limiter.shared_limit(
    throttle.limit_per_address, scope="login-address", key_func=throttle.address_key, methods=["POST"]
)


# -- what the connection presented ---------------------------------------------------------

@dataclass
class Presented:
    """The certificate of this request and what it opens.

    ``status``: ``none`` (no certificate), ``refused`` (``reason`` says why),
    ``unbound`` (valid, opens no account), ``disabled`` (its account is),
    ``ok`` (``holder`` is the account it opens).
    """

    status: str
    certificate: ValidatedCertificate | None = None
    reason: str | None = None
    holder: User | None = None


def _reason(error: CertificateError) -> str:
    return error.message_en if current_locale() == "en" else error.message_fr


def _examine() -> Presented:
    try:
        validated = validate_presented_certificate()
    except CertificateError as error:
        # The detail (names, serial, the verifier's words) is for the logs only.
        log.info("SIGNEXPERT certificate refused (%s): %s", error.code, error.detail)
        return Presented("refused", reason=_reason(error))
    if validated is None:
        return Presented("none")
    try:
        holder = services.certificate_holder(validated)
    except Forbidden:
        return Presented("disabled", validated)
    if holder is None:
        return Presented("unbound", validated)
    return Presented("ok", validated, holder=holder)


def _page(template: str, status: int, **context):
    response = make_response(render_template(template, **context), status)
    # Over HTTPS Flask-WTF wants a same-origin Referer on the POST these
    # pages make; the site-wide policy sends none.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


_STATUS_CODES = {"ok": 200, "none": 401, "refused": 403, "unbound": 403, "disabled": 403}


def _issuer_url(endpoint: str, **values) -> str:
    """An absolute URL on the issuer's origin, where the browser goes back after these pages."""
    return current_app.config["IDP_ISSUER"] + url_for(endpoint, **values)


# -- login ----------------------------------------------------------------------------------

def _login_page(presented: Presented, form: CertificateLoginForm, status: int | None = None):
    return _page("certificates/login.html", status or _STATUS_CODES[presented.status], presented=presented,
                 form=form, back=_issuer_url("auth.login", interaction=form.interaction.data or None))


@bp.get("/login/certificat")
def login():
    if not certificate_login_enabled():
        raise NotFound(_("La connexion par certificat SIGNEXPERT n'est pas proposée sur ce service."))
    form = CertificateLoginForm(formdata=None)
    interaction = load_interaction(request.args.get("interaction"))
    form.interaction.data = interaction.id if interaction else ""
    return _login_page(_examine(), form)


@bp.post("/login/certificat")
@limit_per_address
def login_submit():
    if not certificate_login_enabled():
        raise NotFound(_("La connexion par certificat SIGNEXPERT n'est pas proposée sur ce service."))
    form = CertificateLoginForm()
    presented = _examine()
    if not form.validate_on_submit():
        return _login_page(presented, form, 400)
    if presented.status != "ok":
        return _login_page(presented, form)
    user = services.login_with_certificate(presented.certificate)
    previous = current_login()
    if previous is not None:
        end_session(previous, revoke_tokens=False)  # this browser's earlier login gives way to the new one
    cookie, record = open_session(user, SIGNEXPERT, ttl=current_app.config["IDP_SESSION_TTL"],
                                  ip=request.remote_addr, user_agent=request.user_agent.string)
    db.session.commit()
    log.info("SIGNEXPERT login of user %s with certificate %s", user.id, presented.certificate.fingerprint_sha256)
    interaction = load_interaction(form.interaction.data)
    if interaction is not None:
        target = _issuer_url("oauth.authorize_resume", interaction=interaction.id)
    else:
        target = _issuer_url("account.home")
    response = redirect(target, 303)
    set_login_cookie(response, cookie, record)
    return response


# -- binding (Sécurité) ------------------------------------------------------------------------

def _bind_page(presented: Presented, form: BindCertificateForm, status: int, problem: str | None = None):
    login = current_login()
    return _page("certificates/bind.html", status, presented=presented, form=form, problem=problem,
                 strong_enough=acr_satisfies(login.acr, services.BIND_MIN_ACR), user=login.user,
                 security_url=_issuer_url("mfa.security"))


def _bind_problem(presented: Presented, user: User) -> tuple[int, str | None]:
    """What stands in the way of binding the presented certificate, as ``(status, message)``."""
    if presented.status in ("none", "refused"):
        return _STATUS_CODES[presented.status], None
    if presented.holder is not None and presented.holder.id == user.id:
        return 409, _("Ce certificat est déjà associé à votre compte.")
    if presented.status != "unbound":
        return 409, _("Ce certificat est déjà associé à un autre compte Comptexpert.")
    return 200, None


@bp.get("/compte/securite/certificats/associer")
@login_required
def bind():
    if not certificate_login_enabled():
        raise NotFound(_("La connexion par certificat SIGNEXPERT n'est pas proposée sur ce service."))
    login = current_login()
    presented = _examine()
    if not acr_satisfies(login.acr, services.BIND_MIN_ACR):
        return _bind_page(presented, BindCertificateForm(formdata=None), 403)
    status, problem = _bind_problem(presented, login.user)
    return _bind_page(presented, BindCertificateForm(formdata=None), status, problem)


@bp.post("/compte/securite/certificats/associer")
@login_required
def bind_submit():
    if not certificate_login_enabled():
        raise NotFound(_("La connexion par certificat SIGNEXPERT n'est pas proposée sur ce service."))
    login = current_login()
    form = BindCertificateForm()
    presented = _examine()
    if not form.validate_on_submit():
        return _bind_page(presented, form, 400)
    if presented.status in ("none", "refused"):
        return _bind_page(presented, form, _STATUS_CODES[presented.status])
    try:
        services.bind_certificate(login.user, presented.certificate, session_acr=login.acr)
    except (Forbidden, Conflict) as error:
        db.session.rollback()
        return _bind_page(presented, form, error.status, error.message)
    db.session.commit()
    flash(_("Certificat SIGNEXPERT associé : vous pouvez désormais vous connecter avec lui."), "success")
    return redirect(_issuer_url("mfa.security"), 303)


@bp.post("/compte/securite/certificats/<int:certificate_id>/retirer")
@login_required
def remove(certificate_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("mfa.security"), 303)
    login = current_login()
    try:
        services.remove_certificate(login.user_id, certificate_id, keep_sid=login.sid)
    except (NotFound, Forbidden) as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("mfa.security"), 303)
    db.session.commit()
    flash(_("Certificat retiré : il ne permet plus de se connecter à votre compte."), "success")
    return redirect(url_for("mfa.security"), 303)


# -- what other pages show -----------------------------------------------------------------

def certificate_login_url(interaction_id: str | None = None) -> str | None:
    """Where the login page sends a SIGNEXPERT login; ``None`` when it is not offered."""
    if not certificate_login_enabled():
        return None
    base = current_app.config.get("IDP_CERTIFICATE_LOGIN_URL") or url_for("certificates.login")
    if interaction_id:
        base += ("&" if "?" in base else "?") + urlencode({"interaction": interaction_id})
    return base


def _bind_url() -> str:
    """The binding page, on the origin that asks for certificates."""
    path = url_for("certificates.bind")
    login_url = current_app.config.get("IDP_CERTIFICATE_LOGIN_URL")
    if not login_url:
        return path
    parts = urlsplit(login_url)
    return f"{parts.scheme}://{parts.netloc}{path}"


@dataclass(frozen=True)
class LoginAssurance:
    """What the login page says about the level the relying site asked for."""

    required: str | None
    password_accepted: bool
    current_too_weak: bool


def login_assurance(interaction_id: str | None) -> LoginAssurance:
    """For the login page: the level the pending authorization request needs, if any."""
    interaction = load_interaction(interaction_id)
    required = None
    if interaction is not None:
        try:
            required = requested_acr(MultiDict(interaction.params))
        except OAuth2Error:  # malformed: the authorization endpoint tells the site
            required = None
    login = current_login()
    return LoginAssurance(
        required=required,
        # Only a certificate reaches eidas3: the password form would lead nowhere.
        password_accepted=required != "eidas3" or not certificate_login_enabled(),
        current_too_weak=bool(required and login is not None and not acr_satisfies(login.acr, required)),
    )


def security_certificates() -> dict:
    """For the Sécurité page: the bound certificates and whether this session may bind another."""
    login = current_login()
    return {
        "enabled": certificate_login_enabled(),
        "certificates": services.list_certificates(login.user_id),
        "can_bind": acr_satisfies(login.acr, services.BIND_MIN_ACR),
        "bind_url": _bind_url(),
        "remove_form": ConfirmForm(formdata=None),
    }


@bp.record_once
def _on_register(state) -> None:
    app = state.app
    load_trust_store_at_start(app)
    app.jinja_env.globals.update(
        certificate_login_url=certificate_login_url,
        login_assurance=login_assurance,
        security_certificates=security_certificates,
    )


# -- idp serve-tls ----------------------------------------------------------------------------

@bp.cli.command("serve-tls")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True, type=int)
@click.option("--cert", "cert_file", help="Server certificate (PEM). Default: IDP_TLS_CERT_FILE.")
@click.option("--key", "key_file", help="Its private key (PEM). Default: IDP_TLS_KEY_FILE.")
@with_appcontext
def serve_tls_command(host, port, cert_file, key_file):
    """Serve the provider over HTTPS, asking for SIGNEXPERT client certificates (IDP_CLIENT_CA_FILE)."""
    from .tls_server import make_tls_server

    app = current_app._get_current_object()
    cert_file = cert_file or app.config.get("IDP_TLS_CERT_FILE")
    key_file = key_file or app.config.get("IDP_TLS_KEY_FILE")
    if not cert_file or not key_file:
        raise click.UsageError("a server certificate and key are needed: --cert/--key or IDP_TLS_CERT_FILE/KEY_FILE")
    server = make_tls_server(host, port, app, cert_file=cert_file, key_file=key_file,
                             client_ca_file=app.config.get("IDP_CLIENT_CA_FILE"))
    click.echo(f"serving https://{host}:{port}/ (client certificates "
               f"{'asked for' if app.config.get('IDP_CLIENT_CA_FILE') else 'not asked for: no IDP_CLIENT_CA_FILE'})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
