"""Sign-up, email link, password reset and Mes informations forms (Flask-WTF: CSRF on each)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField, SubmitField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from .models import PROFILES
from .services import LOCALES, MIN_PASSWORD_LENGTH, names_owned_by_register

_REQUIRED = _l("Ce champ est obligatoire.")
PASSWORD_HINT = _l("%(min)d caractères au moins ; une phrase facile à retenir convient très bien.",
                   min=MIN_PASSWORD_LENGTH)
LOCALE_LABELS = {"fr": "Français", "en": "English"}


def _text(label, max_length: int, *, required: bool = False, autocomplete: str | None = None):
    validators = [DataRequired(message=_REQUIRED)] if required else [Optional()]
    render_kw = {"autocomplete": autocomplete} if autocomplete else {}
    if required:
        render_kw["required"] = True
    return StringField(label, validators=validators + [Length(max=max_length)], render_kw=render_kw)


class _Information(FlaskForm):
    """What a person says about himself, as on the seed's Mes informations."""

    company = _text(_l("Société"), 200, autocomplete="organization")
    address = _text(_l("Adresse principale"), 300, autocomplete="street-address")
    postal_code = _text(_l("Code postal"), 16, autocomplete="postal-code")
    city = _text(_l("Ville"), 100, autocomplete="address-level2")
    phone = TelField(_l("Téléphone"), validators=[Optional(), Length(max=32)], render_kw={"autocomplete": "tel"})


class _Names(FlaskForm):
    given_name = _text(_l("Prénoms"), 100, required=True, autocomplete="given-name")
    family_name = _text(_l("Nom"), 100, required=True, autocomplete="family-name")


class SignupForm(_Names, _Information):
    profile = RadioField(_l("Vous êtes…"), choices=[SelectChoice(code, label) for code, label in PROFILES],
                         validators=[InputRequired(message=_l("Choisissez votre profil."))])
    email = EmailField(_l("Adresse électronique"), validators=[DataRequired(message=_REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "email", "required": True})
    numero_inscription = _text(_l("Numéro d'inscription au Tableau de l'Ordre"), 32)
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(message=_REQUIRED), Length(max=256)],
                             description=PASSWORD_HINT,
                             render_kw={"autocomplete": "new-password", "required": True})
    password_confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[DataRequired(message=_REQUIRED), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
        render_kw={"autocomplete": "new-password", "required": True},
    )
    submit = SubmitField(_l("Créer mon Comptexpert"))


class ResendForm(FlaskForm):
    email = EmailField(_l("Adresse électronique"), validators=[DataRequired(message=_REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "email", "required": True})
    submit = SubmitField(_l("Recevoir un nouveau lien"))


class ConfirmEmailForm(FlaskForm):
    """A button: the link in the mail opens a page, and only this POST uses the link.

    Mail scanners fetch links to inspect them; a GET that used the link
    would spend it before its owner clicks.
    """

    submit = SubmitField(_l("Confirmer mon adresse"))


class ResetRequestForm(FlaskForm):
    login = StringField(_l("Identifiant ou adresse électronique"),
                        validators=[DataRequired(message=_REQUIRED), Length(max=254)],
                        render_kw={"autocomplete": "username", "autocapitalize": "none", "required": True})
    submit = SubmitField(_l("Recevoir un lien"))


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("Nouveau mot de passe"), validators=[DataRequired(message=_REQUIRED), Length(max=256)],
                             description=PASSWORD_HINT,
                             render_kw={"autocomplete": "new-password", "required": True})
    password_confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[DataRequired(message=_REQUIRED), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
        render_kw={"autocomplete": "new-password", "required": True},
    )
    submit = SubmitField(_l("Changer mon mot de passe"))


class _Contact(FlaskForm):
    email = EmailField(_l("Courriel"), validators=[DataRequired(message=_REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "email", "required": True})
    locale = RadioField(_l("Langue des pages et des messages"), choices=[SelectChoice(code, LOCALE_LABELS[code]) for code in LOCALES],
                        validators=[InputRequired(message=_REQUIRED)])
    submit = SubmitField(_l("Enregistrer"))


class InformationForm(_Names, _Information, _Contact):
    """Mes informations, for an account whose names are his own."""


class RegisterOwnedInformationForm(_Information, _Contact):
    """Mes informations for a verified expert: his names belong to the register, they are not fields."""


def information_form(user, **kwargs) -> FlaskForm:
    """The Mes informations form that fits ``user``, filled from his account."""
    form_class = RegisterOwnedInformationForm if names_owned_by_register(user) else InformationForm
    return form_class(obj=user, **kwargs)
