"""The Mon Espace menu, filled by each blueprint that has a page in it."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class MenuEntry:
    order: int
    label: object
    endpoint: str


def add_menu_entry(bp, order: int, label, endpoint: str) -> None:
    """Declare a Mon Espace menu entry when ``bp`` is registered on an app."""

    def record(state):
        entries = state.app.extensions.setdefault("account_menu", [])
        entries.append(MenuEntry(order, label, endpoint))
        entries.sort(key=lambda e: e.order)

    bp.record_once(record)


__all__ = ["MenuEntry", "add_menu_entry", "_l"]
