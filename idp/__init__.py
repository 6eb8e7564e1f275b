"""Comptexpert, the OpenID Connect provider of the Ordre des Experts-Comptables' sites."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, redirect, url_for

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(test_config: dict | None = None) -> Flask:
    """The application factory: configuration, extensions, blueprints, CLI."""
    import config as idp_config

    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("IDP_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path or str(Path.cwd() / "instance"), instance_relative_config=False)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(idp_config.load(app.instance_path))
    if test_config:
        app.config.update(test_config)

    from . import errorhandlers
    from .extensions import babel, csrf, db, limiter, migrate
    from .i18n import current_locale, format_date, select_locale
    from .oauth import server as oauth_server
    from .oauth.labels import scope_label
    from .security import add_hsts, add_security_headers

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    oauth_server.init_app(app)
    errorhandlers.init_app(app)

    from .account.views import bp as account_bp
    from .auth.views import bp as auth_bp
    from .i18n import bp as i18n_bp
    from .oauth.views import bp as oauth_bp

    for blueprint in (oauth_bp, auth_bp, account_bp, i18n_bp):
        app.register_blueprint(blueprint)

    app.jinja_env.globals.update(current_locale=current_locale, scope_label=scope_label, format_date=format_date)
    app.after_request(add_security_headers)
    if app.config["IDP_ISSUER"].startswith("https://"):
        app.after_request(add_hsts)

    @app.get("/")
    def index():
        return redirect(url_for("account.home"))

    from .cli import register_commands

    register_commands(app)
    return app
