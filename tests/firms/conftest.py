"""Experts with firms, collaborators without: the people of the Mes sociétés d'exercice page."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The register's test files (make_siret, row) serve here too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "register"))

from register_files import HEADER  # noqa: E402


@pytest.fixture
def load_register(app, tmp_path):
    """Import register rows through the services, as ``idp register import`` does, and commit."""
    def load(rows):
        import csv

        from idp.extensions import db
        from idp.register.services import import_register, parse_register_file

        path = tmp_path / "tableau.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(HEADER)
            writer.writerows(rows)
        with app.app_context():
            parsed = parse_register_file(path)
            assert parsed.errors == []
            report = import_register(parsed.rows)
            db.session.commit()
            db.session.remove()
        return report

    return load


@pytest.fixture
def logged_in(browser):
    """The browser, logged in as ``user``."""
    def login(user):
        response = browser.login(user.email, user.password)
        assert response.status_code in (200, 302), response.text[:300]
        return browser

    return login
