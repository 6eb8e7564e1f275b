"""Which firms an expert practises in, and the administrators' links."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..register.models import register_entry_firms
from .models import Firm, UserFirm
from .siret import check_siret

# Where a firm of an expert comes from.
FROM_REGISTER = "register"  # the Tableau de l'Ordre: read-only, kept by the regional council
FROM_ADMIN = "admin"        # linked by an administrator (idp firms link)


@dataclass(frozen=True)
class ExpertFirm:
    firm: Firm
    origin: str  # FROM_REGISTER or FROM_ADMIN (the register wins when both)


def _register_firm_ids(user):
    return select(register_entry_firms.c.firm_id).where(
        register_entry_firms.c.register_entry_id == user.register_entry_id
    )


def _linked_firm_ids(user):
    return select(UserFirm.firm_id).where(UserFirm.user_id == user.id)


def firms_of(user) -> list[Firm]:
    """The firms of ``user``: from his register entry, plus those an administrator linked.

    Only a verified expert practises in firms; anyone else has none.
    """
    return [item.firm for item in expert_firms(user)]


def expert_firms(user) -> list[ExpertFirm]:
    """``firms_of`` with where each firm comes from, ordered by raison sociale."""
    if not user.is_expert:
        return []
    from_register: set[int] = set()
    condition = Firm.id.in_(_linked_firm_ids(user))
    if user.register_entry_id is not None:
        from_register = set(db.session.scalars(_register_firm_ids(user)))
        condition = condition | Firm.id.in_(_register_firm_ids(user))
    firms = db.session.scalars(select(Firm).where(condition).order_by(Firm.raison_sociale, Firm.siret))
    return [ExpertFirm(firm, FROM_REGISTER if firm.id in from_register else FROM_ADMIN) for firm in firms]


def practises_in(user, firm_id: int) -> bool:
    """Whether ``user`` is a verified expert of firm ``firm_id``."""
    if not user.is_expert:
        return False
    condition = Firm.id.in_(_linked_firm_ids(user))
    if user.register_entry_id is not None:
        condition = condition | Firm.id.in_(_register_firm_ids(user))
    return db.session.scalar(select(Firm.id).where(Firm.id == firm_id, condition)) is not None


def load_firm(siret: str) -> Firm:
    """The firm with ``siret`` (separators allowed); ``NotFound`` otherwise."""
    firm = db.session.scalar(select(Firm).where(Firm.siret == check_siret(siret)))
    if firm is None:
        raise NotFound("Aucune société d'exercice ne porte ce SIRET.", field="siret")
    return firm


def link_firm(user, siret: str, raison_sociale: str | None = None, city: str | None = None,
              *, added_by: str = "admin") -> tuple[Firm, bool]:
    """An administrator links the verified expert ``user`` to the firm ``siret``; the caller commits.

    An unknown firm is created, which needs its ``raison_sociale``; a known
    one takes the names given (the next register import may correct them).
    Returns ``(firm, linked_now)``: linking twice changes nothing.
    """
    siret = check_siret(siret)
    if not user.is_expert:
        # firms_of shows firms to verified experts only: a link on anyone
        # else would be invisible, and a collaborator reaches a firm through
        # délégations, not through a link.
        raise Conflict("Ce compte n'est pas celui d'un expert-comptable vérifié : vérifiez-le d'abord.")
    raison_sociale = (raison_sociale or "").strip() or None
    city = (city or "").strip() or None
    if raison_sociale and len(raison_sociale) > 200:
        raise InvalidInput("Raison sociale trop longue (200 caractères au plus).", field="raison_sociale")
    if city and len(city) > 100:
        raise InvalidInput("Ville trop longue (100 caractères au plus).", field="city")
    firm = db.session.scalar(select(Firm).where(Firm.siret == siret))
    if firm is None:
        if not raison_sociale:
            raise InvalidInput("Société inconnue : donnez sa raison sociale pour la créer.", field="raison_sociale")
        firm = Firm(siret=siret, raison_sociale=raison_sociale, city=city or "")
        db.session.add(firm)
        db.session.flush()
    else:
        if raison_sociale:
            firm.raison_sociale = raison_sociale
        if city:
            firm.city = city
    exists = db.session.scalar(select(UserFirm.id).where(UserFirm.user_id == user.id, UserFirm.firm_id == firm.id))
    if exists is not None:
        return firm, False
    db.session.add(UserFirm(user_id=user.id, firm_id=firm.id, added_by=added_by))
    db.session.flush()
    return firm, True


def unlink_firm(user, siret: str) -> None:
    """Remove an administrator's link; a firm from the register is the regional council's to change."""
    firm = load_firm(siret)
    removed = db.session.execute(
        delete(UserFirm).where(UserFirm.user_id == user.id, UserFirm.firm_id == firm.id)
    ).rowcount
    if not removed:
        raise NotFound("Ce compte n'est pas rattaché à cette société par un administrateur.", field="siret")


def list_firms(limit: int | None = None, offset: int = 0) -> list[tuple[Firm, int, int]]:
    """Every firm, by raison sociale, with its number of register entries and of administrators' links."""
    from_register = (
        select(func.count()).select_from(register_entry_firms)
        .where(register_entry_firms.c.firm_id == Firm.id).scalar_subquery()
    )
    linked = select(func.count(UserFirm.id)).where(UserFirm.firm_id == Firm.id).scalar_subquery()
    query = select(Firm, from_register, linked).order_by(Firm.raison_sociale, Firm.siret).offset(offset)
    if limit:
        query = query.limit(limit)
    return [(firm, entries, links) for firm, entries, links in db.session.execute(query)]
