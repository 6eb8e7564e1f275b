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

import logging
import sys
import time
from pathlib import Path

from flask import Flask, abort, flash, redirect, render_template, request, url_for

# The plumbing both demo sites share (login, tokens, events) is examples/demo_site.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from demo_site import DemoSite, Login, Settings  # noqa: E402

from comptexpert_rp import AccessToken  # noqa: E402

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


def site_settings() -> Settings:
    """This site's configuration, from the environment (defaults: those of ``run_demo.py``)."""
    return Settings.from_env(client_id="site-ordre", resource="https://www.experts-comptables.fr", port=5001)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or site_settings()
    app = Flask(__name__)
    site = DemoSite(app, settings, name="site_ordre", site_name="Site de l'Ordre", log=log)
    access_token, current_login = site.access_token, site.current_login

    def firms_view(token: AccessToken, login: Login) -> list[dict]:
        """The firms to show: those named at login, and any the token grants rights in."""
        firms = []
        for siret in site.firm_sirets(token, login):
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

    # -- pages --------------------------------------------------------------------------------------
    site.add_home_and_rights(firms_view, RIGHT_LABELS)

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

    site.add_login_routes()
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s site_ordre %(levelname)s %(message)s")
    settings = site_settings()
    create_app(settings).run(host="127.0.0.1", port=settings.port, threaded=True)
