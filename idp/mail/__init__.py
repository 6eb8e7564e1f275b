"""Mail: messages rendered from templates, sent once the database has committed.

    send_mail(to, template, locale, **context)
        renders ``templates/mail/<template>.txt`` and ``.html`` in ``locale``
        and puts the message in the outbox of the current database session;
    the outbox is delivered after the session commits and dropped when it
    rolls back, so no one is told of an action that did not happen; during
    a request it leaves once the answer has been sent, so the answer time
    does not tell whether a message was sent;
    delivery is SMTP (``IDP_SMTP_URL``) or, in development, an ``.eml`` file
    in ``IDP_MAIL_DIR`` plus a log line.
"""
from .services import mail_locale, send_mail

__all__ = ["mail_locale", "send_mail"]
