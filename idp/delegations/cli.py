"""Commands for délégations: ``idp delegations remind`` (cron) and ``idp audit verify``."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.group("delegations")
def delegations_group():
    """Délégations."""


@delegations_group.command("remind")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 365),
              help="Remind of delegations ending within this many days.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def remind_command(days, as_json):
    """Tell experts and collaborators of active delegations ending soon, once per expiry date (for cron)."""
    from .services import remind_expiring

    sent = remind_expiring(days=days, on_batch=db.session.commit)
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"reminded": sent}))
    else:
        click.echo(f"{sent} delegation(s) reminded")


@click.group("audit")
def audit_group():
    """The audit trail of délégations."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def verify_command(as_json):
    """Check the hash chain of the audit trail; exit 1 naming the first broken entry."""
    from .audit import HEAD_ID, AuditHead, verify

    checked, broken = verify()
    head = db.session.get(AuditHead, HEAD_ID)
    result = {"entries": checked, "ok": broken is None, "head": head.hash if head else None}
    if broken is not None:
        result.update(broken_seq=broken.seq, problem=broken.problem)
    if as_json:
        click.echo(json.dumps(result))
    elif broken is None:
        # Printing the head lets an operator keep it elsewhere: a chain
        # rewritten from scratch would no longer end with it.
        click.echo(f"audit trail intact: {checked} entries; head {result['head'] or '-'}")
    else:
        click.echo(f"audit trail BROKEN at entry {broken.seq}: {broken.problem} ({checked} entries checked before)",
                   err=True)
    if broken is not None:
        raise SystemExit(1)


commands: list = [delegations_group, audit_group]
