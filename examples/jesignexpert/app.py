"""« jesignexpert », a demo relying site of Comptexpert: the profession's signature platform.

What it shows, on top of what the site de l'Ordre shows (a standard OpenID
Connect login with Authlib, every page decided from the access token with
``comptexpert_rp``, tokens refreshed, security events received):

- preparing a collecte (a signature workflow) needs ``jesignexpert:preparer_collecte``;
- sealing with the firm's seal needs ``jesignexpert:sceller`` (and a login
  with the authenticator app at least, ``eidas2``);
- signing needs ``jesignexpert:signer`` and a login with the person's
  SIGNEXPERT card (``eidas3``). The provider leaves a right out of the token
  while the session's level is too low, so when the level is lower the
  site answers as RFC 9470 says (``insufficient_user_authentication``,
  ``acr_values=eidas3``) and offers to log in again at that level: it
  sends the person back to Comptexpert with ``acr_values=eidas3`` (step-up).
- ``POST /api/cabinets/<siret>/signatures`` is the same rule for a bearer
  API, with the library's ``require_token`` decorator (the level first).

Run: ``python examples/run_demo.py``. Configuration comes from the environment (see ``Settings``).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, abort, flash, g, jsonify, redirect, render_template, request, session, url_for

try:
    import comptexpert_rp  # noqa: F401
except ImportError:  # run from a checkout without installing the library
    sys.path.append(str(Path(__file__).resolve().parents[2] / "rp"))

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth

from comptexpert_rp import AccessToken, AccessTokenVerifier, EventReceiver, JWKSCache, SecurityEvent
from comptexpert_rp.errors import InsufficientScope, InsufficientUserAuthentication, KeySetUnavailable, TokenError
from comptexpert_rp.flask import error_response, require_token
from comptexpert_rp.rfc6750 import www_authenticate

log = logging.getLogger("jesignexpert")

SITE = "jesignexpert"
PREPARER = "jesignexpert:preparer_collecte"
SCELLER = "jesignexpert:sceller"
SIGNER = "jesignexpert:signer"
# This site's own rule, the same as the catalogue's: what each action needs.
LEVELS = {SCELLER: "eidas2", SIGNER: "eidas3"}
LEVEL_NAMES = {"eidas1": "mot de passe", "eidas2": "mot de passe et application d'authentification",
               "eidas3": "carte SIGNEXPERT"}
RIGHT_LABELS = {
    "preparer_collecte": "Préparer la collecte",
    "sceller": "Sceller électroniquement (cachet du cabinet)",
    "signer": "Signer électroniquement",
}


@dataclass(frozen=True)
class Settings:
    """From the environment; the defaults are those of ``run_demo.py``."""

    issuer: str = os.environ.get("COMPTEXPERT_ISSUER", "http://127.0.0.1:5000")
    client_id: str = os.environ.get("CLIENT_ID", "jesignexpert")
    client_secret: str = os.environ.get("CLIENT_SECRET", "demo-secret-jesignexpert-0123456789abcdef")
    #: The audience of this site's access tokens (RFC 8707 resource).
    resource: str = os.environ.get("RESOURCE", "https://jesignexpert.com")
    base_url: str = os.environ.get("SITE_URL", "http://127.0.0.1:5002")
    port: int = int(os.environ.get("PORT", "5002"))
    secret_key: str = os.environ.get("SECRET_KEY") or secrets.token_hex(32)


# -- server-side sessions -----------------------------------------------------------------------
@dataclass
class Login:
    """What this site keeps for one browser: the person, the provider's session, the tokens."""

    sub: str
    sid: str | None
    name: str
    firms: dict[str, str]
    id_token: str
    refresh_token: str | None
    access_token: str | None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Logins:
    """Sessions in memory, by a random key kept in the browser's cookie.

    Server-side, so that a security event can drop a person's token or
    session here without the browser taking part.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, Login] = {}

    def add(self, login: Login) -> str:
        key = secrets.token_urlsafe(32)
        with self._lock:
            self._by_key[key] = login
        return key

    def get(self, key: str | None) -> Login | None:
        with self._lock:
            return self._by_key.get(key or "")

    def remove(self, key: str | None) -> None:
        with self._lock:
            self._by_key.pop(key or "", None)

    def drop_tokens_of(self, sub: str) -> int:
        """Forget the access tokens of ``sub``: the next request refreshes and sees the rights as they are."""
        with self._lock:
            logins = [login for login in self._by_key.values() if login.sub == sub]
        for login in logins:
            with login.lock:
                login.access_token = None
        return len(logins)

    def end(self, sub: str | None, sid: str | None) -> int:
        """End the sessions of the provider's session ``sid`` (or of ``sub`` when no sid is given)."""
        with self._lock:
            keys = [key for key, login in self._by_key.items()
                    if (sid is not None and login.sid == sid) or (sid is None and login.sub == sub)]
            for key in keys:
                del self._by_key[key]
        return len(keys)


# -- the application ------------------------------------------------------------------------------
def fetch_metadata(issuer: str, attempts: int = 60) -> dict:
    """The provider's discovery document, waiting for it to start if needed."""
    url = issuer + "/.well-known/openid-configuration"
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    raise RuntimeError("unreachable")


def format_siret(siret: str) -> str:
    """``44523611200025`` as people read it: ``445.236.112.00025``."""
    return f"{siret[:3]}.{siret[3:6]}.{siret[6:9]}.{siret[9:]}" if len(siret) == 14 else siret


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Both demo sites and the provider live on 127.0.0.1, and cookies do
        # not tell ports apart: each needs a cookie name of its own.
        SESSION_COOKIE_NAME="jesignexpert_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
    )
    app.jinja_env.filters["siret"] = format_siret
    app.jinja_env.filters["date"] = lambda seconds: time.strftime("%d/%m/%Y", time.localtime(seconds))
    metadata = fetch_metadata(settings.issuer)
    jwks = JWKSCache(metadata["jwks_uri"])
    verifier = AccessTokenVerifier(settings.issuer, settings.resource, jwks)
    logins = Logins()
    received: list[dict] = []  # the events received, shown at the foot of each page

    oauth = OAuth(app)
    oauth.register(
        "comptexpert",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email firms", "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "client_secret_basic"},
    )
    provider = oauth.comptexpert

    def on_event(event: SecurityEvent) -> None:
        if event.kind == "token-claims-change":
            dropped = logins.drop_tokens_of(event.sub)
            what = f"droits modifiés : {dropped} jeton(s) oublié(s)"
        else:
            ended = logins.end(event.sub, event.sid)
            what = f"session terminée : {ended} session(s) fermée(s)"
        received.insert(0, {"kind": event.kind, "sub": event.sub, "what": what, "at": time.strftime("%H:%M:%S")})
        del received[20:]
        log.info("event %s for %s (sid %s): %s", event.kind, event.sub, event.sid, what)

    app.register_blueprint(EventReceiver(settings.issuer, settings.client_id, jwks, on_event).flask_blueprint())

    # -- the access token of this request -------------------------------------------------------
    def current_login() -> Login | None:
        login = logins.get(session.get("login"))
        if login is None:
            session.pop("login", None)
        return login

    def refresh(login: Login) -> str | None:
        """A new access token from the refresh token; None (and the session ends) when refused."""
        try:
            token = provider.fetch_access_token(grant_type="refresh_token", refresh_token=login.refresh_token)
        except OAuthError as exc:
            log.info("refresh refused for %s: %s", login.sub, exc.error)
            return None
        login.refresh_token = token.get("refresh_token", login.refresh_token)
        login.access_token = token["access_token"]
        return login.access_token

    def access_token() -> AccessToken | None:
        """The verified access token of this request, refreshed when needed; None when logged out."""
        if "access_token" in g:
            return g.access_token
        g.access_token = None
        login = current_login()
        if login is None:
            return None
        # One refresh at a time per session: refresh tokens are rotated, and
        # two requests racing with the same one would revoke the family.
        with login.lock:
            for _ in range(2):
                raw = login.access_token or (refresh(login) if login.refresh_token else None)
                if raw is None:
                    break
                try:
                    g.access_token = verifier.verify(raw)
                    return g.access_token
                except TokenError as exc:
                    log.info("access token refused (%s): refreshing", exc.reason)
                    login.access_token = None
        logins.remove(session.pop("login", None))
        return None

    def csrf_token() -> str:
        return session.setdefault("csrf", secrets.token_urlsafe(16))

    @app.before_request
    def check_csrf():
        # Every form of this site carries the session's token; the events
        # endpoint (a signed token) and the API (a bearer token) need none.
        if request.method == "POST" and request.blueprint != "comptexpert_events" \
                and not request.path.startswith("/api/"):
            if not session.get("csrf") or request.form.get("csrf") != session["csrf"]:
                abort(400)

    @app.context_processor
    def page_globals():
        return {"login": current_login(), "received": received, "site_name": "jesignexpert",
                "csrf_token": csrf_token, "level_names": LEVEL_NAMES}

    @app.errorhandler(KeySetUnavailable)
    def provider_unreachable(exc):
        return render_template("message.html", title="Comptexpert injoignable",
                               message="Les clés de Comptexpert ne peuvent pas être lues ; réessayez."), 503

    @app.errorhandler(403)
    def forbidden(_exc):
        return render_template("message.html", title="Accès refusé",
                               message="Votre jeton Comptexpert ne vous donne pas ce droit pour ce cabinet."), 403

    def action_state(token: AccessToken, right_id: str, siret: str) -> str:
        """``allowed``; ``step_up`` when the session's level may be what keeps the right out; ``denied``."""
        if token.has_right(right_id, siret):
            return "allowed"
        level = LEVELS.get(right_id)
        if level and not token.acr_satisfies(level):
            return "step_up"
        return "denied"

    def firms_view(token: AccessToken, login: Login) -> list[dict]:
        """The firms to show: those named at login, and any the token grants rights in."""
        firms = []
        for siret in dict.fromkeys([*login.firms, *token.firms()]):
            firms.append({
                "siret": siret, "name": login.firms.get(siret, ""),
                "grants": [grant for grant in token.rights(firm=siret) if grant.site == SITE],
                "preparer": action_state(token, PREPARER, siret),
                "sceller": action_state(token, SCELLER, siret),
                "signer": action_state(token, SIGNER, siret),
            })
        return firms

    def logged_in() -> AccessToken:
        token = access_token()
        if token is None:
            abort(redirect(url_for("login", next=request.path)))
        return token

    def require_level(token: AccessToken, right_id: str, siret: str):
        """None when the action may go on; otherwise the answer (step-up page, or 403)."""
        try:
            token.check_authentication(acr=LEVELS[right_id])
        except InsufficientUserAuthentication as exc:
            # RFC 9470: what an API would answer, and what a browser does about it.
            challenge = www_authenticate(settings.resource, exc)
            return render_template("step_up.html", acr=exc.acr_values, challenge=challenge, token=token,
                                   next=url_for("home")), 401, {"WWW-Authenticate": challenge}
        if not token.has_right(right_id, siret):
            abort(403)
        return None

    # -- pages --------------------------------------------------------------------------------------
    @app.get("/")
    def home():
        if "state" in request.args:
            # Back from RP-initiated logout: the state must be the one we sent.
            try:
                provider.validate_logout_response()
            except OAuthError:
                abort(400)
            return redirect(url_for("home"))
        token = access_token()
        if token is None:
            return render_template("home.html", firms=None)
        return render_template("home.html", firms=firms_view(token, current_login()), token=token)

    @app.get("/droits")
    def rights():
        token = logged_in()
        return render_template("rights.html", firms=firms_view(token, current_login()), token=token,
                               labels=RIGHT_LABELS)

    collectes: dict[str, list[dict]] = {}
    done: dict[str, list[dict]] = {}

    @app.route("/cabinets/<siret>/collectes", methods=["GET", "POST"])
    def collecte(siret: str):
        token = logged_in()
        if not token.has_right(PREPARER, siret):
            abort(403)
        if request.method == "POST":
            document = request.form.get("document", "").strip()[:200]
            signer = request.form.get("signer", "").strip()[:200]
            if document and signer:
                collectes.setdefault(siret, []).append(
                    {"document": document, "signer": signer, "by": token.sub, "at": time.strftime("%d/%m/%Y %H:%M")})
                flash(f"Collecte préparée : « {document} », à signer par {signer}.")
            return redirect(url_for("collecte", siret=siret), 303)
        return render_template("collecte.html", siret=siret, name=current_login().firms.get(siret, ""),
                               collectes=collectes.get(siret, []))

    @app.post("/cabinets/<siret>/sceller")
    def seal(siret: str):
        token = logged_in()
        refused = require_level(token, SCELLER, siret)
        if refused is not None:
            return refused
        done.setdefault(siret, []).append({"what": "cachet du cabinet apposé", "by": token.sub})
        flash("Document scellé avec le cachet du cabinet.")
        return redirect(url_for("home"), 303)

    @app.post("/cabinets/<siret>/signer")
    def sign(siret: str):
        token = logged_in()
        refused = require_level(token, SIGNER, siret)
        if refused is not None:
            return refused
        done.setdefault(siret, []).append({"what": "signature", "by": token.sub})
        flash(f"Document signé par {token.sub}.")
        return redirect(url_for("home"), 303)

    # The same rule for a bearer API. The level is checked before the right,
    # as on the pages: Comptexpert leaves a right out of tokens whose session
    # is below its level, so a password session asking to sign must be told
    # to step up (401, RFC 9470), not that it lacks the right (403).
    @app.post("/api/cabinets/<siret>/signatures")
    @require_token(verifier, acr=LEVELS[SIGNER])
    def api_sign(siret: str):
        try:
            g.access_token.check_right(SIGNER, siret)
        except InsufficientScope as exc:
            return error_response(exc, settings.resource)
        return jsonify(signed_by=g.access_token.sub, firm=siret), 201

    # -- OpenID Connect ---------------------------------------------------------------------------
    @app.get("/login")
    def login():
        target = request.args.get("next", "/")
        # Only paths of this site: anything else would make /login an open redirector.
        session["next"] = target if target.startswith("/") and not target.startswith("//") else "/"
        acr = request.args.get("acr")
        if acr in LEVEL_NAMES:
            # Step-up (RFC 9470 §4): ask Comptexpert for a login at that level.
            session["acr"] = acr
            return provider.authorize_redirect(settings.base_url + "/callback", acr_values=acr)
        session.pop("acr", None)
        return provider.authorize_redirect(settings.base_url + "/callback")

    @app.get("/callback")
    def callback():
        # RFC 9207: the answer must come from our provider (mix-up defence).
        if request.args.get("iss") not in (None, settings.issuer):
            abort(400)
        wanted = session.pop("acr", None)
        try:
            token = provider.authorize_access_token()
        except OAuthError as exc:
            return render_template("message.html", title="Connexion impossible",
                                   message=f"Comptexpert a répondu : {exc.error}."), 400
        claims = token["userinfo"]
        firms = {firm["siret"]: firm["raison_sociale"] for firm in claims.get("firms", [])}
        logins.remove(session.pop("login", None))
        session["login"] = logins.add(Login(
            sub=claims["sub"], sid=claims.get("sid"), name=claims.get("name") or claims["sub"], firms=firms,
            id_token=token["id_token"], refresh_token=token.get("refresh_token"),
            access_token=token["access_token"]))
        target = session.pop("next", "/")
        verified = access_token()
        if wanted and verified is not None and not verified.acr_satisfies(wanted):
            # The provider answered, but not at the level asked: say so rather than loop.
            exc = InsufficientUserAuthentication("A stronger authentication is required", acr_values=wanted)
            return render_template("step_up.html", acr=wanted, challenge=www_authenticate(settings.resource, exc),
                                   token=verified, next=target, failed=True), 401
        return redirect(target)

    @app.post("/logout")
    def logout():
        login = current_login()
        logins.remove(session.pop("login", None))
        if login is None:
            return redirect(url_for("home"))
        # RP-initiated logout: the provider ends its session and tells the other sites.
        return provider.logout_redirect(post_logout_redirect_uri=settings.base_url + "/",
                                        id_token_hint=login.id_token)

    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s jesignexpert %(levelname)s %(message)s")
    settings = Settings()
    create_app(settings).run(host="127.0.0.1", port=settings.port, threaded=True)
