"""Errors raised by the rights catalogue.

    ScopesError
    ├── CatalogueError   a site file is malformed (raised at load time)
    ├── UnknownRight     a right id the catalogue does not hold
    ├── UnknownSite      a site id or audience the catalogue does not hold
    └── UnknownAcr       an assurance level outside ACR_VALUES

The lookup errors are also ``LookupError`` and ``UnknownAcr`` a
``ValueError``, so callers that only know the builtin families still catch
them.
"""

from __future__ import annotations


class ScopesError(Exception):
    """Base class of every error raised by the ``scopes`` package."""


class CatalogueError(ScopesError):
    """A site file (or a set of them) does not describe a valid catalogue.

    ``source`` is the file, ``field`` the dotted path of the offending key
    inside it (``rights.signer.label.en``); either may be ``None`` when the
    problem is not tied to one.
    """

    def __init__(self, source: str | None, field: str | None, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(": ".join(part for part in (source, field, problem) if part))


class UnknownRight(ScopesError, LookupError):
    """No right with this identifier is in the catalogue."""

    def __init__(self, right_id: str) -> None:
        self.right_id = right_id
        super().__init__(f"unknown right {right_id!r}")


class UnknownSite(ScopesError, LookupError):
    """No site with this identifier or audience is in the catalogue."""

    def __init__(self, what: str, value: str) -> None:
        self.value = value
        super().__init__(f"no site with {what} {value!r}")


class UnknownAcr(ScopesError, ValueError):
    """An assurance level that is not one of ``ACR_VALUES``."""

    def __init__(self, acr: object) -> None:
        self.acr = acr
        super().__init__(f"unknown acr {acr!r}")
