"""« Site de l'Ordre », a demo relying site of Comptexpert.

What it shows: a site that trusts the provider through a standard OpenID
Connect login (Authlib's Flask client: discovery, code flow, PKCE S256)
and decides every page from the access token alone, with the
relying-party library ``comptexpert_rp``:

- the private documents of a firm need ``ordre:site_prive`` for that firm;
- club and event registration for a firm needs ``ordre:droits_administratifs``;
- the access token is kept in the server-side session, verified on every
  request (``AccessTokenVerifier``), refreshed with the refresh token when
  it expires or when the site has dropped it;
- ``/comptexpert/events`` (``EventReceiver``) receives the provider's
  security events: a changed delegation drops the person's cached access
  token, so the next request refreshes it and sees the new rights; a
  logout ends the session here too.

Run: ``python examples/run_demo.py`` starts the provider, both sites and the
events delivery. Configuration comes from the environment (see ``Settings``).
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

from flask import Flask, abort, flash, g, redirect, render_template, request, session, url_for

try:
    import comptexpert_rp  # noqa: F401
except ImportError:  # run from a checkout without installing the library
    sys.path.append(str(Path(__file__).resolve().parents[2] / "rp"))

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth

from comptexpert_rp import AccessToken, AccessTokenVerifier, EventReceiver, JWKSCache, SecurityEvent
from comptexpert_rp.errors import KeySetUnavailable, TokenError

log = logging.getLogger("site_ordre")

SITE = "ordre"
SITE_PRIVE = "ordre:site_prive"
DROITS_ADMINISTRATIFS = "ordre:droits_administratifs"
RIGHT_LABELS = {
    "site_prive": "Contenu et documents du site privé",
    "droits_administratifs": "Droits administratifs : clubs et événements",
}
DOCUMENTS = [
    ("Lettre de mission — tenue comptable", "Modèle 2026, avec les clauses de lutte anti-blanchiment"),
    ("Rapport d'activité de la profession", "Chiffres clés et tendances des cabinets"),
    ("Fiche marketing — accompagnement à la création", "Support à remettre aux porteurs de projets"),
]
EVENTS = [
    ("congres", "Congrès de l'Ordre des experts-comptables"),
    ("club-secteur-public", "Club Secteur public — conférence de rentrée"),
    ("journee-sociale", "Journée du social"),
]


@dataclass(frozen=True)
class Settings:
    """From the environment; the defaults are those of ``run_demo.py``."""

    issuer: str = os.environ.get("COMPTEXPERT_ISSUER", "http://127.0.0.1:5000")
    client_id: str = os.environ.get("CLIENT_ID", "site-ordre")
    client_secret: str = os.environ.get("CLIENT_SECRET", "demo-secret-site-ordre-0123456789abcdef")
    #: The audience of this site's access tokens (RFC 8707 resource).
    resource: str = os.environ.get("RESOURCE", "https://www.experts-comptables.fr")
    base_url: str = os.environ.get("SITE_URL", "http://127.0.0.1:5001")
    port: int = int(os.environ.get("PORT", "5001"))
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
        SESSION_COOKIE_NAME="site_ordre_session",
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
        # endpoint is authenticated by the signed token it receives instead.
        if request.method == "POST" and request.blueprint != "comptexpert_events":
            if not session.get("csrf") or request.form.get("csrf") != session["csrf"]:
                abort(400)

    @app.context_processor
    def page_globals():
        return {"login": current_login(), "received": received, "site_name": "Site de l'Ordre",
                "csrf_token": csrf_token}

    @app.errorhandler(KeySetUnavailable)
    def provider_unreachable(exc):
        return render_template("message.html", title="Comptexpert injoignable",
                               message="Les clés de Comptexpert ne peuvent pas être lues ; réessayez."), 503

    def firms_view(token: AccessToken, login: Login) -> list[dict]:
        """The firms to show: those named at login, and any the token grants rights in."""
        sirets = list(dict.fromkeys([*login.firms, *token.firms()]))
        firms = []
        for siret in sirets:
            grants = [grant for grant in token.rights(firm=siret) if grant.site == SITE]
            firms.append({"siret": siret, "name": login.firms.get(siret, ""), "grants": grants,
                          "site_prive": token.has_right(SITE_PRIVE, siret),
                          "droits_administratifs": token.has_right(DROITS_ADMINISTRATIFS, siret)})
        return firms

    def require(right_id: str, siret: str) -> AccessToken:
        """The token, if it grants ``right_id`` for ``siret`` right now; 403 otherwise (401: log in)."""
        token = access_token()
        if token is None:
            abort(redirect(url_for("login", next=request.path)))
        if not token.has_right(right_id, siret):
            abort(403)
        return token

    @app.errorhandler(403)
    def forbidden(_exc):
        return render_template("message.html", title="Accès refusé",
                               message="Votre jeton Comptexpert ne vous donne pas ce droit pour ce cabinet."), 403

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
        token = access_token()
        if token is None:
            return redirect(url_for("login", next=request.path))
        return render_template("rights.html", firms=firms_view(token, current_login()), token=token,
                               labels=RIGHT_LABELS)

    @app.get("/cabinets/<siret>/documents")
    def documents(siret: str):
        require(SITE_PRIVE, siret)
        return render_template("documents.html", siret=siret, name=current_login().firms.get(siret, ""),
                               documents=DOCUMENTS)

    registrations: dict[str, list[dict]] = {}

    @app.route("/cabinets/<siret>/evenements", methods=["GET", "POST"])
    def events(siret: str):
        token = require(DROITS_ADMINISTRATIFS, siret)
        if request.method == "POST":
            event = dict(EVENTS).get(request.form.get("event", ""))
            person = request.form.get("person", "").strip()[:200]
            if event and person:
                registrations.setdefault(siret, []).append(
                    {"event": event, "person": person, "by": token.sub, "at": time.strftime("%d/%m/%Y %H:%M")})
                flash(f"{person} est inscrit(e) : {event}.")
            return redirect(url_for("events", siret=siret), 303)
        return render_template("events.html", siret=siret, name=current_login().firms.get(siret, ""),
                               events=EVENTS, registrations=registrations.get(siret, []))

    # -- OpenID Connect ---------------------------------------------------------------------------
    @app.get("/login")
    def login():
        target = request.args.get("next", "/")
        # Only paths of this site: anything else would make /login an open redirector.
        session["next"] = target if target.startswith("/") and not target.startswith("//") else "/"
        return provider.authorize_redirect(settings.base_url + "/callback")

    @app.get("/callback")
    def callback():
        # RFC 9207: the answer must come from our provider (mix-up defence).
        if request.args.get("iss") not in (None, settings.issuer):
            abort(400)
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
        return redirect(session.pop("next", "/"))

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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s site_ordre %(levelname)s %(message)s")
    settings = Settings()
    create_app(settings).run(host="127.0.0.1", port=settings.port, threaded=True)
