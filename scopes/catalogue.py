"""The catalogue of rights an expert can delegate, loaded from data files.

Each relying site is described by one TOML file in ``scopes/sites/``: its
identifier, its audience (the resource URI its tokens are issued for), its
name, and its rights. A right is named ``<site>:<right>``
(``jesignexpert:signer``); that string is also the OAuth scope value.

Everything is checked when the files are loaded, so a typo in a site file
stops the provider at start-up instead of surfacing as a right nobody can
grant, or worse, one that is granted at the wrong assurance level.
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .acr import ACR_VALUES
from .errors import CatalogueError, UnknownRight, UnknownSite

__all__ = [
    "ID_SYNTAX",
    "PERSONAL_MIN_ACR",
    "Catalogue",
    "Localized",
    "Right",
    "Site",
    "load_site",
    "parse_site",
]

ID_SYNTAX = r"^[a-z][a-z0-9_]*$"
# fullmatch rather than ``$``: ``$`` also matches before a trailing newline,
# which would let "signer\n" through as an identifier.
_ID = re.compile(ID_SYNTAX.removeprefix("^").removesuffix("$"))

# A personal right is exercised with the collaborator's own Signexpert
# certificate, so the session must have been opened with that certificate.
PERSONAL_MIN_ACR = "eidas3"

_SITE_KEYS = ("id", "audience", "name", "rights")
_RIGHT_KEYS = ("label", "description", "delegable", "min_acr", "personal")
_LOCALES = ("fr", "en")

_SITES_DIR = files("scopes") / "sites"


@dataclass(frozen=True, slots=True)
class Localized:
    """A text in French (the users' language) and English."""

    fr: str
    en: str

    def get(self, locale: str | None = None) -> str:
        """Return the text for ``locale`` (``en``, ``en-GB``, ``fr_FR``...).

        Anything that is not English gets French, the language of the
        profession and of the source texts.
        """
        if locale and re.split(r"[-_]", locale, maxsplit=1)[0].lower() == "en":
            return self.en
        return self.fr


@dataclass(frozen=True, slots=True)
class Right:
    """A right of one relying site, as an expert delegates it.

    ``id`` is ``<site_id>:<short_id>`` and is the OAuth scope value.
    ``delegable`` says whether an expert may give it to a collaborator; no
    right confers the power to delegate (only a verified expert delegates,
    and a collaborator never passes a delegation on). ``personal`` rights
    are exercised under the collaborator's own certificate rather than on
    behalf of the firm.
    """

    id: str
    site_id: str
    audience: str
    label: Localized
    description: Localized
    delegable: bool
    min_acr: str
    personal: bool

    @property
    def short_id(self) -> str:
        """The right's name within its site (``signer`` for ``jesignexpert:signer``)."""
        return self.id.partition(":")[2]


@dataclass(frozen=True, slots=True)
class Site:
    """A relying site: the audience of the tokens that carry its rights."""

    id: str
    audience: str
    name: Localized
    rights: tuple[Right, ...]


class Catalogue:
    """The sites and their rights, in file-name order then file order.

    Build one with ``Catalogue.load()``; the constructor trusts that each
    ``Site`` is well formed and only checks that identifiers and audiences
    are unique.
    """

    def __init__(self, sites: Iterable[Site]) -> None:
        self._sites: dict[str, Site] = {}
        self._by_audience: dict[str, Site] = {}
        self._rights: dict[str, Right] = {}
        for site in sites:
            if site.id in self._sites:
                raise CatalogueError(None, "id", f"duplicate site id {site.id!r}")
            if site.audience in self._by_audience:
                raise CatalogueError(None, "audience", f"duplicate audience {site.audience!r}")
            self._sites[site.id] = site
            self._by_audience[site.audience] = site
            for right in site.rights:
                if right.id in self._rights:
                    raise CatalogueError(None, "rights", f"duplicate right id {right.id!r}")
                self._rights[right.id] = right

    @classmethod
    def load(cls, path: str | os.PathLike[str] | Traversable | None = None) -> Catalogue:
        """Load and validate every ``*.toml`` site file in the directory ``path``.

        ``path`` defaults to the site files shipped with the package. Raises
        ``CatalogueError`` naming the file and the field at fault.
        """
        root: Traversable
        if path is None:
            root = _SITES_DIR
        elif isinstance(path, (str, os.PathLike)):
            root = Path(path)
        else:
            root = path
        if not root.is_dir():
            raise CatalogueError(str(root), None, "not a directory")
        # Dot-files are editor lock and backup files, never sites.
        entries = sorted(
            (
                entry
                for entry in root.iterdir()
                if entry.name.endswith(".toml")
                and not entry.name.startswith(".")
                and entry.is_file()
            ),
            key=lambda entry: entry.name,
        )
        if not entries:
            raise CatalogueError(str(root), None, "no site files (*.toml)")

        sites: list[Site] = []
        id_sources: dict[str, str] = {}
        audience_sources: dict[str, tuple[str, str]] = {}
        for entry in entries:
            source = str(entry)
            site = load_site(entry)
            if site.id in id_sources:
                raise CatalogueError(
                    source,
                    "id",
                    f"duplicate site id {site.id!r}, already declared in {id_sources[site.id]}",
                )
            if site.audience in audience_sources:
                other_id, other_source = audience_sources[site.audience]
                raise CatalogueError(
                    source,
                    "audience",
                    f"duplicate audience {site.audience!r}, "
                    f"already declared by site {other_id!r} in {other_source}",
                )
            id_sources[site.id] = source
            audience_sources[site.audience] = (site.id, source)
            sites.append(site)
        return cls(sites)

    def right(self, right_id: str) -> Right:
        """Return the right ``right_id`` (``site:right``); raise ``UnknownRight`` if absent."""
        try:
            return self._rights[right_id]
        except KeyError:
            raise UnknownRight(right_id) from None

    def site(self, site_id: str) -> Site:
        """Return the site ``site_id``; raise ``UnknownSite`` if absent."""
        try:
            return self._sites[site_id]
        except KeyError:
            raise UnknownSite("id", site_id) from None

    def site_for_audience(self, audience: str) -> Site:
        """Return the site whose audience is exactly ``audience``; raise ``UnknownSite`` if none."""
        try:
            return self._by_audience[audience]
        except KeyError:
            raise UnknownSite("audience", audience) from None

    def rights_for_audience(self, audience: str) -> tuple[Right, ...]:
        """Return the rights carried by tokens for ``audience``; raise ``UnknownSite`` if none."""
        return self.site_for_audience(audience).rights

    def sites(self) -> tuple[Site, ...]:
        """Return every site."""
        return tuple(self._sites.values())

    def rights(self) -> tuple[Right, ...]:
        """Return every right, site by site."""
        return tuple(self._rights.values())

    def delegable_rights(self) -> tuple[Right, ...]:
        """Return the rights an expert may give to a collaborator."""
        return tuple(right for right in self._rights.values() if right.delegable)

    def audiences(self) -> tuple[str, ...]:
        """Return the audience of every site."""
        return tuple(self._by_audience)

    def __repr__(self) -> str:
        return f"<Catalogue: {len(self._sites)} sites, {len(self._rights)} rights>"


def load_site(entry: Traversable) -> Site:
    """Read and validate one site file; raise ``CatalogueError`` on any fault."""
    source = str(entry)
    try:
        data = tomllib.loads(entry.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        problem = f"not valid UTF-8 ({exc.reason} at byte {exc.start})"
        raise CatalogueError(source, None, problem) from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(source, None, f"invalid TOML: {exc}") from exc
    return parse_site(data, source)


def parse_site(data: Mapping[str, Any], source: str) -> Site:
    """Build a ``Site`` from the parsed content of a site file.

    ``source`` names the file in error messages. Raises ``CatalogueError``.
    """
    _check_keys(data, _SITE_KEYS, source, "")
    site_id = _identifier(data["id"], "site", source, "id")
    audience = _audience(data["audience"], source, "audience")
    name = _localized(data["name"], source, "name")
    rights_table = _table(data["rights"], source, "rights")
    if not rights_table:
        raise CatalogueError(source, "rights", "must declare at least one right")
    rights = tuple(
        _parse_right(site_id, audience, short_id, table, source)
        for short_id, table in rights_table.items()
    )
    return Site(id=site_id, audience=audience, name=name, rights=rights)


def _parse_right(site_id: str, audience: str, short_id: str, value: Any, source: str) -> Right:
    path = f"rights.{short_id}"
    _identifier(short_id, "right", source, path)
    table = _table(value, source, path)
    _check_keys(table, _RIGHT_KEYS, source, path)
    label = _localized(table["label"], source, f"{path}.label")
    description = _localized(table["description"], source, f"{path}.description")
    delegable = _boolean(table["delegable"], source, f"{path}.delegable")
    min_acr = _string(table["min_acr"], source, f"{path}.min_acr")
    if min_acr not in ACR_VALUES:
        raise CatalogueError(
            source,
            f"{path}.min_acr",
            f"unknown acr {min_acr!r} (expected one of {', '.join(ACR_VALUES)})",
        )
    personal = _boolean(table["personal"], source, f"{path}.personal")
    if personal and min_acr != PERSONAL_MIN_ACR:
        raise CatalogueError(
            source,
            f"{path}.min_acr",
            f"a personal right is exercised with the collaborator's own certificate "
            f"and must require {PERSONAL_MIN_ACR!r}, got {min_acr!r}",
        )
    return Right(
        id=f"{site_id}:{short_id}",
        site_id=site_id,
        audience=audience,
        label=label,
        description=description,
        delegable=delegable,
        min_acr=min_acr,
        personal=personal,
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], source: str, path: str) -> None:
    # Unknown keys first: a misspelt key ("min_arc") is better reported as
    # such, with a suggestion, than as the correct key being missing.
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise CatalogueError(source, _join(path, key), f"unknown key{hint}")
    for key in allowed:
        if key not in table:
            raise CatalogueError(source, _join(path, key), "missing")


def _toml_type(value: Any) -> str:
    # bool before int: True is an int in Python but a boolean in TOML.
    for python_type, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "float"),
        (str, "string"),
        (dict, "table"),
        (list, "array"),
        (datetime.datetime, "datetime"),
        (datetime.date, "date"),
        (datetime.time, "time"),
    ):
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _table(value: Any, source: str, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CatalogueError(source, path, f"must be a table, got {_toml_type(value)}")
    return value


def _string(value: Any, source: str, path: str) -> str:
    if not isinstance(value, str):
        raise CatalogueError(source, path, f"must be a string, got {_toml_type(value)}")
    if not value.strip():
        raise CatalogueError(source, path, "must not be empty")
    return value


def _boolean(value: Any, source: str, path: str) -> bool:
    if not isinstance(value, bool):
        raise CatalogueError(source, path, f"must be a boolean, got {_toml_type(value)}")
    return value


def _identifier(value: Any, kind: str, source: str, path: str) -> str:
    if not isinstance(value, str):
        raise CatalogueError(source, path, f"must be a string, got {_toml_type(value)}")
    if not _ID.fullmatch(value):
        raise CatalogueError(
            source, path, f"{value!r} is not a valid {kind} identifier (expected {ID_SYNTAX})"
        )
    return value


def _localized(value: Any, source: str, path: str) -> Localized:
    table = _table(value, source, path)
    _check_keys(table, _LOCALES, source, path)
    return Localized(
        fr=_string(table["fr"], source, f"{path}.fr"),
        en=_string(table["en"], source, f"{path}.en"),
    )


def _audience(value: Any, source: str, path: str) -> str:
    audience = _string(value, source, path)
    problem = _audience_problem(audience)
    if problem:
        raise CatalogueError(source, path, f"{audience!r} is not a valid audience: {problem}")
    return audience


def _audience_problem(audience: str) -> str | None:
    """Say why ``audience`` cannot be a resource indicator, or return None.

    RFC 8707 section 2 asks for an absolute URI without a fragment (and
    advises against a query). Beyond that, audiences are compared as exact
    strings in tokens, so each site gets one canonical spelling: lowercase
    host, no trailing slash, no userinfo.
    """
    if any(char.isspace() for char in audience):
        return "contains whitespace"
    if not audience.startswith("https://"):
        return "not an absolute https URI"
    try:
        parts = urlsplit(audience)
        parts.port  # noqa: B018 -- parsing the port is what validates it
    except ValueError:
        return "not an absolute https URI"
    if not parts.hostname:
        return "not an absolute https URI"
    if "@" in parts.netloc:
        return "contains userinfo"
    if "?" in audience:
        return "contains a query"
    if "#" in audience:
        return "contains a fragment"
    if audience.endswith("/"):
        return "ends with '/'"
    if parts.netloc != parts.netloc.lower():
        return "host is not lowercase"
    return None
