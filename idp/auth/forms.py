"""Login forms (Flask-WTF: every form carries a CSRF token)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    login = StringField(_l("Identifiant ou adresse électronique"), validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    interaction = HiddenField()
    submit = SubmitField(_l("Se connecter"))


class SecondFactorForm(FlaskForm):
    """The second step: a code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code de vérification"), validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters",
                                  "spellcheck": "false", "autofocus": True})
    submit = SubmitField(_l("Valider"))


class ConfirmForm(FlaskForm):
    """A bare form whose only field is the CSRF token (logout, consent, withdraw)."""
