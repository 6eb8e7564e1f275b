"""The Tableau de l'Ordre (register): reading the regional councils' file, importing it, verifying experts.

An expert-comptable is never self-declared: an account claiming the profile
waits (``pending``) until it matches a register entry, or an administrator
vouches for it. The register file has one row per (expert, firm); an expert
with several firms has several rows, one with none has an empty SIRET.

    parse_register_file(path_or_bytes, filename) -> ParsedRegister(rows, errors)
    import_register(rows) -> ImportReport          (one transaction; the caller commits)
    try_verify_expert(user) -> bool                (at email confirmation, after each import)
    verify_user(login, numero=None) -> User        (administrators)

Nothing here commits: the command or the view that calls commits once, so an
import applies everything or nothing.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select

from ..accounts.models import EXPERT_PENDING, EXPERT_VERIFIED, User
from ..accounts.services import find_user, normalise_email
from ..certificates.services import sync_register_certificates
from ..db import utcnow
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..firms.models import Firm
from ..firms.siret import normalise_siret, siret_problem
from .models import RegisterEntry

# -- the file's columns ---------------------------------------------------------
# Internal name -> (column name used in messages, accepted headers once
# folded: lower case, no accents, words joined by "_").
COLUMNS: dict[str, tuple[str, frozenset[str]]] = {
    "numero_inscription": ("numero_inscription", frozenset({
        "numero_inscription", "numero_d_inscription", "n_inscription", "n_d_inscription", "no_inscription",
        "no_d_inscription", "num_inscription", "numero"})),
    "family_name": ("nom", frozenset({"nom", "nom_de_famille", "nom_d_usage"})),
    "given_name": ("prenom", frozenset({"prenom", "prenoms", "prenom_s"})),
    "email": ("email", frozenset({"email", "e_mail", "courriel", "mail", "adresse_electronique"})),
    "region": ("region", frozenset({"region", "conseil_regional"})),
    "siret": ("siret", frozenset({"siret", "numero_siret", "n_siret", "no_siret"})),
    "raison_sociale": ("raison_sociale", frozenset({"raison_sociale", "denomination", "societe"})),
    "city": ("ville", frozenset({"ville", "commune"})),
    "certificate_subject": ("certificat_sujet", frozenset({
        "certificat_sujet", "sujet_certificat", "sujet_du_certificat"})),
    "certificate_serial": ("certificat_serie", frozenset({
        "certificat_serie", "serie_certificat", "numero_de_serie_du_certificat", "certificat_numero_de_serie"})),
}
OPTIONAL_COLUMNS = frozenset({"certificate_subject", "certificate_serial"})
# Column lengths of the schema: a longer value is a bad row, not a database error.
MAX_LENGTHS = {
    "numero_inscription": 32, "family_name": 100, "given_name": 100, "email": 254, "region": 100,
    "raison_sociale": 200, "city": 100, "certificate_subject": 500, "certificate_serial": 64,
}
IDENTITY_FIELDS = ("given_name", "family_name", "email", "region", "certificate_subject", "certificate_serial")
# Databases cap the parameters of one statement (SQLite: 32766): load by slices.
_CHUNK = 500


class RowError(NamedTuple):
    """A bad row: its line in the file (the header is line 1), the column, and why, in French."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        if self.line == 0:  # the file as a whole (format, encoding)
            return f"{self.field} : {self.message}"
        return f"ligne {self.line} : {self.field} : {self.message}"


@dataclass(frozen=True)
class RegisterRow:
    """One valid row of the register file: an expert and (when ``siret`` is set) one of his firms."""

    line: int
    numero_inscription: str
    given_name: str
    family_name: str
    email: str | None
    region: str
    siret: str | None
    raison_sociale: str
    city: str
    certificate_subject: str | None = None
    certificate_serial: str | None = None


class ParsedRegister(NamedTuple):
    rows: list[RegisterRow]
    errors: list[RowError]


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    firms_created: int = 0
    firms_updated: int = 0
    accounts_updated: int = 0
    verified: list[str] = field(default_factory=list)  # identifiants verified thanks to this import

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RegisterFileError(InvalidInput):
    """Rows that cannot be imported; ``errors`` lists every one of them."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} erreur(s) dans le fichier du Tableau : rien n'a été importé.",
                         code="invalid_register_file")
        self.errors = errors


# -- folding --------------------------------------------------------------------
def _fold(text: str) -> str:
    """Lower case without accents: ``Prénom(s)`` and ``PRENOM S`` compare alike."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def header_key(header: str) -> str:
    """A column header folded for matching: ``N° d'inscription`` -> ``n_d_inscription``."""
    return re.sub(r"[^a-z0-9]+", "_", _fold(header)).strip("_")


def normalise_numero(numero: str | int | None) -> str:
    """A numéro d'inscription as stored: no spaces, upper case (as typed at sign-up or in the file)."""
    return re.sub(r"\s+", "", str(numero if numero is not None else "")).upper()


def same_family_name(a: str | None, b: str | None) -> bool:
    """Family names equal once accents, case, spaces, hyphens and apostrophes are set aside."""
    fa = "".join(c for c in _fold(a or "") if c.isalnum())
    fb = "".join(c for c in _fold(b or "") if c.isalnum())
    return bool(fa) and fa == fb


def _clean_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# -- reading the file ------------------------------------------------------------
def parse_register_file(path_or_bytes: str | Path | bytes, filename: str | None = None) -> ParsedRegister:
    """Read a register file (CSV in UTF-8, ``;`` or ``,``; or Excel ``.xlsx``).

    Returns the valid rows and an error for every bad row (and every bad
    cell of it), with its line number; the caller applies nothing when
    there is any error. ``filename`` gives the format when bytes are passed.
    """
    if isinstance(path_or_bytes, (str, Path)):
        filename = filename or str(path_or_bytes)
        data = Path(path_or_bytes).read_bytes()
    else:
        data = bytes(path_or_bytes)
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        records = _excel_records(data)
    elif suffix in (".csv", ".txt"):
        records = _csv_records(data)
    else:
        return ParsedRegister([], [RowError(0, "fichier", "Format non reconnu : fournissez un fichier .csv ou .xlsx.")])
    try:
        return _parse_records(records)
    except _UnreadableFile as error:
        return ParsedRegister([], [RowError(error.line, "fichier", error.message)])


class _UnreadableFile(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def _csv_records(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _UnreadableFile(line, "Le fichier n'est pas en UTF-8 : enregistrez-le en « CSV UTF-8 ».") from error
    first_line = text.split("\n", 1)[0]
    # The header tells the delimiter: French spreadsheets write ";", others ",".
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as error:
        raise _UnreadableFile(reader.line_num, f"Ligne illisible en CSV ({error}).") from error


def _excel_records(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as error:
        raise _UnreadableFile(0, "Le fichier Excel est illisible (un classeur .xlsx est attendu).") from error
    try:
        sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()


def _cell_text(value: Any, name: str) -> str:
    """A cell as text. Excel stores digits as numbers: a SIRET loses its leading zeros, put them back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value).zfill(14) if name == "siret" else str(value)
    return str(value).strip()


def _map_header(line: int, cells: list[Any]) -> tuple[dict[str, int], list[RowError]]:
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(cells):
        key = header_key(_cell_text(cell, ""))
        for name, (label, accepted) in COLUMNS.items():
            if key in accepted:
                if name in positions:
                    errors.append(RowError(line, label, "Colonne présente deux fois dans l'en-tête."))
                positions[name] = index
    for name, (label, _accepted) in COLUMNS.items():
        if name not in positions and name not in OPTIONAL_COLUMNS:
            errors.append(RowError(line, label, "Colonne absente de l'en-tête."))
    return positions, errors


def _parse_records(records: Iterable[tuple[int, list[Any]]]) -> ParsedRegister:
    rows: list[RegisterRow] = []
    errors: list[RowError] = []
    positions: dict[str, int] | None = None
    header_width = 0
    for line, cells in records:
        if all(_cell_text(cell, "") == "" for cell in cells):
            continue  # blank lines, and the empty rows Excel leaves behind
        if positions is None:
            positions, header_errors = _map_header(line, cells)
            if header_errors:
                return ParsedRegister([], header_errors)
            header_width = len(cells)
            continue
        row, row_errors = _parse_row(line, cells, positions, header_width)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    if positions is None:
        return ParsedRegister([], [RowError(1, "fichier", "Le fichier est vide : l'en-tête est attendu en ligne 1.")])
    errors.extend(check_rows(rows))
    errors.sort(key=lambda e: e.line)
    return ParsedRegister(rows, errors)


def _parse_row(line: int, cells: list[Any], positions: dict[str, int], width: int
               ) -> tuple[RegisterRow | None, list[RowError]]:
    errors: list[RowError] = []
    if any(_cell_text(cell, "") for cell in cells[width:]):
        errors.append(RowError(line, "fichier", f"La ligne a plus de cellules que l'en-tête ({width} colonnes)."))
    values = {
        name: _clean_spaces(_cell_text(cells[index], name)) if index < len(cells) else ""
        for name, index in positions.items()
    }

    def bad(name: str, message: str) -> None:
        errors.append(RowError(line, COLUMNS[name][0], message))

    numero = normalise_numero(values["numero_inscription"])
    if not numero:
        bad("numero_inscription", "Le numéro d'inscription est obligatoire.")
    for name, label in (("family_name", "Le nom"), ("given_name", "Le prénom")):
        if not values[name]:
            bad(name, f"{label} est obligatoire.")
    email = None
    if values["email"]:
        try:
            email = normalise_email(values["email"])
        except InvalidInput:
            bad("email", f"Adresse électronique invalide : « {values['email']} ».")
    siret = None
    if values["siret"]:
        problem = siret_problem(values["siret"])
        if problem:
            bad("siret", f"{problem} Valeur lue : « {values['siret']} ».")
        else:
            siret = normalise_siret(values["siret"])
            if not values["raison_sociale"]:
                bad("raison_sociale", "La raison sociale de la société est obligatoire quand un SIRET est donné.")
    elif values["raison_sociale"] or values["city"]:
        bad("siret", "Le SIRET manque alors qu'une société est nommée.")
    subject = values.get("certificate_subject") or None
    serial = values.get("certificate_serial") or None
    if bool(subject) != bool(serial):
        bad("certificate_serial" if subject else "certificate_subject",
            "Le sujet et le numéro de série du certificat vont ensemble : donnez les deux ou aucun.")
    for name, limit in MAX_LENGTHS.items():
        if len(values.get(name) or "") > limit:
            bad(name, f"Valeur trop longue ({limit} caractères au plus).")
    if errors:
        return None, errors
    return RegisterRow(
        line=line, numero_inscription=numero, given_name=values["given_name"], family_name=values["family_name"],
        email=email, region=values["region"], siret=siret,
        raison_sociale=values["raison_sociale"] if siret else "", city=values["city"] if siret else "",
        certificate_subject=subject, certificate_serial=serial,
    ), []


def check_rows(rows: Iterable[RegisterRow]) -> list[RowError]:
    """Errors between rows: an expert's rows must agree, so must a firm's; an email names one expert."""
    errors: list[RowError] = []
    experts: dict[str, RegisterRow] = {}
    firms: dict[str, RegisterRow] = {}
    emails: dict[str, RegisterRow] = {}
    for row in rows:
        first = experts.setdefault(row.numero_inscription, row)
        for name in IDENTITY_FIELDS:
            if getattr(row, name) != getattr(first, name):
                errors.append(RowError(row.line, COLUMNS[name][0], (
                    f"Le numéro d'inscription {row.numero_inscription} figure ligne {first.line} avec "
                    f"« {getattr(first, name) or ''} » : les lignes d'un même expert-comptable doivent concorder.")))
        if row.siret:
            firm = firms.setdefault(row.siret, row)
            for name in ("raison_sociale", "city"):
                if getattr(row, name) != getattr(firm, name):
                    errors.append(RowError(row.line, COLUMNS[name][0], (
                        f"Le SIRET {row.siret} figure ligne {firm.line} avec « {getattr(firm, name)} » : "
                        "les lignes d'une même société doivent concorder.")))
        if row.email:
            owner = emails.setdefault(row.email, row)
            if owner.numero_inscription != row.numero_inscription:
                errors.append(RowError(row.line, "email", (
                    f"L'adresse {row.email} est déjà celle du numéro d'inscription {owner.numero_inscription} "
                    f"(ligne {owner.line}) : une adresse ne désigne qu'un expert-comptable.")))
    return errors


# -- importing ---------------------------------------------------------------------
def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def import_register(rows: list[RegisterRow]) -> ImportReport:
    """Create or update register entries, firms and their links from valid ``rows``; the caller commits.

    Idempotent: an entry whose data (identity and set of firms) did not
    change is left alone, ``updated_at`` included. The file is the authority
    for the experts it lists: their firms become exactly the file's. Entries
    absent from the file are kept (a council may send only its region).
    Raises ``RegisterFileError`` with every inconsistency, before writing
    anything, when the rows disagree with one another.
    """
    errors = check_rows(rows)
    if errors:
        raise RegisterFileError(errors)
    report = ImportReport()
    now = utcnow()
    firms = _import_firms(rows, report)

    experts: dict[str, tuple[RegisterRow, list[str]]] = {}
    for row in rows:
        _first, sirets = experts.setdefault(row.numero_inscription, (row, []))
        if row.siret and row.siret not in sirets:
            sirets.append(row.siret)
    existing: dict[str, RegisterEntry] = {}
    for chunk in _chunks(list(experts)):
        for entry in db.session.scalars(select(RegisterEntry).where(RegisterEntry.numero_inscription.in_(chunk))):
            existing[entry.numero_inscription] = entry

    touched: list[RegisterEntry] = []
    for numero, (row, sirets) in experts.items():
        wanted_firms = sorted((firms[s] for s in sirets), key=lambda f: f.siret)
        entry = existing.get(numero)
        if entry is None:
            entry = RegisterEntry(numero_inscription=numero, imported_at=now, updated_at=now)
            for name in IDENTITY_FIELDS:
                setattr(entry, name, getattr(row, name))
            entry.firms = wanted_firms
            db.session.add(entry)
            report.created += 1
        else:
            changed = False
            for name in IDENTITY_FIELDS:
                if getattr(entry, name) != getattr(row, name):
                    setattr(entry, name, getattr(row, name))
                    changed = True
            if {f.siret for f in entry.firms} != set(sirets):
                entry.firms = wanted_firms
                changed = True
            if changed:
                entry.updated_at = now
                report.updated += 1
            else:
                report.unchanged += 1
        touched.append(entry)
    db.session.flush()

    report.accounts_updated = _sync_bound_accounts(touched)
    # The register is the authority on the SIGNEXPERT certificates it names:
    # one it no longer names stops opening the account (issue 4).
    sync_register_certificates(touched)
    report.verified = verify_pending_accounts()
    return report


def _import_firms(rows: list[RegisterRow], report: ImportReport) -> dict[str, Firm]:
    wanted: dict[str, RegisterRow] = {}
    for row in rows:
        if row.siret:
            wanted.setdefault(row.siret, row)
    firms: dict[str, Firm] = {}
    for chunk in _chunks(list(wanted)):
        for firm in db.session.scalars(select(Firm).where(Firm.siret.in_(chunk))):
            firms[firm.siret] = firm
    for siret, row in wanted.items():
        firm = firms.get(siret)
        if firm is None:
            firm = Firm(siret=siret, raison_sociale=row.raison_sociale, city=row.city)
            db.session.add(firm)
            firms[siret] = firm
            report.firms_created += 1
        elif (firm.raison_sociale, firm.city) != (row.raison_sociale, row.city):
            # The register is the authority on its firms' names.
            firm.raison_sociale, firm.city = row.raison_sociale, row.city
            report.firms_updated += 1
    return firms


def _sync_bound_accounts(entries: list[RegisterEntry]) -> int:
    """Names are register-owned: an account bound to an entry shows the entry's names."""
    by_id = {entry.id: entry for entry in entries}
    count = 0
    for chunk in _chunks(list(by_id)):
        for user in db.session.scalars(select(User).where(User.register_entry_id.in_(chunk))):
            if _copy_register_fields(user, by_id[user.register_entry_id]):
                count += 1
    return count


def _copy_register_fields(user: User, entry: RegisterEntry) -> bool:
    changed = (user.given_name, user.family_name) != (entry.given_name, entry.family_name)
    user.given_name, user.family_name = entry.given_name, entry.family_name
    return changed


# -- verifying experts ------------------------------------------------------------
def _bound_elsewhere(entry: RegisterEntry, user: User) -> bool:
    """Whether another account already holds ``entry`` (an entry proves one person only)."""
    query = select(User.id).where(User.register_entry_id == entry.id)
    if user.id is not None:
        query = query.where(User.id != user.id)
    return db.session.scalar(query.limit(1)) is not None


def _bind(user: User, entry: RegisterEntry) -> None:
    user.expert_status = EXPERT_VERIFIED
    user.register_entry_id = entry.id
    _copy_register_fields(user, entry)


def find_matching_entry(user: User) -> RegisterEntry | None:
    """The register entry ``user`` is, if one is sure.

    By email first: the account proved it owns the address. An address on
    several entries proves nothing. Then by the numéro d'inscription given
    at sign-up, which anybody can type: it counts only when the entry's
    email is the account's, or the family names agree, so that knowing a
    colleague's numéro is not enough to become him.
    """
    email = (user.email or "").lower()
    if email:
        by_email = [e for e in db.session.scalars(select(RegisterEntry).where(RegisterEntry.email == email))
                    if not _bound_elsewhere(e, user)]
        if len(by_email) == 1:
            return by_email[0]
    numero = normalise_numero(user.claimed_numero)
    if numero:
        entry = db.session.scalar(select(RegisterEntry).where(RegisterEntry.numero_inscription == numero))
        if (entry is not None and not _bound_elsewhere(entry, user)
                and ((entry.email or "") == email or same_family_name(entry.family_name, user.family_name))):
            return entry
    return None


def try_verify_expert(user: User) -> bool:
    """Verify ``user`` if he claims the expert profile, confirmed his email and matches the register.

    On a match the account becomes ``verified``, is bound to the entry and
    takes the register's names (which he can no longer edit). Returns
    whether it was verified now. The caller commits.
    """
    if user.expert_status != EXPERT_PENDING or not user.email_verified:
        return False
    entry = find_matching_entry(user)
    if entry is None:
        return False
    _bind(user, entry)
    db.session.flush()
    return True


def pending_accounts() -> list[User]:
    """Accounts claiming the expert profile and not yet verified, oldest first."""
    return list(db.session.scalars(
        select(User).where(User.expert_status == EXPERT_PENDING).order_by(User.created_at, User.id)
    ))


def verify_pending_accounts() -> list[str]:
    """Try every pending account with a confirmed email; the identifiants verified now."""
    verified = []
    candidates = db.session.scalars(
        select(User).where(User.expert_status == EXPERT_PENDING, User.email_verified.is_(True))
        .order_by(User.id)
    ).all()
    for user in candidates:
        if try_verify_expert(user):
            verified.append(user.identifiant)
    return verified


def verify_user(identifiant_or_email: str, numero: str | None = None) -> User:
    """An administrator vouches for an expert; with ``numero``, binds the account to that entry.

    Raises ``NotFound`` for an unknown account or numéro and ``Conflict``
    when the entry already belongs to another account. The caller commits.
    """
    user = find_user(identifiant_or_email)
    if user is None:
        raise NotFound("Aucun compte ne porte cet identifiant ou cette adresse.")
    if numero:
        entry = load_entry(numero)
        if _bound_elsewhere(entry, user):
            holder = db.session.scalar(select(User.identifiant).where(User.register_entry_id == entry.id))
            raise Conflict(f"Le numéro {entry.numero_inscription} est déjà rattaché au compte {holder}.",
                           field="numero")
        _bind(user, entry)
    else:
        user.expert_status = EXPERT_VERIFIED
    db.session.flush()
    return user


def load_entry(numero: str) -> RegisterEntry:
    """The register entry with ``numero``; ``NotFound`` otherwise."""
    numero = normalise_numero(numero)
    entry = db.session.scalar(select(RegisterEntry).where(RegisterEntry.numero_inscription == numero))
    if entry is None:
        raise NotFound(f"Aucune inscription au Tableau ne porte le numéro {numero}.", field="numero")
    return entry
