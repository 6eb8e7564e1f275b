"""Comptexpert, the OpenID Connect provider of the Ordre des Experts-Comptables' sites."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, redirect, url_for

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Every blueprint, one per domain package (each module exposes ``bp``).
BLUEPRINTS = (
    "idp.oauth.views",
    "idp.auth.views",
    "idp.account.views",
    "idp.accounts.views",
    "idp.firms.views",
    "idp.mfa.views",
    "idp.certificates.views",
    "idp.delegations.views",
    "idp.delegations.api",
    "idp.observability.views",
    "idp.i18n",
)


def create_app(test_config: dict | None = None) -> Flask:
    """The application factory: configuration, extensions, blueprints, CLI."""
    import config as idp_config

    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("IDP_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path or str(Path.cwd() / "instance"), instance_relative_config=False)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(idp_config.load(app.instance_path))
    if test_config:
        app.config.update(test_config)

    from . import errorhandlers, observability
    from .extensions import babel, csrf, db, limiter, migrate
    from .i18n import current_locale, format_date, select_locale
    from .oauth import server as oauth_server
    from .oauth.labels import scope_label
    from .security import add_hsts, add_security_headers

    from . import models  # noqa: F401 - the whole schema, for SQLAlchemy and Alembic

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    oauth_server.init_app(app)
    errorhandlers.init_app(app)
    observability.init_app(app)  # JSON logs, request id, metrics, access log

    from importlib import import_module

    for module in BLUEPRINTS:
        app.register_blueprint(import_module(module).bp)

    app.jinja_env.globals.update(
        current_locale=current_locale, scope_label=scope_label, format_date=format_date,
        account_menu=lambda: app.extensions.get("account_menu", []),
    )
    app.after_request(add_security_headers)
    if app.config["IDP_ISSUER"].startswith("https://"):
        app.after_request(add_hsts)

    @app.get("/")
    def index():
        return redirect(url_for("account.home"))

    from .cli import register_commands

    register_commands(app)
    return app
