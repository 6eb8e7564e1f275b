"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives.

The ``smtp`` fixture starts one for a test and points the live provider at
it (``IDP_SMTP_URL``). The provider hands messages over after it has sent
its answer, so a test waits for the message it expects (``wait_for``).
"""
from __future__ import annotations

import email
import email.policy
import re
import threading
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from backends import free_port

LINK_RE = re.compile(r"https?://\S+")


class Mailbox:
    """The aiosmtpd handler: what arrived, in order, parsed as ``EmailMessage``."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """Every message received so far for ``address``."""
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15) -> EmailMessage:
        """The ``count``-th message for ``address``, waiting for it to arrive."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.to(address)) >= count, timeout)
        assert arrived, f"no message #{count} for {address}; received: {[m['To'] for m in self.messages]}"
        return self.to(address)[count - 1]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def link_in(message: EmailMessage) -> str:
    """The one link of the text part that leads back to the provider (the action link)."""
    links = [link for link in LINK_RE.findall(text_of(message)) if "/confirmer/" in link or "/mot-de-passe/" in link]
    assert len(links) == 1, links
    return links[0]


@pytest.fixture
def smtp(app):
    """A real SMTP server for this test; the provider sends to it."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    previous = app.config.get("IDP_SMTP_URL")
    app.config["IDP_SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield mailbox
    finally:
        app.config["IDP_SMTP_URL"] = previous
        controller.stop()
