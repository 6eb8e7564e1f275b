"""The rights catalogue: the shipped data, the lookups, and load-time validation."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scopes
from scopes import (
    ACR_VALUES,
    Catalogue,
    CatalogueError,
    Right,
    Site,
    UnknownRight,
    UnknownSite,
    default_catalogue,
)
from scopes.catalogue import ID_SYNTAX, Localized

ID_RE = re.compile(r"[a-z][a-z0-9_]*")


# --- writing site files -------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string, except that TOML also wants
        # DEL escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{toml_key(key)} = {toml_value(item)}" for key, item in value.items())
        return "{ " + items + " }"
    raise TypeError(value)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def to_toml(data: dict[str, Any]) -> str:
    return "".join(f"{toml_key(key)} = {toml_value(value)}\n" for key, value in data.items())


def write_site(directory: Path, name: str, data: dict[str, Any] | str) -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else to_toml(data), encoding="utf-8")
    return path


def a_right(**changes: Any) -> dict[str, Any]:
    right = {
        "label": {"fr": "Acme : lire", "en": "Acme: read"},
        "description": {"fr": "Lire les documents.", "en": "Read the documents."},
        "delegable": True,
        "min_acr": "eidas1",
        "personal": False,
    }
    right.update(changes)
    return right


def a_site(
    site_id: str = "acme", audience: str = "https://acme.example", **rights: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": site_id,
        "audience": audience,
        "name": {"fr": "Acme", "en": "Acme"},
        "rights": rights or {"lire": a_right()},
    }


# --- the shipped catalogue ----------------------------------------------------

EXPECTED_SITES = {
    "ordre": "https://www.experts-comptables.fr",
    "jesignexpert": "https://jesignexpert.com",
    "jefacture": "https://jefacture.com",
    "services": "https://services.experts-comptables.fr",
    "outils": "https://outils.experts-comptables.fr",
}

# id: (French label, min_acr, personal)
EXPECTED_RIGHTS = {
    "ordre:site_prive": (
        "Site de l'Ordre : contenu et documents du site privé "
        "(lettres de mission, rapports, fiches marketing)",
        "eidas1",
        False,
    ),
    "ordre:droits_administratifs": (
        "Droits administratifs : adhésions aux clubs, inscriptions aux événements",
        "eidas1",
        False,
    ),
    "jesignexpert:signer": ("jesignexpert.com : signer électroniquement", "eidas3", True),
    "jesignexpert:preparer_collecte": ("jesignexpert.com : préparer la collecte", "eidas1", False),
    "jesignexpert:sceller": ("jesignexpert.com : sceller électroniquement", "eidas2", False),
    "jefacture:acces": ("jefacture.com : accès pour le cabinet", "eidas1", False),
    "services:clubs": ("Offres de services : Clubs", "eidas1", False),
    "services:infodoc": ("Offres de services : Infodoc-experts", "eidas1", False),
    "outils:autodiagnostic": ("Outils connectés : autodiagnostic", "eidas1", False),
    "outils:simulateurs": ("Outils connectés : simulateurs", "eidas1", False),
    "outils:credit_50k": ("Outils connectés : crédit 50K", "eidas1", False),
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


def test_shipped_sites(catalogue):
    assert {site.id: site.audience for site in catalogue.sites()} == EXPECTED_SITES
    assert set(catalogue.audiences()) == set(EXPECTED_SITES.values())


@pytest.mark.parametrize("right_id", EXPECTED_RIGHTS)
def test_shipped_right(catalogue, right_id):
    label_fr, min_acr, personal = EXPECTED_RIGHTS[right_id]
    right = catalogue.right(right_id)
    site_id, _, short_id = right_id.partition(":")
    assert right.id == right_id
    assert right.site_id == site_id
    assert right.short_id == short_id
    assert right.audience == EXPECTED_SITES[site_id]
    assert right.label.fr == label_fr
    assert right.label.en and right.description.fr and right.description.en
    assert right.min_acr == min_acr
    assert right.personal is personal
    assert right.delegable is True


def test_shipped_rights_are_exactly_the_table(catalogue):
    ids = [right.id for right in catalogue.rights()]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(EXPECTED_RIGHTS)


def test_sites_in_file_name_order_rights_in_file_order(catalogue):
    assert [site.id for site in catalogue.sites()] == sorted(EXPECTED_SITES)
    assert [right.short_id for right in catalogue.site("jesignexpert").rights] == [
        "signer",
        "preparer_collecte",
        "sceller",
    ]


def test_administrative_rights_are_delegable_but_do_not_let_one_delegate(catalogue):
    right = catalogue.right("ordre:droits_administratifs")
    assert right.delegable
    assert "Ne permet pas de déléguer" in right.description.fr
    assert "Does not allow delegating" in right.description.en


def test_site_lookup(catalogue):
    site = catalogue.site("jesignexpert")
    assert isinstance(site, Site)
    assert site.audience == "https://jesignexpert.com"
    assert site.name == Localized(fr="jesignexpert.com", en="jesignexpert.com")
    assert catalogue.site_for_audience("https://jesignexpert.com") is site
    assert catalogue.rights_for_audience("https://jesignexpert.com") == site.rights
    assert all(isinstance(right, Right) for right in site.rights)


def test_delegable_rights(catalogue):
    assert catalogue.delegable_rights() == catalogue.rights()


def test_unknown_right(catalogue):
    with pytest.raises(UnknownRight) as excinfo:
        catalogue.right("jesignexpert:voler")
    assert str(excinfo.value) == "unknown right 'jesignexpert:voler'"
    assert excinfo.value.right_id == "jesignexpert:voler"
    assert isinstance(excinfo.value, LookupError)


@pytest.mark.parametrize(
    "right_id", ["signer", "jesignexpert", "JESIGNEXPERT:SIGNER", "jesignexpert:signer "]
)
def test_right_lookup_is_exact(catalogue, right_id):
    with pytest.raises(UnknownRight):
        catalogue.right(right_id)


def test_unknown_site(catalogue):
    with pytest.raises(UnknownSite, match=r"^no site with id 'nope'$"):
        catalogue.site("nope")


@pytest.mark.parametrize(
    "audience",
    [
        "https://jesignexpert.com/",
        "http://jesignexpert.com",
        "https://JESIGNEXPERT.com",
        "jesignexpert",
    ],
)
def test_audience_lookup_is_exact(catalogue, audience):
    with pytest.raises(UnknownSite) as excinfo:
        catalogue.site_for_audience(audience)
    assert str(excinfo.value) == f"no site with audience {audience!r}"
    with pytest.raises(UnknownSite):
        catalogue.rights_for_audience(audience)


def test_default_catalogue_is_loaded_once():
    assert default_catalogue() is default_catalogue()
    assert default_catalogue().rights() == Catalogue.load().rights()


def test_public_api():
    expected = {"Catalogue", "Right", "Site", "CatalogueError", "UnknownRight", "acr_satisfies"}
    assert expected | {"ACR_VALUES", "default_catalogue"} <= set(scopes.__all__)
    assert callable(scopes.default_catalogue)


def test_rights_are_immutable(catalogue):
    right = catalogue.right("jesignexpert:signer")
    with pytest.raises(AttributeError):
        right.min_acr = "eidas1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (None, "fr"),
        ("fr", "fr"),
        ("fr-FR", "fr"),
        ("en", "en"),
        ("en-GB", "en"),
        ("en_US", "en"),
        ("de", "fr"),
    ],
)
def test_localized_get(locale, expected):
    assert Localized(fr="fr", en="en").get(locale) == expected



def render_rights_table(catalogue: Catalogue) -> str:
    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    lines = [
        "| id | site | audience | FR label | delegable | min acr | personal |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for right in catalogue.rights():
        label = right.label.fr.replace("|", "\\|")
        lines.append(
            f"| `{right.id}` | {right.site_id} | `{right.audience}` | {label} "
            f"| {yes(right.delegable)} | {right.min_acr} | {yes(right.personal)} |"
        )
    return "\n".join(lines) + "\n"


def test_docs_table_matches_the_data(catalogue):
    docs = Path(__file__).resolve().parents[2] / "docs" / "rights.md"
    assert render_rights_table(catalogue) in docs.read_text(encoding="utf-8")


def test_docs_example_site_loads(tmp_path):
    docs = Path(__file__).resolve().parents[2] / "docs" / "rights.md"
    (example,) = re.findall(r"```toml\n(.*?)```", docs.read_text(encoding="utf-8"), re.DOTALL)
    example = "\n".join(line.removeprefix("   ") for line in example.splitlines())
    write_site(tmp_path, "annuaire.toml", example)
    assert Catalogue.load(tmp_path).right("annuaire:modifier_fiche").min_acr == "eidas1"

# --- validation, one file -----------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def set_(*keys: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value

    return mutate


def delete(*keys: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for key in keys[:-1]:
            data = data[key]
        del data[keys[-1]]

    return mutate


def rename_right(old: str, new: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["rights"][new] = data["rights"].pop(old)

    return mutate


SYNTAX = "(expected ^[a-z][a-z0-9_]*$)"
LIRE = ("rights", "lire")


def bad_site_id(value: Any) -> tuple[Mutation, str, str]:
    return set_("id", value=value), "id", f"{value!r} is not a valid site identifier {SYNTAX}"


def bad_right_id(value: str) -> tuple[Mutation, str, str]:
    problem = f"{value!r} is not a valid right identifier {SYNTAX}"
    return rename_right("lire", value), f"rights.{value}", problem


def bad_audience(value: str, reason: str) -> tuple[Mutation, str, str]:
    return set_("audience", value=value), "audience", f"{value!r} is not a valid audience: {reason}"


NOT_HTTPS = "not an absolute https URI"
ACRS = "(expected one of eidas1, eidas2, eidas3)"

INVALID = [
    # identifiers
    bad_site_id("Acme"),
    bad_site_id("1acme"),
    bad_site_id("ac-me"),
    bad_site_id("acmé"),
    bad_site_id("acme\n"),
    bad_site_id(""),
    (set_("id", value=42), "id", "must be a string, got integer"),
    bad_right_id("Lire"),
    bad_right_id("_lire"),
    # A colon would make "acme:x:y" ambiguous as a site:right pair.
    bad_right_id("acme:lire"),
    # assurance level
    (set_(*LIRE, "min_acr", value="eidas4"), "rights.lire.min_acr", f"unknown acr 'eidas4' {ACRS}"),
    (set_(*LIRE, "min_acr", value="EIDAS1"), "rights.lire.min_acr", f"unknown acr 'EIDAS1' {ACRS}"),
    (set_(*LIRE, "min_acr", value=2), "rights.lire.min_acr", "must be a string, got integer"),
    (
        set_(*LIRE, "personal", value=True),
        "rights.lire.min_acr",
        "a personal right is exercised with the collaborator's own certificate "
        "and must require 'eidas3', got 'eidas1'",
    ),
    # labels, descriptions, names
    (delete(*LIRE, "label", "fr"), "rights.lire.label.fr", "missing"),
    (delete(*LIRE, "label", "en"), "rights.lire.label.en", "missing"),
    (delete(*LIRE, "description", "en"), "rights.lire.description.en", "missing"),
    (delete("name", "fr"), "name.fr", "missing"),
    (set_(*LIRE, "label", value={}), "rights.lire.label.fr", "missing"),
    (set_(*LIRE, "label", "en", value="  "), "rights.lire.label.en", "must not be empty"),
    (set_(*LIRE, "label", "fr", value=1), "rights.lire.label.fr", "must be a string, got integer"),
    (set_(*LIRE, "label", value="Lire"), "rights.lire.label", "must be a table, got string"),
    (set_(*LIRE, "label", "de", value="Lesen"), "rights.lire.label.de", "unknown key"),
    # audience
    bad_audience("http://acme.example", NOT_HTTPS),
    bad_audience("acme.example", NOT_HTTPS),
    bad_audience("/acme", NOT_HTTPS),
    bad_audience("https://", NOT_HTTPS),
    bad_audience("HTTPS://acme.example", NOT_HTTPS),
    bad_audience("https://acme.example:port", NOT_HTTPS),
    bad_audience("https://acme.example/", "ends with '/'"),
    bad_audience("https://acme.example#top", "contains a fragment"),
    bad_audience("https://acme.example?x=1", "contains a query"),
    bad_audience("https://user@acme.example", "contains userinfo"),
    bad_audience("https://Acme.example", "host is not lowercase"),
    bad_audience("https://acme.example /x", "contains whitespace"),
    (set_("audience", value=""), "audience", "must not be empty"),
    # unknown and missing keys
    (set_("title", value="Acme"), "title", "unknown key"),
    (set_("audiance", value="x"), "audiance", "unknown key (did you mean 'audience'?)"),
    (
        set_(*LIRE, "min_arc", value="x"),
        "rights.lire.min_arc",
        "unknown key (did you mean 'min_acr'?)",
    ),
    (delete("audience"), "audience", "missing"),
    (delete("rights"), "rights", "missing"),
    (delete(*LIRE, "delegable"), "rights.lire.delegable", "missing"),
    # types and shapes
    (
        set_(*LIRE, "delegable", value="yes"),
        "rights.lire.delegable",
        "must be a boolean, got string",
    ),
    (set_(*LIRE, "personal", value=1), "rights.lire.personal", "must be a boolean, got integer"),
    (set_("rights", value=[]), "rights", "must be a table, got array"),
    (set_("rights", value={}), "rights", "must declare at least one right"),
    (set_(*LIRE, value="x"), "rights.lire", "must be a table, got string"),
    (set_("name", value="Acme"), "name", "must be a table, got string"),
]


@pytest.mark.parametrize(
    ("mutate", "field", "problem"),
    INVALID,
    ids=[f"{field}: {problem}" for _, field, problem in INVALID],
)
def test_invalid_site_file(tmp_path, mutate, field, problem):
    data = a_site()
    mutate(data)
    path = write_site(tmp_path, "acme.toml", data)
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(tmp_path)
    assert str(excinfo.value) == f"{path}: {field}: {problem}"
    error = excinfo.value
    assert (error.source, error.field, error.problem) == (str(path), field, problem)


def test_unknown_key_reported_before_missing_one(tmp_path):
    data = a_site()
    data["rights"]["lire"]["min_arc"] = data["rights"]["lire"].pop("min_acr")
    path = write_site(tmp_path, "acme.toml", data)
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(tmp_path)
    assert str(excinfo.value) == (
        f"{path}: rights.lire.min_arc: unknown key (did you mean 'min_acr'?)"
    )


def test_invalid_toml(tmp_path):
    path = write_site(tmp_path, "acme.toml", 'id = "acme"\naudience = \n')
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(tmp_path)
    assert excinfo.value.source == str(path)
    assert excinfo.value.field is None
    assert str(excinfo.value).startswith(f"{path}: invalid TOML: ")
    assert "line 2" in str(excinfo.value)


def test_right_declared_twice_in_one_file(tmp_path):
    text = to_toml({key: value for key, value in a_site().items() if key != "rights"})
    right = '[rights.lire]\nlabel = { fr = "Lire", en = "Read" }\n'
    path = write_site(tmp_path, "acme.toml", text + right + right)
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(tmp_path)
    assert str(excinfo.value).startswith(f"{path}: invalid TOML: ")
    assert "line 6" in str(excinfo.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "acme.toml"
    path.write_bytes(to_toml(a_site()).encode("utf-8") + b'# caf\xe9\n')
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(tmp_path)
    assert str(excinfo.value).startswith(
        f"{path}: not valid UTF-8 (invalid continuation byte at byte "
    )


# --- validation, across files -------------------------------------------------


def test_duplicate_site_id(tmp_path):
    first = write_site(tmp_path, "a.toml", a_site("acme", "https://a.example"))
    second = write_site(tmp_path, "b.toml", a_site("acme", "https://b.example"))
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(tmp_path)
    assert str(excinfo.value) == (
        f"{second}: id: duplicate site id 'acme', already declared in {first}"
    )


def test_duplicate_audience(tmp_path):
    first = write_site(tmp_path, "a.toml", a_site("alpha", "https://acme.example"))
    second = write_site(tmp_path, "b.toml", a_site("beta", "https://acme.example"))
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(tmp_path)
    assert str(excinfo.value) == (
        f"{second}: audience: duplicate audience 'https://acme.example', "
        f"already declared by site 'alpha' in {first}"
    )


def test_constructor_rejects_duplicates(tmp_path):
    write_site(tmp_path, "acme.toml", a_site())
    (site,) = Catalogue.load(tmp_path).sites()
    with pytest.raises(CatalogueError, match=r"^id: duplicate site id 'acme'$"):
        Catalogue([site, site])


def test_not_a_directory(tmp_path):
    path = write_site(tmp_path, "acme.toml", a_site())
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(path)
    assert str(excinfo.value) == f"{path}: not a directory"
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(tmp_path / "missing")
    assert str(excinfo.value) == f"{tmp_path / 'missing'}: not a directory"


def test_no_site_files(tmp_path):
    (tmp_path / "README.md").write_text("no sites here")
    with pytest.raises(CatalogueError) as excinfo:
        Catalogue.load(tmp_path)
    assert str(excinfo.value) == f"{tmp_path}: no site files (*.toml)"


def test_only_toml_files_are_sites(tmp_path):
    write_site(tmp_path, "acme.toml", a_site())
    (tmp_path / "README.md").write_text("not a site")
    (tmp_path / ".#acme.toml").write_text("editor lock file")
    (tmp_path / "old.toml.bak").write_text("backup")
    (tmp_path / "sub.toml").mkdir()
    catalogue = Catalogue.load(str(tmp_path))
    assert [site.id for site in catalogue.sites()] == ["acme"]


def test_loaded_site(tmp_path):
    write_site(
        tmp_path,
        "acme.toml",
        a_site(
            lire=a_right(),
            signer=a_right(min_acr="eidas3", personal=True, delegable=False),
        ),
    )
    catalogue = Catalogue.load(tmp_path)
    assert catalogue.right("acme:signer") == Right(
        id="acme:signer",
        site_id="acme",
        audience="https://acme.example",
        label=Localized(fr="Acme : lire", en="Acme: read"),
        description=Localized(fr="Lire les documents.", en="Read the documents."),
        delegable=False,
        min_acr="eidas3",
        personal=True,
    )
    assert [right.id for right in catalogue.delegable_rights()] == ["acme:lire"]
    assert catalogue.audiences() == ("https://acme.example",)


# --- properties ---------------------------------------------------------------

identifiers = st.from_regex(ID_RE, fullmatch=True)
texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(str.strip)
localized = st.fixed_dictionaries({"fr": texts, "en": texts})


@st.composite
def rights_data(draw: st.DrawFn) -> dict[str, Any]:
    personal = draw(st.booleans())
    return {
        "label": draw(localized),
        "description": draw(localized),
        "delegable": draw(st.booleans()),
        "min_acr": "eidas3" if personal else draw(st.sampled_from(ACR_VALUES)),
        "personal": personal,
    }


LABEL = r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?"
hosts = st.from_regex(rf"{LABEL}(\.{LABEL}){{0,3}}", fullmatch=True)
paths = st.from_regex(r"(/[A-Za-z0-9._~-]+){0,3}", fullmatch=True)
audiences = st.builds(lambda host, path: f"https://{host}{path}", hosts, paths)

sites_data = st.fixed_dictionaries(
    {
        "id": identifiers,
        "audience": audiences,
        "name": localized,
        "rights": st.dictionaries(identifiers, rights_data(), min_size=1, max_size=5),
    }
)


def load_one(data: dict[str, Any] | str) -> tuple[Path, Catalogue | CatalogueError]:
    # Hypothesis runs many examples per test, so each gets its own directory
    # rather than sharing pytest's function-scoped tmp_path.
    with tempfile.TemporaryDirectory() as directory:
        path = write_site(Path(directory), "site.toml", data)
        try:
            return path, Catalogue.load(directory)
        except CatalogueError as exc:
            return path, exc


@settings(deadline=None)
@given(sites_data)
def test_any_well_formed_site_loads_as_written(data):
    _, catalogue = load_one(data)
    assert isinstance(catalogue, Catalogue)
    site = catalogue.site(data["id"])
    assert site.audience == data["audience"]
    assert site.name == Localized(**data["name"])
    assert catalogue.site_for_audience(data["audience"]) is site
    assert [right.short_id for right in site.rights] == list(data["rights"])
    for short_id, expected in data["rights"].items():
        right = catalogue.right(f"{data['id']}:{short_id}")
        assert right.label == Localized(**expected["label"])
        assert right.description == Localized(**expected["description"])
        assert (right.delegable, right.min_acr, right.personal) == (
            expected["delegable"],
            expected["min_acr"],
            expected["personal"],
        )


any_text = st.text(st.characters(blacklist_categories=("Cs",)))
not_identifiers = any_text.filter(lambda value: not ID_RE.fullmatch(value))


@settings(deadline=None)
@given(not_identifiers)
def test_any_malformed_site_id_is_refused(site_id):
    path, error = load_one(a_site(site_id=site_id))
    assert isinstance(error, CatalogueError)
    assert str(error) == (
        f"{path}: id: {site_id!r} is not a valid site identifier (expected {ID_SYNTAX})"
    )


@settings(deadline=None)
@given(not_identifiers)
def test_any_malformed_right_id_is_refused(short_id):
    path, error = load_one(a_site(**{short_id: a_right()}))
    assert isinstance(error, CatalogueError)
    assert str(error) == (
        f"{path}: rights.{short_id}: "
        f"{short_id!r} is not a valid right identifier (expected {ID_SYNTAX})"
    )


@settings(deadline=None)
@given(any_text.filter(lambda value: not value.startswith("https://")))
def test_any_non_https_audience_is_refused(audience):
    path, error = load_one(a_site(audience=audience))
    assert isinstance(error, CatalogueError)
    assert error.field == "audience"
    assert str(error).startswith(f"{path}: audience: ")


@settings(deadline=None)
@given(st.sampled_from(sorted(EXPECTED_SITES)), st.sampled_from(["title", "Id", "rights_", "aud"]))
def test_a_real_site_with_an_extra_key_is_refused(site_id, key):
    source = Path(scopes.__file__).parent / "sites" / f"{site_id}.toml"
    text = source.read_text(encoding="utf-8")
    # Top-level keys must come before the first table header.
    path, error = load_one(f'{key} = "x"\n' + text)
    assert isinstance(error, CatalogueError)
    assert str(error).startswith(f"{path}: {key}: unknown key")

