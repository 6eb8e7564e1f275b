"""The rights catalogue: which relying sites exist and what rights they carry.

Plain data and lookups, with no knowledge of Flask or of the provider
(``idp``), so that it can be used and tested alone. Site files live in
``scopes/sites/*.toml``; see ``docs/rights.md``.
"""

from __future__ import annotations

import functools

from .acr import ACR_VALUES, acr_satisfies, max_acr
from .catalogue import Catalogue, Localized, Right, Site
from .errors import CatalogueError, ScopesError, UnknownAcr, UnknownRight, UnknownSite

__all__ = [
    "ACR_VALUES",
    "Catalogue",
    "CatalogueError",
    "Localized",
    "Right",
    "ScopesError",
    "Site",
    "UnknownAcr",
    "UnknownRight",
    "UnknownSite",
    "acr_satisfies",
    "default_catalogue",
    "max_acr",
]


@functools.cache
def default_catalogue() -> Catalogue:
    """Return the catalogue shipped with the package, loaded once per process.

    Raises ``CatalogueError`` if a packaged site file is invalid; the provider
    should call it at start-up so that this happens before any request.
    """
    return Catalogue.load()
