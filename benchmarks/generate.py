"""Fill a database with a profession's worth of data, quickly.

    python benchmarks/generate.py                       # 200,000 accounts, 20,000 firms, 1,000,000 delegations
    python benchmarks/generate.py --delegations 10000   # same people, fewer delegations
    python benchmarks/generate.py --accounts 20000 --firms 2000 --delegations 100000

It writes into the database the provider is configured for (``IDP_*``
variables, as ``idp`` reads them), creating or upgrading the schema first
(``idp init``), and refuses a database that already has accounts. On
PostgreSQL the rows go through ``COPY`` (a million delegations in well under
a minute), elsewhere through ``executemany``.

What it makes, in the proportions of the profession (domain.md):

- firms with valid SIRETs (Luhn on SIREN and SIRET), each with a principal
  expert-comptable from the register;
- 11 % verified experts, each with his register entry and his firms; 70 %
  collaborators (profile Autre); the rest in the other profiles;
- delegations from a firm's expert to collaborators: 70 % active, 10 %
  deactivated, 10 % expired, 10 % removed, with one to three rights of the
  catalogue each. The first three collaborators hold active delegations of
  every right from exactly 1, 10 and 50 firms (token-size measures).

Every account has the same password (``--password``): one argon2id hash,
computed once, because hashing 200,000 passwords would take an hour.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_PASSWORD = "Comptexpert-generated-2026"
GIVEN_NAMES = ("Philippe", "Marie", "Benjamin", "Sophie", "Jean", "Claire", "Nicolas", "Isabelle", "Pierre",
               "Nathalie", "Thomas", "Camille", "Laurent", "Julie", "Olivier", "Sandrine", "Éric", "Céline")
FAMILY_NAMES = ("Durant", "Dossat", "Martin", "Bernard", "Petit", "Robert", "Richard", "Moreau", "Lefèvre",
                "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Perrin")
CITIES = ("Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux", "Lille", "Nantes", "Strasbourg", "Rennes",
          "Montpellier", "Grenoble", "Dijon", "Angers", "Reims", "Le Havre", "Toulon", "Brest", "Limoges")
REGIONS = ("Paris Île-de-France", "Auvergne-Rhône-Alpes", "Provence-Alpes-Côte d'Azur", "Occitanie",
           "Nouvelle-Aquitaine", "Hauts-de-France", "Pays de la Loire", "Grand Est", "Bretagne")
OTHER_PROFILES = ("expert_comptable_honoraire", "83ter_quater", "diplome_non_inscrit", "stagiaire",
                  "filiere_caf_cac", "memorialiste", "permanent", "president_agc", "membre_ece")
# Firm counts of the showcase collaborators (the first ones).
SHOWCASE_FIRMS = (1, 10, 50)
BATCH = 10_000


@dataclass(frozen=True)
class Population:
    """How many of each, and who is who: ids are assigned in this order from 1."""

    accounts: int
    firms: int
    experts: int
    collaborators: int

    @classmethod
    def of(cls, accounts: int, firms: int) -> "Population":
        experts = max(1, round(accounts * 0.11))
        collaborators = max(0, min(accounts - experts, round(accounts * 0.70)))
        return cls(accounts, max(1, firms), experts, collaborators)

    def expert_id(self, index: int) -> int:
        return 1 + index

    def collaborator_id(self, index: int) -> int:
        return 1 + self.experts + index

    def principal_of(self, firm_index: int) -> int:
        """The expert (index) whose firm this is; experts beyond the firms join one as partners."""
        return firm_index % self.experts


# -- values ------------------------------------------------------------------------------
def luhn_digit(payload: str) -> str:
    total = 0
    for position, char in enumerate(reversed(payload + "0")):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def siret_of(index: int) -> str:
    """A valid SIRET (Luhn on the SIREN and on the whole), distinct per index, never La Poste's."""
    siren_payload = f"{80_000_000 + index:08d}"
    siren = siren_payload + luhn_digit(siren_payload)
    nic_payload = siren + "0001"
    return nic_payload + luhn_digit(nic_payload)


def identifiant_of(index: int, family_name: str) -> str:
    """Comptexpert style (``pub09HP9``): 3 letters, 2 digits, 3 characters; unique per index."""
    import unicodedata

    letters = "".join(c for c in unicodedata.normalize("NFKD", family_name.lower()) if "a" <= c <= "z")
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    rest, digits = divmod(index, 100)
    tail = ""
    for _ in range(3):
        rest, position = divmod(rest, 36)
        tail = alphabet[position] + tail
    return f"{(letters + 'usr')[:3]}{digits:02d}{tail}"


def person(index: int) -> tuple[str, str]:
    return GIVEN_NAMES[index % len(GIVEN_NAMES)], FAMILY_NAMES[(index // len(GIVEN_NAMES)) % len(FAMILY_NAMES)]


def email_of(index: int, given: str, family: str, domain: str) -> str:
    import unicodedata

    def ascii_(text):
        return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if "a" <= c <= "z")

    return f"{ascii_(given)}.{ascii_(family)}.{index}@{domain}"


# -- rows --------------------------------------------------------------------------------
def firm_rows(population: Population, now: datetime):
    for index in range(population.firms):
        yield {"id": index + 1, "siret": siret_of(index), "city": CITIES[index % len(CITIES)],
               "raison_sociale": f"Cabinet {FAMILY_NAMES[index % len(FAMILY_NAMES)]} et associés {index + 1}",
               "created_at": now}


def register_rows(population: Population, now: datetime):
    for index in range(population.experts):
        given, family = person(index)
        yield {"id": index + 1, "numero_inscription": f"{1_000_000 + index}", "given_name": given,
               "family_name": family, "email": email_of(index, given, family, "ordre.example"),
               "region": REGIONS[index % len(REGIONS)], "imported_at": now, "updated_at": now}


def register_firm_rows(population: Population):
    for firm in range(population.firms):
        yield {"register_entry_id": population.principal_of(firm) + 1, "firm_id": firm + 1}
    # Experts beyond the number of firms are partners in one.
    for expert in range(population.firms, population.experts):
        yield {"register_entry_id": expert + 1, "firm_id": expert % population.firms + 1}


def user_rows(population: Population, password_hash: str, now: datetime):
    for index in range(population.accounts):
        given, family = person(index)
        row = {"id": index + 1, "identifiant": identifiant_of(index, family), "given_name": given,
               "family_name": family, "password_hash": password_hash, "email_verified": True,
               "email_verified_at": now, "created_at": now, "locale": "fr"}
        if index < population.experts:
            row.update(email=email_of(index, given, family, "ordre.example"), profile="expert_comptable",
                       expert_status="verified", claimed_numero=f"{1_000_000 + index}", register_entry_id=index + 1)
        elif index < population.experts + population.collaborators:
            row.update(email=email_of(index, given, family, "cabinet.example"), profile="autre")
        else:
            row.update(email=email_of(index, given, family, "exemple.fr"),
                       profile=OTHER_PROFILES[index % len(OTHER_PROFILES)])
        yield row


def delegation_rows(population: Population, count: int, rights: list[str], now: datetime):
    """``count`` delegations as ``(row, right_ids)``: the showcase collaborators first, then round-robin.

    A collaborator's n-th delegation comes from a different firm (a prime
    stride over the firms), given by that firm's principal expert.
    """
    if population.collaborators == 0 or count == 0:
        return
    identifier = itertools.count(1)
    emails = {}

    def email(collaborator: int) -> str:
        if collaborator not in emails:
            index = population.experts + collaborator
            given, family = person(index)
            emails[collaborator] = email_of(index, given, family, "cabinet.example")
        return emails[collaborator]

    def row(collaborator: int, firm: int, state: str, ends_at: datetime, k: int) -> dict:
        created = now - timedelta(days=400 - k % 365)
        return {"id": next(identifier), "firm_id": firm + 1,
                "grantor_id": population.expert_id(population.principal_of(firm)),
                "grantee_user_id": population.collaborator_id(collaborator), "grantee_email": email(collaborator),
                "state": state, "starts_at": created, "ends_at": ends_at, "created_at": created,
                "updated_at": created, "version": 1}

    made = 0
    showcase = [n for n in SHOWCASE_FIRMS if n <= population.firms][: population.collaborators]
    for collaborator, firms in enumerate(showcase):
        for firm in range(firms):
            if made == count:
                return
            yield row(collaborator, firm, "active", now + timedelta(days=300), made), list(rights)
            made += 1
    others = population.collaborators - len(showcase)
    if others <= 0:
        return
    k = 0
    while made < count:
        collaborator = len(showcase) + k % others
        nth = k // others
        firm = (collaborator * 31 + nth * 7919) % population.firms
        kind = k % 10
        if kind < 7:
            state, ends_at = "active", now + timedelta(days=30 + k % 335)
        elif kind == 7:
            state, ends_at = "deactivated", now + timedelta(days=30 + k % 335)
        elif kind == 8:
            state, ends_at = "active", now - timedelta(days=1 + k % 300)  # expired: never stored as such
        else:
            state, ends_at = "removed", now + timedelta(days=30 + k % 335)
        yield row(collaborator, firm, state, ends_at, k), _rights_for(k, rights)
        made += 1
        k += 1


def _rights_for(k: int, rights: list[str]) -> list[str]:
    """One to three distinct rights of the catalogue, varying with ``k``."""
    picked = []
    for step in (1, 7, 13)[: 1 + k % 3]:
        right = rights[(k * step + step) % len(rights)]
        if right not in picked:
            picked.append(right)
    return picked


# -- writing -------------------------------------------------------------------------------
def _default(column):
    """The value SQLAlchemy would give ``column`` when an INSERT leaves it out."""
    if column.default is None:
        if not column.nullable and column.server_default is None:
            raise SystemExit(f"generate.py: {column.table.name}.{column.name} is required and has no default; "
                             "teach benchmarks/generate.py its value")
        return None
    arg = column.default.arg
    if callable(arg):
        try:
            return arg(None)
        except TypeError:
            return arg()
    return arg


class Writer:
    """Writes rows into one table: ``COPY`` on PostgreSQL, ``executemany`` elsewhere."""

    def __init__(self, connection, table):
        self.connection = connection
        self.table = table
        self.columns = [c for c in table.columns if c.server_default is None]
        self.defaults = {}

    def _complete(self, row: dict) -> tuple:
        values = []
        for column in self.columns:
            if column.name in row:
                values.append(row[column.name])
            else:
                if column.name not in self.defaults:
                    self.defaults[column.name] = _default(column)
                values.append(self.defaults[column.name])
        return tuple(values)

    def write(self, rows) -> int:
        names = [c.name for c in self.columns]
        count = 0
        if self.connection.dialect.name == "postgresql":
            raw = self.connection.connection.driver_connection
            with raw.cursor() as cursor:
                statement = f'COPY {self.table.name} ({", ".join(names)}) FROM STDIN'
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(self._complete(row))
                        count += 1
            return count
        statement = self.table.insert()
        batch = []
        for row in rows:
            batch.append(dict(zip(names, self._complete(row))))
            if len(batch) == BATCH:
                self.connection.execute(statement, batch)
                count += len(batch)
                batch = []
        if batch:
            self.connection.execute(statement, batch)
            count += len(batch)
        return count


def fill_delegations(connection, population: Population, count: int, rights: list[str], now: datetime) -> int:
    """Write ``count`` delegations and their rights. Returns the number of delegation rows."""
    from idp.extensions import db

    delegations = db.metadata.tables["delegations"]
    rights_table = db.metadata.tables["delegation_rights"]
    written = 0
    delegation_writer, rights_writer = Writer(connection, delegations), Writer(connection, rights_table)
    generated = delegation_rows(population, count, rights, now)
    while True:
        chunk = list(itertools.islice(generated, 50_000))
        if not chunk:
            return written
        written += delegation_writer.write(row for row, _ in chunk)
        rights_writer.write({"delegation_id": row["id"], "right_id": right} for row, chosen in chunk for right in chosen)


def _superuser(connection) -> bool:
    from sqlalchemy import text

    return connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar() is True


def generate(app, *, accounts: int, firms: int, delegations: int, password: str, log=print) -> dict[str, int]:
    """Fill the application's (empty) database; returns the row counts written per table."""
    from sqlalchemy import func, select, text

    from idp.accounts.models import User
    from idp.accounts.passwords import hash_password
    from idp.db import utcnow
    from idp.extensions import db
    from scopes import default_catalogue

    population = Population.of(accounts, firms)
    now = utcnow()
    rights = [right.id for right in default_catalogue().delegable_rights()]
    counts: dict[str, int] = {}
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(User)):
            raise SystemExit("generate.py: the database already has accounts; give it an empty one")
        db.session.remove()
        tables = db.metadata.tables
        password_hash = hash_password(password)
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql" and _superuser(connection):
                # The rows are consistent by construction: skipping the
                # per-row foreign-key triggers makes COPY several times faster.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            steps = (
                ("firms", firm_rows(population, now)),
                ("register_entries", register_rows(population, now)),
                ("register_entry_firms", register_firm_rows(population)),
                ("users", user_rows(population, password_hash, now)),
            )
            for name, rows in steps:
                started = time.monotonic()
                counts[name] = Writer(connection, tables[name]).write(rows)
                log(f"{name}: {counts[name]} rows in {time.monotonic() - started:.1f} s")
            started = time.monotonic()
            counts["delegations"] = fill_delegations(connection, population, delegations, rights, now)
            log(f"delegations: {counts['delegations']} rows (and their rights) in {time.monotonic() - started:.1f} s")
            if connection.dialect.name == "postgresql":
                # Ids were given explicitly: move the sequences past them.
                for name in ("firms", "register_entries", "users", "delegations"):
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {name}))"))
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
        else:
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
    return counts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=200_000, help="accounts (default 200,000)")
    parser.add_argument("--firms", type=int, default=20_000, help="firms (default 20,000)")
    parser.add_argument("--delegations", type=int, default=1_000_000, help="delegation rows (default 1,000,000)")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="the password of every generated account")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    if min(args.accounts, args.firms, args.delegations) < 0:
        parser.error("counts must not be negative")

    from flask_migrate import upgrade

    from idp import create_app
    from idp.signing.services import ensure_keys

    app = create_app()
    with app.app_context():
        upgrade()
        ensure_keys()
    started = time.monotonic()
    counts = generate(app, accounts=args.accounts, firms=args.firms, delegations=args.delegations,
                      password=args.password, log=(lambda _: None) if args.json else print)
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"done in {time.monotonic() - started:.1f} s; every account's password: {args.password}")


if __name__ == "__main__":
    main()
