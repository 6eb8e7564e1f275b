"""Operations commands: ``idp cleanup``."""
from __future__ import annotations

import json
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("cleanup")
@click.option("--grace", type=click.IntRange(min=0), default=None,
              help="Keep rows this many seconds after they expired or ended (default: IDP_CLEANUP_GRACE).")
@click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Rows deleted per transaction.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@with_appcontext
def cleanup_command(grace, batch_size, as_json):
    """Delete expired codes, interactions, assertions, tokens, sessions and e-mailed links."""
    from .cleanup import cleanup

    seconds = current_app.config["IDP_CLEANUP_GRACE"] if grace is None else grace
    counts = cleanup(grace=timedelta(seconds=seconds), batch_size=batch_size)
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    for table, count in counts.items():
        click.echo(f"{table}\t{count}")
    click.echo(f"total\t{sum(counts.values())}")


commands: list = [cleanup_command]
