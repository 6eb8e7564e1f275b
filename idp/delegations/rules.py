"""The rules every delegation obeys, whoever the caller: duration and rights.

Plain functions of their arguments (no database), so that they can be
checked exhaustively and with property-based tests.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timezone

from flask_babel import gettext as _

from scopes import Catalogue, UnknownRight, default_catalogue

from ..errors import InvalidInput

MAX_RIGHTS = 50


def one_year_after(moment: datetime) -> datetime:
    """The same instant one calendar year later; 29 February gives 28 February.

    "Un an maximum" is a calendar year, as people count it, not 365 days.
    """
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February, and the next year is not a leap year
        return moment.replace(year=moment.year + 1, day=28)


def default_ends_at(now: datetime) -> datetime:
    """When a delegation ends if the expert does not say: one year from now, the maximum."""
    return one_year_after(now)


def check_ends_at(ends_at: datetime, now: datetime) -> datetime:
    """``ends_at`` if it is after ``now`` and at most one year from ``now``; ``InvalidInput`` otherwise.

    ``now`` is the moment the delegation is granted, approved or extended:
    nobody, through any page or API, holds a right for more than a year
    without an expert renewing it.
    """
    if ends_at.tzinfo is not None:
        ends_at = ends_at.astimezone(timezone.utc).replace(tzinfo=None)
    ends_at = ends_at.replace(microsecond=0)
    if ends_at <= now:
        raise InvalidInput(_("La date d'expiration doit être dans le futur."), code="ends_at_in_past", field="ends_at")
    if ends_at > one_year_after(now):
        raise InvalidInput(_("Une délégation dure un an au plus."), code="ends_at_beyond_one_year", field="ends_at")
    return ends_at


def ends_at_of_day(day: date) -> datetime:
    """The instant a delegation "expire le <day>": the start of that day (UTC).

    A date picked in the pages means the delegation no longer applies on
    that day; today therefore is refused and the day one year from today is
    the last accepted.
    """
    return datetime.combine(day, time(0, 0))


def check_rights(rights: Iterable[str], catalogue: Catalogue | None = None) -> list[str]:
    """The rights, deduplicated and sorted, if each is known and delegable; ``InvalidInput`` otherwise.

    No right lets its holder delegate (not even "Droits administratifs"):
    the power to delegate belongs to verified experts only, so nothing here
    can hand it over.
    """
    catalogue = catalogue or default_catalogue()
    wanted = sorted({str(r).strip() for r in rights if str(r).strip()})
    if not wanted:
        raise InvalidInput(_("Choisissez au moins un droit."), code="no_rights", field="rights")
    if len(wanted) > MAX_RIGHTS:
        raise InvalidInput(_("Trop de droits."), code="too_many_rights", field="rights")
    for right_id in wanted:
        try:
            right = catalogue.right(right_id)
        except UnknownRight:
            raise InvalidInput(_("Droit inconnu : %(right)s.", right=right_id[:64]), code="unknown_right",
                               field="rights") from None
        if not right.delegable:
            raise InvalidInput(_("Ce droit ne se délègue pas : %(right)s.", right=right_id), code="right_not_delegable",
                               field="rights")
    return wanted
