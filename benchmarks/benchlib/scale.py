"""Delegation rows: whether the schema has them, filling a database, picking who to measure.

The refresh measure at 10,000 and 1,000,000 rows and the token sizes need
two things the harness does not own: the ``delegations`` table (the
délégations work) and a data generator (the production work:
``benchmarks/generate.py`` or ``idp demo --scale``). Both are looked for at
run time; what is missing makes the measure "n/a" with the reason.

The generator is called with the run's ``IDP_*`` environment (so it writes
into the run's database) and the number of delegation rows wanted. How it is
called is recorded with the results; ``run.py --generator 'CMD {rows}'``
gives the exact command when the guess below is wrong.

Who to measure is read from the data, not assumed: the foreign keys of
``delegations`` name the firm and the people; the collaborator is the person
column that is not the grantor's. His password is then set to the
benchmark's (a benchmark database, made for the run and dropped after).
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass

from sqlalchemy import create_engine, func, inspect, select, table, column, update

from .servers import REPO, idp_command

TABLE = "delegations"
# Names a delegation's receiving person column may have, and the giver's.
RECEIVER_NAMES = re.compile(r"collaborator|grantee|delegate|receiver|recipient|holder|to_user|beneficiar", re.I)
GIVER_NAMES = re.compile(r"expert|grantor|giver|from_user|granted_by|created_by|owner|by_user", re.I)
STATE_NAMES = ("state", "status")


def has_delegations(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        return inspect(engine).has_table(TABLE)
    finally:
        engine.dispose()


def find_generator(override: str | None) -> tuple[list[str] | None, str]:
    """The command that fills a database with N delegation rows (``{rows}`` in it), or why there is none."""
    if override:
        return shlex.split(override), "given with --generator"
    script = REPO / "benchmarks" / "generate.py"
    if script.is_file():
        text = _help([sys.executable, str(script)])
        option = _option(text, r"--[\w-]*delegation[\w-]*") or _option(text, r"--rows\b") or _option(text, r"--scale\b")
        if option:
            return [sys.executable, str(script), option, "{rows}"], "benchmarks/generate.py"
        return None, "benchmarks/generate.py has no option naming delegations or rows"
    text = _help(idp_command() + ["demo"])
    if "--scale" in text:
        return idp_command() + ["demo", "--scale", "{rows}"], "idp demo --scale"
    return None, "no data generator yet (benchmarks/generate.py or idp demo --scale)"


def _help(cmd: list[str]) -> str:
    try:
        result = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=120, cwd=REPO)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout + result.stderr


def _option(text: str, pattern: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(0) if match else None


def generate(command: list[str], rows: int, env: dict, cwd) -> str:
    cmd = [part.replace("{rows}", str(rows)) for part in command]
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=6 * 3600)
    if result.returncode != 0:
        raise RuntimeError(f"generator failed ({' '.join(cmd)}):\n{result.stdout[-1500:]}{result.stderr[-2500:]}")
    return " ".join(cmd)


@dataclass
class Shape:
    """Which columns of ``delegations`` say who receives, from which firm, in which state."""

    receiver: str
    firm: str | None
    state: str | None


def shape(database_url: str) -> Shape:
    engine = create_engine(database_url)
    try:
        inspector = inspect(engine)
        columns = {c["name"] for c in inspector.get_columns(TABLE)}
        people, firm = [], None
        for key in inspector.get_foreign_keys(TABLE):
            if len(key["constrained_columns"]) != 1:
                continue
            name = key["constrained_columns"][0]
            if key["referred_table"] == "users":
                people.append(name)
            elif key["referred_table"] == "firms":
                firm = name
    finally:
        engine.dispose()
    receivers = [name for name in people if RECEIVER_NAMES.search(name)]
    if not receivers:
        receivers = [name for name in people if not GIVER_NAMES.search(name)]
    if len(receivers) != 1:
        raise RuntimeError(f"cannot tell the receiving person among {people} in {TABLE}")
    state = next((name for name in STATE_NAMES if name in columns), None)
    return Shape(receivers[0], firm, state)


def _counts(database_url: str, found: Shape):
    delegations = table(TABLE, *(column(name) for name in filter(None, (found.receiver, found.firm, found.state))))
    receiver = delegations.c[found.receiver]
    per = func.count(func.distinct(delegations.c[found.firm])) if found.firm else func.count()
    query = select(receiver, per.label("n")).where(receiver.is_not(None)).group_by(receiver)
    if found.state:
        query = query.where(delegations.c[found.state] == "active")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [(row[0], row[1]) for row in connection.execute(query)]
    finally:
        engine.dispose()


def collaborators_by_firms(database_url: str, wanted: tuple[int, ...]) -> dict[int, tuple[int, int] | None]:
    """For each wanted firm count, a collaborator (user id, his count) with exactly, else nearly, that many firms."""
    counts = _counts(database_url, shape(database_url))
    chosen = {}
    for target in wanted:
        best = min(counts, key=lambda item: (abs(item[1] - target), item[0]), default=None)
        chosen[target] = best if best is not None and abs(best[1] - target) <= max(1, target // 5) else None
    return chosen


def user_email(database_url: str, user_id: int) -> str:
    users = table("users", column("id"), column("email"))
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(users.c.email).where(users.c.id == user_id)).scalar_one()
    finally:
        engine.dispose()


def set_password(database_url: str, user_id: int, password: str) -> None:
    """Give a generated account the benchmark's password, hashed as the login expects it."""
    from idp.accounts.passwords import hash_password

    users = table("users", column("id"), column("password_hash"))
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(update(users).where(users.c.id == user_id).values(password_hash=hash_password(password)))
    finally:
        engine.dispose()


def audiences() -> list[str]:
    """Every relying site's audience in the rights catalogue, for the benchmark client."""
    try:
        from scopes import default_catalogue

        return [site.audience for site in default_catalogue().sites()]
    except Exception:  # noqa: BLE001 - an older or newer catalogue API: fall back to the main audience
        return []
