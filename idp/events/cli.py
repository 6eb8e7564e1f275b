"""``idp events deliver`` (the delivery loop) and ``idp events status``."""
from __future__ import annotations

import json
import signal
import threading

import click
from flask.cli import with_appcontext


@click.group("events")
def events_group():
    """Security events pushed to relying sites (SETs, back-channel logout)."""


@events_group.command("deliver")
@click.option("--once", is_flag=True, help="One pass over the events due now, then exit (for cron or tests).")
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="Seconds between passes.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds to connect and to read each answer.")
@click.option("--backoff-base", type=click.FloatRange(min=0.01), default=5.0, show_default=True,
              help="Seconds before the first retry; doubled at each failure.")
@click.option("--backoff-cap", type=click.FloatRange(min=0.01), default=3600.0, show_default=True,
              help="Longest wait between two attempts (seconds).")
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON when done.")
@with_appcontext
def deliver_command(once, interval, timeout, backoff_base, backoff_cap, as_json):
    """Sign and push the outbox to the relying sites, retrying with backoff, until stopped.

    Safe to run in several processes at once. SIGTERM or Ctrl-C stops it
    after the attempt in progress.
    """
    from .delivery import Settings, run

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    settings = Settings(timeout=timeout, backoff_base=backoff_base, backoff_cap=max(backoff_cap, backoff_base))
    if not once:
        click.echo(f"delivering events every {interval:g} s (Ctrl-C to stop)", err=True)
    total = run(settings, interval=interval, once=once, stop=stop)
    summary = {"delivered": total.delivered, "failed": total.failed}
    click.echo(json.dumps(summary) if as_json else f"{total.delivered} delivered, {total.failed} failed attempt(s)")


@events_group.command("status")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def status_command(as_json):
    """What is waiting in the outbox, per client, with the last error."""
    from .delivery import status

    data = status()
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    click.echo(f"{data['pending']} pending ({data['due']} due now), {data['delivered']} delivered")
    for row in data["clients"]:
        click.echo(f"{row['client_id']}\t{row['pending']} pending\tsince {row['oldest']}\t"
                   f"{row['max_attempts']} attempt(s)\tnext {row['next_attempt_at']}\t{row['last_error'] or ''}")


commands: list = [events_group]
