"""Fixtures shared by the whole suite.

    live (a real provider over HTTP, per database backend)
      └── app ── client (Flask test client), runner (CLI)
            └── user, make_user, make_client ── rp (a registered relying site)
                  └── browser (a requests session that logs in through the pages)

Every test that touches the database runs once per backend: SQLite always,
PostgreSQL when it answers (``IDP_TEST_POSTGRES_URL``, or the local default).
Rows are deleted after each test; signing keys are kept (they are costly to
make and tests that rotate them do it on purpose).
"""
from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))

from backends import BACKENDS, LiveServer, start_live_server  # noqa: E402
from factories import Factories  # noqa: E402
from flows import Browser, RelyingParty  # noqa: E402


@pytest.fixture(scope="session", params=BACKENDS)
def live(request, tmp_path_factory) -> LiveServer:
    """A provider served over real HTTP on 127.0.0.1, on one database backend."""
    server = start_live_server(request.param, tmp_path_factory.mktemp(f"instance-{request.param}"))
    yield server
    server.stop()


@pytest.fixture
def app(live):
    yield live.app
    live.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factories(app) -> Factories:
    return Factories(app)


@pytest.fixture
def make_user(factories):
    return factories.user


@pytest.fixture
def make_client(factories):
    return factories.client


@pytest.fixture
def make_collaborator(factories):
    return factories.collaborator


@pytest.fixture
def user(make_user):
    """A confirmed account with a known password."""
    return make_user()


@pytest.fixture
def rp(live, factories) -> RelyingParty:
    """A confidential relying site (client_secret_basic, code + refresh, PKCE)."""
    return factories.relying_party()


@pytest.fixture
def browser(live) -> Browser:
    return Browser(live.url)


@pytest.fixture(scope="session")
def kek() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


# -- real browser ------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(chromium, live):
    """A fresh browser context (no cookies) with French as its language."""
    context = chromium.new_context(locale="fr-FR", base_url=live.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter):
    from browser import SCREENSHOTS, taken

    if taken:
        terminalreporter.write_sep("-", f"{len(taken)} screenshots in {SCREENSHOTS}")
