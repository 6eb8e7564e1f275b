"""Commands for the register and the firms.

    idp register import FILE [--dry-run] [--json]
    idp users verify LOGIN [--numero N] [--json]      (added to the core ``users`` group)
    idp users pending [--json]
    idp firms link LOGIN SIRET [--raison-sociale R] [--city C] [--json]
    idp firms unlink LOGIN SIRET
    idp firms list [--login LOGIN] [--json]
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..cli import _emit, _fail, users_group
from ..errors import IdpError, NotFound
from ..extensions import db


# -- register ------------------------------------------------------------------------
@click.group("register")
def register_group():
    """The Tableau de l'Ordre: import, expert verification."""


@register_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and count, change nothing.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def register_import(file: Path, dry_run: bool, as_json: bool):
    """Import the register (CSV in UTF-8 with ; or , — or Excel .xlsx), all or nothing.

    Bad rows are all listed (``ligne N : champ : message``) and nothing is
    applied; the exit code is then 1. Pending experts who now match are verified.
    """
    from .services import RegisterFileError, import_register, parse_register_file

    rows, errors = parse_register_file(file)
    report = None
    if not errors:
        try:
            report = import_register(rows)
        except RegisterFileError as error:
            errors = error.errors
        except IdpError as error:
            _fail(error)
    if errors:
        db.session.rollback()
        if as_json:
            click.echo(json.dumps({"applied": False, "errors": [e._asdict() for e in errors]}, indent=2,
                                  ensure_ascii=False))
        else:
            for error in errors:
                click.echo(str(error), err=True)
            click.echo(f"{len(errors)} erreur(s) : rien n'a été importé.", err=True)
        raise SystemExit(1)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    data = {"applied": not dry_run, "rows": len(rows), **report.as_dict()}
    human = (
        f"{'dry run, nothing applied: ' if dry_run else ''}{len(rows)} rows; entries {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged; firms {report.firms_created} created, "
        f"{report.firms_updated} updated; {len(report.verified)} account(s) verified"
        + (f": {', '.join(report.verified)}" if report.verified else "")
    )
    _emit(data, as_json, human)


# -- users (subcommands of the core group) ----------------------------------------------
@users_group.command("verify")
@click.argument("login")
@click.option("--numero", help="Numéro d'inscription at the Tableau: binds the account to that entry.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def users_verify(login: str, numero: str | None, as_json: bool):
    """Verify an expert-comptable (LOGIN: identifiant or email), after checking who he is."""
    from .models import RegisterEntry
    from .services import verify_user

    try:
        user = verify_user(login, numero)
        db.session.commit()
    except IdpError as error:
        _fail(error)
    entry = db.session.get(RegisterEntry, user.register_entry_id) if user.register_entry_id else None
    data = {"identifiant": user.identifiant, "email": user.email, "expert_status": user.expert_status,
            "numero_inscription": entry.numero_inscription if entry else None}
    _emit(data, as_json, f"{user.identifiant} verified" + (f" (numéro {entry.numero_inscription})" if entry else ""))


@users_group.command("pending")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def users_pending(as_json: bool):
    """List the accounts claiming the expert profile that wait for verification."""
    from .services import pending_accounts

    rows = [
        {"identifiant": u.identifiant, "email": u.email, "email_verified": u.email_verified,
         "given_name": u.given_name, "family_name": u.family_name, "claimed_numero": u.claimed_numero,
         "created_at": u.created_at}
        for u in pending_accounts()
    ]
    _emit(rows, as_json, "\n".join(
        f"{r['identifiant']}\t{r['email']}\t{'confirmed' if r['email_verified'] else 'unconfirmed'}\t"
        f"{r['family_name']} {r['given_name']}\tnuméro {r['claimed_numero'] or '-'}"
        for r in rows
    ) or "No account waiting for verification.")


# -- firms ------------------------------------------------------------------------------
@click.group("firms")
def firms_group():
    """Sociétés d'exercice (firms) and the experts linked to them."""


def _user(login: str):
    from ..accounts.services import find_user

    user = find_user(login)
    if user is None:
        _fail(NotFound("Aucun compte ne porte cet identifiant ou cette adresse."))
    return user


def _firm_dict(firm) -> dict:
    return {"siret": firm.siret, "siret_display": firm.siret_display, "raison_sociale": firm.raison_sociale,
            "city": firm.city}


@firms_group.command("link")
@click.argument("login")
@click.argument("siret")
@click.option("--raison-sociale", help="Needed when the firm is not known yet.")
@click.option("--city")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def firms_link(login: str, siret: str, raison_sociale: str | None, city: str | None, as_json: bool):
    """Link a verified expert (LOGIN: identifiant or email) to the firm SIRET, creating the firm if needed."""
    from ..firms.services import link_firm

    user = _user(login)
    try:
        firm, linked = link_firm(user, siret, raison_sociale, city)
        db.session.commit()
    except IdpError as error:
        _fail(error)
    _emit({"identifiant": user.identifiant, "linked": linked, "firm": _firm_dict(firm)}, as_json,
          f"{user.identifiant} {'linked to' if linked else 'already linked to'} "
          f"{firm.raison_sociale} ({firm.siret_display})")


@firms_group.command("unlink")
@click.argument("login")
@click.argument("siret")
@with_appcontext
def firms_unlink(login: str, siret: str):
    """Remove an administrator's link between an expert and a firm (register links stay)."""
    from ..firms.services import unlink_firm

    user = _user(login)
    try:
        unlink_firm(user, siret)
        db.session.commit()
    except IdpError as error:
        _fail(error)
    click.echo(f"{user.identifiant} unlinked from {siret}")


@firms_group.command("list")
@click.option("--login", help="Only the firms of this expert (identifiant or email).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def firms_list(login: str | None, as_json: bool):
    """List the firms (all of them, or one expert's with where each comes from)."""
    from ..firms.services import expert_firms, list_firms

    if login:
        rows = [{**_firm_dict(item.firm), "origin": item.origin} for item in expert_firms(_user(login))]
        human = "\n".join(f"{r['siret_display']}\t{r['raison_sociale']}\t{r['city']}\t{r['origin']}" for r in rows)
    else:
        rows = [{**_firm_dict(firm), "register_entries": entries, "linked_experts": links}
                for firm, entries, links in list_firms()]
        human = "\n".join(f"{r['siret_display']}\t{r['raison_sociale']}\t{r['city']}\t"
                          f"{r['register_entries'] + r['linked_experts']} expert(s)" for r in rows)
    _emit(rows, as_json, human or "No firm.")


# ``idp`` adds these groups; ``users`` subcommands join the core group above.
commands: list = [register_group, firms_group]
