"""Which firms an expert practises in."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..register.models import register_entry_firms
from .models import Firm, UserFirm


def firms_of(user) -> list[Firm]:
    """The firms of ``user``: from his register entry, plus those an administrator linked.

    Only a verified expert practises in firms; anyone else has none.
    """
    if not user.is_expert:
        return []
    linked = select(UserFirm.firm_id).where(UserFirm.user_id == user.id)
    query = select(Firm).where(Firm.id.in_(linked))
    if user.register_entry_id is not None:
        from_register = select(register_entry_firms.c.firm_id).where(
            register_entry_firms.c.register_entry_id == user.register_entry_id
        )
        query = select(Firm).where(Firm.id.in_(linked) | Firm.id.in_(from_register))
    return list(db.session.scalars(query.order_by(Firm.raison_sociale)))


def practises_in(user, firm_id: int) -> bool:
    """Whether ``user`` is a verified expert of firm ``firm_id``."""
    return any(f.id == firm_id for f in firms_of(user))
