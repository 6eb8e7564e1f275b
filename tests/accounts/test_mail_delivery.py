"""Mail delivery: SMTP when configured, files in development, only for committed actions."""
from __future__ import annotations

import logging
import threading
from email import message_from_bytes, policy

import pytest

from account_steps import sign_up
from idp.mail.transport import SmtpSettings, parse_smtp_url
from smtp import link_in, text_of


class Records(logging.Handler):
    """The records of one logger, with a way to wait for the next one."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.arrived = threading.Event()

    def emit(self, record):
        self.records.append(record)
        self.arrived.set()


@pytest.fixture
def mail_log():
    logger = logging.getLogger("idp.mail.transport")
    handler, level, disabled = Records(), logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # The live server ran Alembic in this process, and its fileConfig()
    # disables every logger that existed before (disable_existing_loggers).
    logger.disabled = False
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.disabled = disabled


@pytest.fixture
def outbox_dir(app, tmp_path):
    previous = app.config["IDP_MAIL_DIR"], app.config.get("IDP_SMTP_URL")
    app.config["IDP_MAIL_DIR"], app.config["IDP_SMTP_URL"] = str(tmp_path / "mail"), None
    yield tmp_path / "mail"
    app.config["IDP_MAIL_DIR"], app.config["IDP_SMTP_URL"] = previous


def test_without_smtp_messages_are_written_to_the_instance_and_logged(live, browser, outbox_dir, mail_log):
    sign_up(browser, email="dev@cabinet.example")
    assert mail_log.arrived.wait(15), "the message was never handed over"
    files = list(outbox_dir.glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "dev@cabinet.example"
    token = link_in(message).rsplit("/", 1)[1]

    [record] = mail_log.records
    line = record.getMessage()
    assert "dev@cabinet.example" in line and "Confirmez votre adresse pour activer votre Comptexpert" in line
    assert token not in line, "the link's secret never goes to the log"


def test_an_unreachable_relay_does_not_undo_the_sign_up(app, live, browser, mail_log, load_user):
    from backends import free_port

    app.config["IDP_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    try:
        answer = sign_up(browser, email="relay-down@cabinet.example")
        assert mail_log.arrived.wait(15)
    finally:
        app.config["IDP_SMTP_URL"] = None
    assert answer.status_code == 200
    assert load_user("relay-down@cabinet.example") is not None, "the account exists; a new link can be asked"
    [record] = mail_log.records
    assert record.levelno == logging.ERROR and record.getMessage().startswith("mail not delivered:")


def test_a_rolled_back_action_sends_nothing(app, live, smtp):
    from idp.extensions import db
    from idp.mail import send_mail

    with app.app_context():
        send_mail("rolled-back@cabinet.example", "password_changed", "fr", name="X", identifiant="x",
                  reset_link="http://127.0.0.1/")
        db.session.rollback()
        send_mail("committed@cabinet.example", "password_changed", "fr", name="Y", identifiant="y",
                  reset_link="http://127.0.0.1/")
        db.session.commit()
    assert "Y" in text_of(smtp.wait_for("committed@cabinet.example"))
    assert [m["To"] for m in smtp.messages] == ["committed@cabinet.example"]


@pytest.mark.parametrize("url, settings", [
    ("smtp://relay.example", SmtpSettings("relay.example", 25)),
    ("smtp://relay.example:2525", SmtpSettings("relay.example", 2525)),
    ("smtp://relay.example?starttls=1", SmtpSettings("relay.example", 587, starttls=True)),
    ("smtps://idp%40ordre:p%40ss@relay.example", SmtpSettings("relay.example", 465, tls=True,
                                                             username="idp@ordre", password="p@ss")),
])
def test_smtp_url_forms(url, settings):
    assert parse_smtp_url(url) == settings


@pytest.mark.parametrize("url", ["http://relay.example", "smtp://", "relay.example:25"])
def test_a_malformed_smtp_url_is_refused(url):
    with pytest.raises(ValueError, match="IDP_SMTP_URL must look like smtp://host:port"):
        parse_smtp_url(url)
