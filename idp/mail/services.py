"""Rendering messages and the outbox that follows the database transaction."""
from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import after_this_request, current_app, g, has_request_context
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .transport import deliver

MAIL_LOCALES = ("fr", "en")
_OUTBOX = "idp.mail.outbox"


def mail_locale(user) -> str:
    """The language of messages to ``user``: French unless he chose English."""
    return "en" if getattr(user, "locale", None) == "en" else "fr"


def render_message(to: str, template: str, locale: str, **context) -> EmailMessage:
    """Build the multipart (text, then HTML) message of ``templates/mail/<template>``.

    The text template sets ``subject`` at its top level
    (``{% set subject = _("...") %}``), so the subject is translated with
    the body and lives next to it.
    """
    locale = locale if locale in MAIL_LOCALES else "fr"
    env = current_app.jinja_env
    context = {**context, "locale": locale}
    with force_locale(locale):
        text_module = env.get_template(f"mail/{template}.txt").make_module(context)
        text = str(text_module)
        subject = str(text_module.subject).strip()
        html = env.get_template(f"mail/{template}.html").render(context, subject=subject)

    sender = current_app.config["IDP_MAIL_FROM"]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    # RFC 3834: automatic messages, so that vacation responders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # After add_alternative, which moves Content-* headers into the first part.
    message["Content-Language"] = locale
    return message


def send_mail(to: str, template: str, locale: str, **context) -> EmailMessage:
    """Render a message and queue it; it leaves when the database session commits.

    Call it from a service, inside the transaction of the action it reports:
    if that transaction rolls back, the message is dropped.
    """
    Address(addr_spec=to)  # refuses a malformed address (or a header injection) now, not at delivery
    message = render_message(to, template, locale, **context)
    config = current_app.config
    settings = {"smtp_url": config.get("IDP_SMTP_URL"), "mail_dir": config["IDP_MAIL_DIR"],
                "timeout": config["IDP_SMTP_TIMEOUT"]}
    session = db.session()
    # Join a real transaction (begun now if none is): a commit or rollback of
    # an empty session fires no event, and the message would linger.
    session.connection()
    session.info.setdefault(_OUTBOX, []).append((message, settings))
    return message


def _deliver_all(messages) -> None:
    for message, settings in messages:
        deliver(message, **settings)


def _deliver_after_response(response):
    # ``call_on_close`` runs once the server has written the whole answer:
    # how long the relay takes is then invisible to the client, so the time
    # of a "forgot password" answer does not tell whether a mail was sent
    # (that is, whether the account exists).
    messages = g.pop("mail_after_response", [])
    if messages:
        response.call_on_close(lambda: _deliver_all(messages))
    return response


@event.listens_for(Session, "after_commit")
def _release_outbox(session: Session) -> None:
    messages = session.info.pop(_OUTBOX, [])
    if not messages:
        return
    if not has_request_context():  # the command line: nobody to hide timing from
        _deliver_all(messages)
        return
    if "mail_after_response" not in g:
        g.mail_after_response = []
        after_this_request(_deliver_after_response)
    g.mail_after_response.extend(messages)


@event.listens_for(Session, "after_transaction_end")
def _drop_outbox(session: Session, transaction) -> None:
    # The outermost transaction ended: after a commit the outbox is already
    # empty; after a rollback or a close, the action did not happen and its
    # messages must not go.
    if transaction.parent is None:
        session.info.pop(_OUTBOX, None)
