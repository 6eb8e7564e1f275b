"""Translations work outside a request too (commands, delivery loops, threads)."""
from flask_babel import gettext, force_locale


def test_gettext_outside_a_request_uses_the_default_language(app):
    with app.app_context():
        assert gettext("Mes informations") == "Mes informations"
        with force_locale("en"):
            assert gettext("Mes informations") != "Mes informations"
