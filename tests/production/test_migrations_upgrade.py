"""A database made by the previous release (the previous migration head) upgrades without losing a row.

"Previous head" is computed from the Alembic script directory, so the test
follows every new migration: it builds the schema one revision short of
head, puts a row in every table (values made from the reflected column
types, foreign keys pointing at the parents' rows), upgrades with
``idp init`` and checks every row is still there with its values.
"""
from __future__ import annotations

import base64
import itertools
import os
from datetime import date, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, inspect, select, types

from backends import BACKENDS, create_pg_database, drop_pg_database

# Values a column of that name must take to be meaningful; every other
# column gets a value made from its type.
KNOWN_VALUES = {"state": "active", "alg": "ES256", "purpose": "confirm", "profile": "autre",
                "expert_status": "none", "locale": "fr", "kind": "message"}
# A made-up signing key must not be one the provider signs with.
TABLE_VALUES = {("signing_keys", "state"): "retired"}


def previous_heads() -> tuple[str, ...]:
    """The revisions the current head was made from: what the previous release ran."""
    from idp import MIGRATIONS_DIR

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    heads = script.get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    previous = script.get_revision(heads[0]).down_revision
    if previous is None:
        return ()
    return (previous,) if isinstance(previous, str) else tuple(previous)


def value_for(column, sequence) -> object:
    """A value of the column's type that fits its length."""
    if (column.table.name, column.name) in TABLE_VALUES:
        return TABLE_VALUES[column.table.name, column.name]
    if column.name in KNOWN_VALUES:
        return KNOWN_VALUES[column.name]
    kind = column.type
    if isinstance(kind, types.Boolean):
        return True
    if isinstance(kind, types.Integer):
        return 4200 + next(sequence)
    if isinstance(kind, (types.Float, types.Numeric)):
        return 1.5
    if isinstance(kind, types.DateTime):
        return datetime(2026, 1, 2, 3, 4, 5)
    if isinstance(kind, types.Date):
        return date(2026, 1, 2)
    if isinstance(kind, types.JSON):
        return ["preserved", {"n": 1}]
    if isinstance(kind, types.LargeBinary):
        return b"\x01preserved"
    if isinstance(kind, types.String):
        text = f"{column.name[:8]}-{next(sequence)}"
        if column.name.endswith("email"):
            text = f"{text}@cabinet.example"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} ({kind!r})")


def fill_every_table(engine) -> dict[str, dict]:
    """Insert one row in every table of the reflected schema; return the rows by table."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    sequence = itertools.count(1)
    rows: dict[str, dict] = {}
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            row = {}
            for column in table.columns:
                parents = [fk.column for fk in column.foreign_keys if fk.column.table.name in rows]
                if parents:
                    row[column.name] = rows[parents[0].table.name][parents[0].name]
                elif column.foreign_keys:
                    assert column.nullable, f"{table.name}.{column.name} points at a table not filled yet"
                    row[column.name] = None
                else:
                    row[column.name] = value_for(column, sequence)
            connection.execute(table.insert().values(**row))
            rows[table.name] = row
    return rows


def missing_rows(engine, rows: dict[str, dict]) -> list[str]:
    """Tables whose row is gone or changed (columns dropped by the upgrade aside)."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    problems = []
    with engine.connect() as connection:
        for name, row in rows.items():
            if name not in metadata.tables:
                problems.append(f"{name}: table dropped")
                continue
            table = metadata.tables[name]
            kept = {key: value for key, value in row.items() if key in table.c}
            key = {column.name: row[column.name] for column in table.primary_key.columns}
            found = connection.execute(select(table).filter_by(**key)).mappings().first()
            if found is None:
                problems.append(f"{name}: row lost")
            elif {k: found[k] for k in kept} != kept:
                problems.append(f"{name}: row changed {dict(found)} != {kept}")
    return problems


@pytest.fixture(params=BACKENDS)
def old_database(request, tmp_path):
    """An empty database of one backend, and its URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'previous.sqlite3'}"
        return
    url, name = create_pg_database()
    yield url
    drop_pg_database(name)


def test_a_database_of_the_previous_head_upgrades_with_every_row_kept(old_database, tmp_path):
    from flask_migrate import upgrade

    from idp import create_app
    from idp.extensions import db

    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": old_database,
        "SECRET_KEY": "x" * 32, "IDP_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "RATELIMIT_STORAGE_URI": "memory://",
    })
    previous = previous_heads()
    engine = create_engine(old_database)
    try:
        with app.app_context():
            for revision in previous:
                upgrade(revision=revision)
        rows = fill_every_table(engine)
        assert len(rows) >= 20, "the previous head has the whole core schema"

        result = app.test_cli_runner().invoke(args=["init"])  # what an operator runs on the new release

        assert result.exit_code == 0, result.output
        assert "schema up to date" in result.output
        assert missing_rows(engine, rows) == []
        with app.app_context():
            assert inspect(db.engine).get_table_names()  # the application reads the upgraded schema
            head = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
            db.session.remove()
            db.engine.dispose()
        assert head == ScriptDirectory(str(__import__("idp").MIGRATIONS_DIR)).get_current_head()
    finally:
        engine.dispose()
