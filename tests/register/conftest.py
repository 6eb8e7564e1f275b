"""Register files written the way regional councils send them, and helpers to read the database."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from register_files import HEADER  # noqa: E402


@pytest.fixture
def write_csv(tmp_path):
    """Write rows to a CSV file: ``;`` and a BOM by default, as French Excel saves "CSV UTF-8"."""
    def write(rows, header=HEADER, delimiter=";", bom=True, name="tableau.csv"):
        path = tmp_path / name
        with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write


@pytest.fixture
def write_xlsx(tmp_path):
    """Write rows to an Excel workbook (first sheet)."""
    from openpyxl import Workbook

    def write(rows, header=HEADER, name="tableau.xlsx"):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Tableau"
        sheet.append(header)
        for cells in rows:
            sheet.append(cells)
        path = tmp_path / name
        workbook.save(path)
        return path

    return write


@pytest.fixture
def import_file(runner):
    """Run ``idp register import FILE --json``; returns (exit code, parsed JSON or None, stderr)."""
    def run(path, *options):
        result = runner.invoke(args=["register", "import", str(path), "--json", *options])
        try:
            data = json.loads(result.stdout)
        except ValueError:
            data = None
        return result.exit_code, data, result.stderr

    return run


@pytest.fixture
def db_state(app):
    """A snapshot of the register and firms as plain data, to compare before and after."""
    def snapshot():
        from sqlalchemy import select

        from idp.extensions import db
        from idp.firms.models import Firm
        from idp.register.models import RegisterEntry

        with app.app_context():
            entries = {
                e.numero_inscription: {
                    "given_name": e.given_name, "family_name": e.family_name, "email": e.email, "region": e.region,
                    "firms": sorted(f.siret for f in e.firms), "imported_at": e.imported_at,
                    "updated_at": e.updated_at,
                }
                for e in db.session.scalars(select(RegisterEntry))
            }
            firms = {f.siret: (f.raison_sociale, f.city) for f in db.session.scalars(select(Firm))}
            db.session.remove()
        return {"entries": entries, "firms": firms}

    return snapshot


@pytest.fixture
def account(app):
    """The stored state of an account, read afresh: what verification changed."""
    def read(user):
        from idp.accounts.models import User
        from idp.extensions import db

        with app.app_context():
            stored = db.session.get(User, user.id)
            entry_numero = None
            if stored.register_entry_id:
                from idp.register.models import RegisterEntry

                entry_numero = db.session.get(RegisterEntry, stored.register_entry_id).numero_inscription
            state = {"expert_status": stored.expert_status, "numero": entry_numero,
                     "given_name": stored.given_name, "family_name": stored.family_name}
            db.session.remove()
        return state

    return read


@pytest.fixture
def try_verify(app):
    """Call ``try_verify_expert`` as the email confirmation does, and commit."""
    def run(user) -> bool:
        from idp.accounts.models import User
        from idp.extensions import db
        from idp.register.services import try_verify_expert

        with app.app_context():
            verified = try_verify_expert(db.session.get(User, user.id))
            db.session.commit()
            db.session.remove()
        return verified

    return run


@pytest.fixture
def pending_expert(make_user):
    """An account that claimed the Expert-comptable profile at sign-up."""
    def make(**fields):
        fields.setdefault("profile", "expert_comptable")
        fields.setdefault("expert_status", "pending")
        return make_user(**fields)

    return make
