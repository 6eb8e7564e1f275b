"""What the demo relying sites of examples/ have in common.

Each site (``site_ordre``, ``jesignexpert``) is its own Flask application
with its own pages and rights; this module gives both the same relying-party
plumbing, so that it is written once:

- an OpenID Connect login with Authlib's Flask client (discovery, code flow,
  PKCE S256, RFC 9207 ``iss`` check) and RP-initiated logout;
- the person's tokens kept server-side (``Logins``), the access token
  verified on every request with ``comptexpert_rp`` and refreshed with the
  refresh token when it expires or when the site has dropped it;
- ``/comptexpert/events`` (``EventReceiver``): a changed delegation drops the
  person's cached access token, a logout ends the session here too;
- the shared templates of ``examples/templates`` (``layout.html``,
  ``rights.html``, ``message.html``), after the site's own.

A site makes a :class:`DemoSite` of its Flask application, adds its home and
rights pages with :meth:`DemoSite.add_home_and_rights`, its own pages, then
:meth:`DemoSite.add_login_routes`.
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
from typing import Any, Callable

from flask import Flask, abort, g, redirect, render_template, request, session, url_for
from jinja2 import ChoiceLoader, FileSystemLoader

try:
    import comptexpert_rp  # noqa: F401
except ImportError:  # run from a checkout without installing the library
    sys.path.append(str(Path(__file__).resolve().parents[1] / "rp"))

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth

from comptexpert_rp import AccessToken, AccessTokenVerifier, EventReceiver, JWKSCache, SecurityEvent
from comptexpert_rp.errors import KeySetUnavailable, TokenError

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Settings:
    """A site's configuration; :meth:`from_env` reads it from the environment."""

    issuer: str
    client_id: str
    client_secret: str
    #: The audience of this site's access tokens (RFC 8707 resource).
    resource: str
    base_url: str
    port: int
    secret_key: str

    @classmethod
    def from_env(cls, client_id: str, resource: str, port: int) -> "Settings":
        """From the environment; the defaults given are those ``idp demo`` registers and ``run_demo.py`` uses."""
        return cls(
            issuer=os.environ.get("COMPTEXPERT_ISSUER", "http://127.0.0.1:5000"),
            client_id=os.environ.get("CLIENT_ID", client_id),
            client_secret=os.environ.get("CLIENT_SECRET", f"demo-secret-{client_id}-0123456789abcdef"),
            resource=os.environ.get("RESOURCE", resource),
            base_url=os.environ.get("SITE_URL", f"http://127.0.0.1:{port}"),
            port=int(os.environ.get("PORT", str(port))),
            secret_key=os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        )


# -- server-side sessions -----------------------------------------------------------------------
@dataclass
class Login:
    """What a site keeps for one browser: the person, the provider's session, the tokens."""

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


class DemoSite:
    """One demo site's relying-party side: its provider client, token verifier, logins and events."""

    def __init__(self, app: Flask, settings: Settings, *, name: str, site_name: str, log: logging.Logger,
                 page_globals: dict | None = None, csrf_exempt: Callable[[], bool] = lambda: False):
        self.app = app
        self.settings = settings
        self.log = log
        app.config.update(
            SECRET_KEY=settings.secret_key,
            # Both demo sites and the provider live on 127.0.0.1, and cookies do
            # not tell ports apart: each needs a cookie name of its own.
            SESSION_COOKIE_NAME=f"{name}_session",
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_HTTPONLY=True,
        )
        # The site's own templates first, then those the sites share.
        app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(str(TEMPLATES))])
        app.jinja_env.filters["siret"] = format_siret
        app.jinja_env.filters["date"] = lambda seconds: time.strftime("%d/%m/%Y", time.localtime(seconds))
        metadata = fetch_metadata(settings.issuer)
        jwks = JWKSCache(metadata["jwks_uri"])
        self.verifier = AccessTokenVerifier(settings.issuer, settings.resource, jwks)
        self.logins = Logins()
        self.received: list[dict] = []  # the events received, shown at the foot of each page

        oauth = OAuth(app)
        oauth.register(
            "comptexpert",
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=settings.issuer + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile email firms", "code_challenge_method": "S256",
                           "token_endpoint_auth_method": "client_secret_basic"},
        )
        self.provider = oauth.comptexpert

        app.register_blueprint(
            EventReceiver(settings.issuer, settings.client_id, jwks, self.on_event).flask_blueprint())

        @app.before_request
        def check_csrf():
            # Every form of the site carries the session's token; the events
            # endpoint is authenticated by the signed token it receives instead
            # (and the site may exempt its own bearer endpoints).
            if request.method == "POST" and request.blueprint != "comptexpert_events" and not csrf_exempt():
                if not session.get("csrf") or request.form.get("csrf") != session["csrf"]:
                    abort(400)

        @app.context_processor
        def shared_page_globals():
            return {"login": self.current_login(), "received": self.received, "site_name": site_name,
                    "csrf_token": self.csrf_token, **(page_globals or {})}

        @app.errorhandler(KeySetUnavailable)
        def provider_unreachable(exc):
            return render_template("message.html", title="Comptexpert injoignable",
                                   message="Les clés de Comptexpert ne peuvent pas être lues ; réessayez."), 503

        @app.errorhandler(403)
        def forbidden(_exc):
            return render_template("message.html", title="Accès refusé",
                                   message="Votre jeton Comptexpert ne vous donne pas ce droit pour ce cabinet."), 403

    def on_event(self, event: SecurityEvent) -> None:
        """A security event from the provider: drop the person's tokens, or end the sessions."""
        if event.kind == "token-claims-change":
            dropped = self.logins.drop_tokens_of(event.sub)
            what = f"droits modifiés : {dropped} jeton(s) oublié(s)"
        else:
            ended = self.logins.end(event.sub, event.sid)
            what = f"session terminée : {ended} session(s) fermée(s)"
        self.received.insert(0, {"kind": event.kind, "sub": event.sub, "what": what,
                                 "at": time.strftime("%H:%M:%S")})
        del self.received[20:]
        self.log.info("event %s for %s (sid %s): %s", event.kind, event.sub, event.sid, what)

    # -- the access token of this request -------------------------------------------------------
    def current_login(self) -> Login | None:
        """The login of this browser, if any."""
        login = self.logins.get(session.get("login"))
        if login is None:
            session.pop("login", None)
        return login

    def refresh(self, login: Login) -> str | None:
        """A new access token from the refresh token; None (and the session ends) when refused."""
        try:
            token = self.provider.fetch_access_token(grant_type="refresh_token", refresh_token=login.refresh_token)
        except OAuthError as exc:
            self.log.info("refresh refused for %s: %s", login.sub, exc.error)
            return None
        login.refresh_token = token.get("refresh_token", login.refresh_token)
        login.access_token = token["access_token"]
        return login.access_token

    def access_token(self) -> AccessToken | None:
        """The verified access token of this request, refreshed when needed; None when logged out."""
        if "access_token" in g:
            return g.access_token
        g.access_token = None
        login = self.current_login()
        if login is None:
            return None
        # One refresh at a time per session: refresh tokens are rotated, and
        # two requests racing with the same one would revoke the family.
        with login.lock:
            for _ in range(2):
                raw = login.access_token or (self.refresh(login) if login.refresh_token else None)
                if raw is None:
                    break
                try:
                    g.access_token = self.verifier.verify(raw)
                    return g.access_token
                except TokenError as exc:
                    self.log.info("access token refused (%s): refreshing", exc.reason)
                    login.access_token = None
        self.logins.remove(session.pop("login", None))
        return None

    def csrf_token(self) -> str:
        """The session's token that every form of the site carries."""
        return session.setdefault("csrf", secrets.token_urlsafe(16))

    def back_from_logout(self):
        """On the home page: the answer to the provider's return from RP-initiated logout, or None."""
        if "state" not in request.args:
            return None
        # The state must be the one we sent.
        try:
            self.provider.validate_logout_response()
        except OAuthError:
            abort(400)
        return redirect(url_for("home"))

    def firm_sirets(self, token: AccessToken, login: Login) -> list[str]:
        """The firms to show: those named at login, and any the token grants rights in."""
        return list(dict.fromkeys([*login.firms, *token.firms()]))

    def add_home_and_rights(self, firms_view: Callable[[AccessToken, Login], list[dict]],
                            right_labels: dict[str, str]) -> None:
        """``/`` (``home.html``) and ``/droits`` (the shared ``rights.html``), from ``firms_view(token, login)``."""
        app = self.app

        @app.get("/")
        def home():
            back = self.back_from_logout()
            if back is not None:
                return back
            token = self.access_token()
            if token is None:
                return render_template("home.html", firms=None)
            return render_template("home.html", firms=firms_view(token, self.current_login()), token=token)

        @app.get("/droits")
        def rights():
            token = self.access_token()
            if token is None:
                return redirect(url_for("login", next=request.path))
            return render_template("rights.html", firms=firms_view(token, self.current_login()), token=token,
                                   labels=right_labels)

    # -- OpenID Connect ---------------------------------------------------------------------------
    def add_login_routes(self, authorize_params: Callable[[], dict] = dict,
                         after_login: Callable[[str], Any] = redirect) -> None:
        """``/login``, ``/callback`` and ``/logout``.

        ``authorize_params()`` is called in ``/login`` for extra parameters
        of the authorization request; ``after_login(target)`` answers the
        callback once the login is kept (by default, a redirect to ``target``).
        """
        app, settings, provider, logins = self.app, self.settings, self.provider, self.logins

        @app.get("/login")
        def login():
            target = request.args.get("next", "/")
            # Only paths of this site: anything else would make /login an open redirector.
            session["next"] = target if target.startswith("/") and not target.startswith("//") else "/"
            return provider.authorize_redirect(settings.base_url + "/callback", **authorize_params())

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
            return after_login(session.pop("next", "/"))

        @app.post("/logout")
        def logout():
            current = self.current_login()
            logins.remove(session.pop("login", None))
            if current is None:
                return redirect(url_for("home"))
            # RP-initiated logout: the provider ends its session and tells the other sites.
            return provider.logout_redirect(post_logout_redirect_uri=settings.base_url + "/",
                                            id_token_hint=current.id_token)
