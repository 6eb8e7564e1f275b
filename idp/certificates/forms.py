"""SIGNEXPERT forms (Flask-WTF: every one carries a CSRF token)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class CertificateLoginForm(FlaskForm):
    """Log in with the certificate this connection presented."""

    interaction = HiddenField()
    submit = SubmitField(_l("Se connecter avec ce certificat"))


class BindCertificateForm(FlaskForm):
    """Bind the certificate this connection presented to the logged-in account."""

    submit = SubmitField(_l("Associer ce certificat à mon compte"))
