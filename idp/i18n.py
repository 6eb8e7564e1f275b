"""Language of the pages: French by default, English available (Flask-Babel)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, has_request_context, redirect, request, session
from flask_babel import format_date as _format_date
from flask_babel import get_locale

LOCALES = ("fr", "en")
bp = Blueprint("i18n", __name__)


def remember_ui_locales(asked: str | None) -> None:
    """Keep the first supported language of an OIDC ``ui_locales`` for the pages that follow."""
    for tag in (asked or "").split()[:10]:
        base = tag.split("-")[0].lower()
        if base in LOCALES:
            session["locale"] = base
            return


def select_locale() -> str:
    """The language chosen (``ui_locales`` or the switch), then the browser's, then French.

    Outside a request (commands, delivery loops, threads) the default applies;
    code that writes to a given person uses ``force_locale`` with his language.
    """
    if not has_request_context():
        return current_app.config["IDP_DEFAULT_LOCALE"]
    if session.get("locale") in LOCALES:
        return session["locale"]
    return request.accept_languages.best_match(LOCALES) or current_app.config["IDP_DEFAULT_LOCALE"]


@bp.get("/langue/<locale>")
def set_locale(locale: str):
    if locale in LOCALES:
        session["locale"] = locale
    target = request.args.get("next", "/")
    # Only a path on this site: an open redirect would be a phishing aid.
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)


def current_locale() -> str:
    return str(get_locale() or "fr")


def format_date(value) -> str:
    return _format_date(value, "long") if value else ""
