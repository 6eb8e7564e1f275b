"""Registering a relying site's event endpoints, and what discovery says about them."""
from __future__ import annotations

import json

import requests


def test_discovery_says_back_channel_logout_with_sid_is_supported(live):
    metadata = requests.get(live.url + "/.well-known/openid-configuration").json()
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True


def test_clients_create_registers_both_endpoints(runner, app):
    result = runner.invoke(args=[
        "clients", "create", "--name", "jesignexpert.com", "--client-id", "jesignexpert",
        "--redirect-uri", "https://jesignexpert.com/callback", "--resource", "https://jesignexpert.com",
        "--events-uri", "https://jesignexpert.com/comptexpert/events",
        "--backchannel-logout-uri", "https://jesignexpert.com/comptexpert/logout", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["client_id"] == "jesignexpert"

    from idp.extensions import db
    from idp.oauth.models import Client

    with app.app_context():
        client = db.session.get(Client, "jesignexpert")
        assert client.events_uri == "https://jesignexpert.com/comptexpert/events"
        assert client.backchannel_logout_uri == "https://jesignexpert.com/comptexpert/logout"
        db.session.remove()


def test_event_endpoints_must_be_https_except_on_loopback(runner):
    result = runner.invoke(args=[
        "clients", "create", "--name", "Site", "--redirect-uri", "https://site.example/cb",
        "--events-uri", "http://site.example/events"])
    assert result.exit_code == 1
    assert "events_uri: https is required (http only on loopback): 'http://site.example/events'" in result.output

    result = runner.invoke(args=[
        "clients", "create", "--name", "Site", "--redirect-uri", "https://site.example/cb",
        "--backchannel-logout-uri", "https://site.example/logout#fragment"])
    assert result.exit_code == 1
    assert ("backchannel_logout_uri: an absolute URI without fragment is required: "
            "'https://site.example/logout#fragment'") in result.output
