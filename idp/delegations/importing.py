"""Reading a list of collaborators from an uploaded Excel (.xlsx) or CSV file.

The file gives addresses, one row per collaborator. The address column is
the one whose header says so ("email", "courriel", "adresse
électronique"...), or the first column when there is no header. Rows keep
their number in the file, so that the preview can point at the row to fix.
Reading never decides whether an address is good: ``services.check_collaborators``
does, for typed lists and files alike.
"""
from __future__ import annotations

import csv
import io
import unicodedata
import zipfile

from flask_babel import gettext as _

from ..errors import InvalidInput

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
HEADERS = {"email", "e-mail", "mail", "courriel", "adresse electronique", "adresse email", "adresse mail",
           "adresse e-mail", "email address", "adresse"}


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(folded.lower().replace("_", " ").split())


def _pick_column(rows: list[tuple[int, list[str]]]) -> tuple[int, list[tuple[int, list[str]]]]:
    """The address column and the rows after the header (if the first non-empty row is one)."""
    for index, (_line, cells) in enumerate(rows):
        if not any(c.strip() for c in cells):
            continue
        for column, cell in enumerate(cells):
            if _plain(cell) in HEADERS:
                return column, rows[index + 1:]
        if not any("@" in c for c in cells) and any(c.strip() for c in cells):
            # A header we do not know the words of: the addresses are in the first column.
            return 0, rows[index + 1:]
        break
    return 0, rows


def read_collaborators(filename: str, content: bytes) -> list[tuple[int, str]]:
    """``(row number, address)`` for each row of an .xlsx or .csv file; ``InvalidInput`` if unreadable."""
    name = (filename or "").lower()
    if len(content) > MAX_BYTES:
        raise InvalidInput(_("Fichier trop volumineux (2 Mo au plus)."), code="file_too_large", field="file")
    if not content:
        raise InvalidInput(_("Le fichier est vide."), code="file_empty", field="file")
    if name.endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        rows = _xlsx_rows(content)
    elif name.endswith((".csv", ".txt")):
        rows = _csv_rows(content)
    else:
        raise InvalidInput(_("Format non reconnu : envoyez un fichier Excel (.xlsx) ou CSV."),
                           code="file_format", field="file")
    if len(rows) > MAX_ROWS + 1:
        raise InvalidInput(_("Liste trop longue (%(max)d lignes au plus).", max=MAX_ROWS), code="file_too_long",
                           field="file")
    column, data = _pick_column(rows)
    return [(line, cells[column].strip() if column < len(cells) else "") for line, cells in data]


def _xlsx_rows(content: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InvalidInput(_("Ce fichier Excel est illisible : enregistrez-le au format .xlsx."),
                           code="file_unreadable", field="file") from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + 1:
                break
            rows.append((number, ["" if v is None else str(v) for v in values]))
        return rows
    finally:
        workbook.close()


def _csv_rows(content: bytes) -> list[tuple[int, list[str]]]:
    # Excel on Windows saves CSV in cp1252; everything else says UTF-8 (with or without BOM).
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    # French Excel separates with ";", others with "," or a tab: the most
    # frequent of them in the first lines wins (addresses contain none).
    sample = text[:4096]
    delimiter = max(";,\t", key=sample.count) if any(d in sample for d in ";,\t") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    try:
        for number, cells in enumerate(reader, start=1):
            if number > MAX_ROWS + 1:
                break
            rows.append((number, cells))
    except csv.Error:
        raise InvalidInput(_("Ce fichier CSV est illisible."), code="file_unreadable", field="file") from None
    return rows
