"""What each OAuth scope means, in words a user understands (consent page)."""
from flask_babel import lazy_gettext as _l

SCOPE_LABELS = {
    "openid": _l("Vous reconnaître grâce à votre compte Comptexpert"),
    "profile": _l("Connaître vos nom, prénoms et identifiant"),
    "email": _l("Connaître votre adresse électronique"),
    "firms": _l("Connaître vos sociétés d'exercice et si vous y êtes expert-comptable ou collaborateur"),
    "rights": _l("Connaître les droits que vous détenez sur ses sites, société par société"),
    "delegations": _l("Gérer vos délégations : consulter, donner, demander et modifier des droits"),
}


def scope_label(scope: str) -> str:
    return str(SCOPE_LABELS.get(scope, scope))
