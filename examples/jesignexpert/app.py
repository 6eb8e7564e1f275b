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

import logging
import sys
import time
from pathlib import Path

from flask import Flask, abort, flash, g, jsonify, redirect, render_template, request, session, url_for

# The plumbing both demo sites share (login, tokens, events) is examples/demo_site.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from demo_site import DemoSite, Login, Settings  # noqa: E402

from comptexpert_rp import AccessToken  # noqa: E402
from comptexpert_rp.errors import InsufficientScope, InsufficientUserAuthentication  # noqa: E402
from comptexpert_rp.flask import error_response, require_token  # noqa: E402
from comptexpert_rp.rfc6750 import www_authenticate  # noqa: E402

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


def site_settings() -> Settings:
    """This site's configuration, from the environment (defaults: those of ``run_demo.py``)."""
    return Settings.from_env(client_id="jesignexpert", resource="https://jesignexpert.com", port=5002)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or site_settings()
    app = Flask(__name__)
    # The API (a bearer token) needs no CSRF token.
    site = DemoSite(app, settings, name="jesignexpert", site_name="jesignexpert", log=log,
                    page_globals={"level_names": LEVEL_NAMES},
                    csrf_exempt=lambda: request.path.startswith("/api/"))
    access_token, current_login, verifier = site.access_token, site.current_login, site.verifier

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
        for siret in site.firm_sirets(token, login):
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
    site.add_home_and_rights(firms_view, RIGHT_LABELS)

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
    def authorize_params() -> dict:
        acr = request.args.get("acr")
        if acr in LEVEL_NAMES:
            # Step-up (RFC 9470 §4): ask Comptexpert for a login at that level.
            session["acr"] = acr
            return {"acr_values": acr}
        session.pop("acr", None)
        return {}

    def after_login(target: str):
        wanted = session.pop("acr", None)
        verified = access_token()
        if wanted and verified is not None and not verified.acr_satisfies(wanted):
            # The provider answered, but not at the level asked: say so rather than loop.
            exc = InsufficientUserAuthentication("A stronger authentication is required", acr_values=wanted)
            return render_template("step_up.html", acr=wanted, challenge=www_authenticate(settings.resource, exc),
                                   token=verified, next=target, failed=True), 401
        return redirect(target)

    site.add_login_routes(authorize_params, after_login)
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s jesignexpert %(levelname)s %(message)s")
    settings = site_settings()
    create_app(settings).run(host="127.0.0.1", port=settings.port, threaded=True)
