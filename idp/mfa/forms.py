"""Sécurité forms (Flask-WTF: every form carries a CSRF token).

Several of them share one page: fields get ids of their own, so that each
label and error message points at the right input.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

_CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}


class StartEnrolmentForm(FlaskForm):
    submit = SubmitField(_l("Ajouter une application d'authentification"), id="start-submit")


class ConfirmEnrolmentForm(FlaskForm):
    code = StringField(_l("Code affiché par l'application"), validators=[DataRequired(), Length(max=16)],
                       render_kw=_CODE_ATTRS)
    submit = SubmitField(_l("Activer"))


class DisableForm(FlaskForm):
    password = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"}, id="disable-password")
    code = StringField(_l("Code de l'application ou code de secours"), validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false"}, id="disable-code")
    submit = SubmitField(_l("Désactiver l'application"), id="disable-submit")


class RegenerateForm(FlaskForm):
    code = StringField(_l("Code affiché par l'application"), validators=[DataRequired(), Length(max=16)],
                       render_kw=_CODE_ATTRS, id="regenerate-code")
    submit = SubmitField(_l("Générer de nouveaux codes de secours"), id="regenerate-submit")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired(), Length(max=256)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("Nouveau mot de passe"), validators=[DataRequired(), Length(max=256)],
                                 render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField(
        _l("Confirmation du nouveau mot de passe"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("Les deux mots de passe diffèrent."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Changer le mot de passe"), id="password-submit")
