"""The ``idp`` administration command (a Flask CLI group), scriptable with ``--json``."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import FlaskGroup, with_appcontext

from .errors import IdpError
from .extensions import db


def _emit(data, as_json: bool, human: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else human)


def _fail(error: IdpError):
    db.session.rollback()
    raise click.ClickException(error.message)


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the schema, then create the first signing keys. Safe to run twice."""
    from flask_migrate import upgrade

    from .signing.services import ensure_keys

    upgrade()
    created = ensure_keys()
    click.echo("schema up to date; " + ("signing keys created" if created else "signing keys present"))


# -- clients -----------------------------------------------------------------
@click.group("clients")
def clients_group():
    """Relying sites registered with the provider."""


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True)
@click.option("--grant-type", "grant_types", multiple=True,
              type=click.Choice(["authorization_code", "refresh_token", "client_credentials"]))
@click.option("--scope", default="openid profile email", show_default=True)
@click.option("--resource", "resources", multiple=True, help="RFC 8707 resource (audience); the first is the default.")
@click.option("--auth-method", default="client_secret_basic", show_default=True,
              type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt"]))
@click.option("--jwks-file", type=click.File("r"), help="Public keys for private_key_jwt (a JWKS JSON file).")
@click.option("--signing-alg", type=click.Choice(["ES256", "RS256"]), help="Token signing algorithm for this client.")
@click.option("--first-party", is_flag=True, help="A site of the Ordre itself: no consent screen.")
@click.option("--client-id", help="Choose the client_id (default: random).")
@click.option("--exchange-audience", "exchange_audiences", multiple=True,
              help="RFC 8693: an audience this client may exchange a user's access token for (repeatable).")
@click.option("--events-uri", help="RFC 8935 push endpoint for security events (CAEP SETs).")
@click.option("--backchannel-logout-uri", help="OpenID Connect Back-Channel Logout URI.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clients_create(name, redirect_uris, post_logout_redirect_uris, grant_types, scope, resources, auth_method,
                   jwks_file, signing_alg, first_party, client_id, events_uri, backchannel_logout_uri,
                   exchange_audiences, as_json):
    """Register a client; prints its client_id and client_secret (shown once)."""
    from .oauth.clients import create_client

    try:
        client, secret = create_client(
            name=name, redirect_uris=list(redirect_uris), post_logout_redirect_uris=list(post_logout_redirect_uris),
            grant_types=list(grant_types) or None, scope=scope, resources=list(resources), auth_method=auth_method,
            jwks=json.load(jwks_file) if jwks_file else None, first_party=first_party, signing_alg=signing_alg,
            client_id=client_id, events_uri=events_uri, backchannel_logout_uri=backchannel_logout_uri,
            exchange_audiences=list(exchange_audiences),
        )
        db.session.commit()
    except IdpError as error:
        _fail(error)
    _emit({"client_id": client.client_id, "client_secret": secret}, as_json,
          f"client_id: {client.client_id}\nclient_secret: {secret or '(none: private_key_jwt)'}")


@clients_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clients_list(as_json):
    """List the registered clients."""
    from .oauth.clients import list_clients

    rows = [
        {"client_id": c.client_id, "name": c.name, "grant_types": c.grant_types, "redirect_uris": c.redirect_uris,
         "resources": c.resources, "auth_method": c.token_endpoint_auth_method, "first_party": c.first_party,
         "exchange_audiences": c.exchange_audiences}
        for c in list_clients()
    ]
    _emit(rows, as_json, "\n".join(f"{r['client_id']}\t{r['name']}\t{' '.join(r['grant_types'])}" for r in rows))


@clients_group.command("delete")
@click.argument("client_id")
@with_appcontext
def clients_delete(client_id):
    """Delete a client and everything issued to it."""
    from .oauth.clients import delete_client

    try:
        delete_client(client_id)
        db.session.commit()
    except IdpError as error:
        _fail(error)
    click.echo(f"deleted {client_id}")


# -- users -------------------------------------------------------------------
@click.group("users")
def users_group():
    """Accounts."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def users_create(email, password, given_name, family_name, as_json):
    """Create an account (email considered confirmed: an administrator vouches for it)."""
    from .accounts.services import create_user

    try:
        user = create_user(email=email, password=password, given_name=given_name, family_name=family_name,
                           email_verified=True)
        db.session.commit()
    except IdpError as error:
        _fail(error)
    _emit({"identifiant": user.identifiant, "email": user.email}, as_json, f"identifiant: {user.identifiant}")


# -- keys --------------------------------------------------------------------
@click.group("keys")
def keys_group():
    """Signing keys."""


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def keys_list(as_json):
    """List signing keys with their state (next, current, retired)."""
    from sqlalchemy import select

    from .signing.models import SigningKey

    rows = [
        {"kid": k.kid, "alg": k.alg, "state": k.state, "created_at": k.created_at, "activated_at": k.activated_at,
         "retired_at": k.retired_at}
        for k in db.session.scalars(select(SigningKey).order_by(SigningKey.alg, SigningKey.created_at))
    ]
    _emit(rows, as_json, "\n".join(f"{r['alg']}\t{r['state']:8}\t{r['kid']}" for r in rows))


@keys_group.command("rotate")
@click.option("--alg", "algorithms", multiple=True, type=click.Choice(["ES256", "RS256"]))
@with_appcontext
def keys_rotate(algorithms):
    """Promote the published next key to current, retire the current one, publish a new next."""
    from keys import SUPPORTED_ALGORITHMS

    from .signing.services import prune, rotate

    rotate(algorithms or SUPPORTED_ALGORITHMS)
    pruned = prune()
    click.echo(f"rotated {', '.join(algorithms or SUPPORTED_ALGORITHMS)}; {pruned} expired key(s) removed")


@click.command("demo")
@click.option("--json", "as_json", is_flag=True)
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database already has accounts.")
@with_appcontext
def demo_command(as_json, if_empty):
    """Fill an empty database with demo data and print how to log in."""
    from .demo import demo_loaded, load_demo

    if if_empty and demo_loaded():
        click.echo("Accounts already present: demo data not loaded again.")
        return
    try:
        data = load_demo()
    except IdpError as error:
        _fail(error)
    if as_json:
        _emit(data, True, "")
        return
    click.echo("Demo data loaded. Log in at {issuer}/compte/ with:".format(**data))
    for user in data["users"]:
        click.echo(f"  {user['role']:14} {user['email']} / {user['password']}  (identifiant {user['identifiant']})")
    for client in data["clients"]:
        click.echo(f"  client {client['client_id']}: secret {client['client_secret']}, redirect {client['redirect_uri']}")


# Domain packages with commands of their own (each module exposes ``commands``).
COMMAND_MODULES = ("idp.register.cli", "idp.delegations.cli", "idp.observability.cli", "idp.events.cli")


def register_commands(app) -> None:
    from importlib import import_module

    for command in (init_command, clients_group, users_group, keys_group, demo_command):
        app.cli.add_command(command)
    for module in COMMAND_MODULES:
        for command in import_module(module).commands:
            app.cli.add_command(command)


def main() -> None:
    """Console script ``idp``."""
    from . import create_app

    cli = FlaskGroup(create_app=lambda: create_app(), help="Comptexpert identity provider administration.")
    cli.main(args=sys.argv[1:], prog_name="idp")
