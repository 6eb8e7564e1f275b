"""Forms of the Mes délégations pages (Flask-WTF: each carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from scopes import default_catalogue


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes (the rights), as many as wanted."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def right_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """Every delegable right of the catalogue, with its label in ``locale``."""
    return [(r.id, r.label.get(locale)) for r in default_catalogue().delegable_rights()]


class FirmForm(FlaskForm):
    """Step 1: the firm."""

    firm_id = SelectField(_l("Société d'exercice"), coerce=int, validators=[DataRequired()])


class CollaboratorsForm(FlaskForm):
    """Step 2: the collaborators, typed or uploaded."""

    firm_id = HiddenField()
    emails = TextAreaField(_l("Adresses électroniques des collaborateurs, une par ligne"),
                           validators=[Optional(), Length(max=300000)],
                           render_kw={"rows": 8, "autocomplete": "off", "spellcheck": "false"})
    file = FileField(_l("ou une liste Excel (.xlsx) ou CSV"),
                     validators=[FileAllowed(["xlsx", "csv", "txt"], _l("Fichier Excel (.xlsx) ou CSV seulement."))])


class RightsForm(FlaskForm):
    """Step 3: the rights and the expiry; the checked list of collaborators travels along."""

    firm_id = HiddenField()
    emails = HiddenField()
    rights = CheckboxesField(_l("Droits délégués"))
    ends_on = DateField(_l("Date d'expiration (un an au plus)"), validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A button that changes something (activate, deactivate, remove, give up, cancel)."""


class ExtendForm(FlaskForm):
    ends_on = DateField(_l("Nouvelle date d'expiration (un an au plus à partir d'aujourd'hui)"),
                        validators=[DataRequired()])


class ChangeRightsForm(FlaskForm):
    rights = CheckboxesField(_l("Droits délégués"))


class ApproveForm(FlaskForm):
    rights = CheckboxesField(_l("Droits accordés"))
    ends_on = DateField(_l("Date d'expiration (un an au plus)"), validators=[DataRequired()])


class RefuseForm(FlaskForm):
    reason = TextAreaField(_l("Motif du refus"), validators=[DataRequired(), Length(max=1000)],
                           render_kw={"rows": 3})


class RequestForm(FlaskForm):
    """Demander des délégations: to which expert, for which firm, which rights, why."""

    expert = StringField(_l("Expert-comptable (adresse électronique ou identifiant)"),
                         validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "off"})
    siret = StringField(_l("SIRET de la société d'exercice"), validators=[DataRequired(), Length(max=32)],
                        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    rights = CheckboxesField(_l("Droits demandés"))
    message = TextAreaField(_l("Message à l'expert-comptable"), validators=[Optional(), Length(max=1000)],
                            render_kw={"rows": 3})
    ends_on = DateField(_l("Jusqu'au (facultatif, un an au plus)"), validators=[Optional()])


class SearchForm(FlaskForm):
    """The filter of Consulter/Modifier (a GET form: nothing to protect)."""

    class Meta:
        csrf = False

    q = StringField(_l("Rechercher un collaborateur"), validators=[Optional(), Length(max=100)])
    firm = SelectField(_l("Société"), validators=[Optional()])
    state = SelectField(_l("État"), validators=[Optional()])
