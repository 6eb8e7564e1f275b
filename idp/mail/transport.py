"""Delivery of a rendered message: SMTP when configured, a file otherwise.

Plain Python (``smtplib``), no Flask: the caller passes the settings.
"""
from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand messages over; parsed from ``IDP_SMTP_URL``."""

    host: str
    port: int
    tls: bool = False        # smtps://: TLS from the first byte (RFC 8314)
    starttls: bool = False   # smtp://...?starttls=1: upgrade before authenticating (RFC 3207)
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpSettings:
    """``smtp://[user:pass@]host[:port][?starttls=1]`` or ``smtps://[user:pass@]host[:port]``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("IDP_SMTP_URL must look like smtp://host:port or smtps://user:pass@host")
    tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = not tls and query.get("starttls", ["0"])[0].lower() in _TRUE
    default_port = 465 if tls else (587 if starttls else 25)
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or default_port,
        tls=tls,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def send_smtp(message: EmailMessage, settings: SmtpSettings, *, timeout: float) -> None:
    """Hand ``message`` to the SMTP server; raises ``smtplib.SMTPException`` or ``OSError``."""
    # Certificates are verified: credentials and reset links must not go to
    # whoever sits between us and the relay.
    context = ssl.create_default_context()
    if settings.tls:
        connection = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with connection as smtp:
        if settings.starttls:
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


def write_eml(message: EmailMessage, directory: str | Path) -> Path:
    """Write ``message`` as an ``.eml`` file in ``directory`` (development outbox)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
    path.write_bytes(bytes(message))
    return path


def deliver(message: EmailMessage, *, smtp_url: str | None, mail_dir: str, timeout: float) -> bool:
    """Deliver one message; ``True`` when it left. Failures are logged, never raised.

    The action that caused the message has already been committed: a relay
    that is down must not turn it into an error page. Only the subject and
    the recipient are logged, never the body, which may hold a link token.
    """
    subject, recipient = message["Subject"], message["To"]
    try:
        if smtp_url:
            send_smtp(message, parse_smtp_url(smtp_url), timeout=timeout)
            log.info("mail sent: %r to %s", subject, recipient)
        else:
            path = write_eml(message, mail_dir)
            log.info("mail written to %s: %r to %s", path, subject, recipient)
        return True
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        log.error("mail not delivered: %r to %s (%s: %s)", subject, recipient, type(exc).__name__, exc)
        return False
