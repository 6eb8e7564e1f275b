"""Mes sociétés d'exercice: the firms an expert practises in."""
from flask import Blueprint, render_template

from ..account.views import login_required
from ..accounts.models import EXPERT_PENDING
from ..menu import _l, add_menu_entry
from ..sessions.web import current_login
from .services import FROM_REGISTER, expert_firms

bp = Blueprint("firms", __name__, url_prefix="/compte")
add_menu_entry(bp, 20, _l("Mes sociétés d'exercice"), "firms.index")


@bp.get("/societes")
@login_required
def index():
    user = current_login().user
    return render_template(
        "firms/index.html", user=user, firms=expert_firms(user), pending=user.expert_status == EXPERT_PENDING,
        from_register=FROM_REGISTER,
    )
