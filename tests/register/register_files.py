"""Register file rows as the regional councils write them (shared with tests/firms)."""
from __future__ import annotations

from idp.firms.siret import luhn_check_digit

HEADER = ["numero_inscription", "nom", "prenom", "email", "region", "siret", "raison_sociale", "ville"]


def make_siret(n: int, establishment: int = 1) -> str:
    """A valid SIRET (Luhn SIREN and SIRET) derived from ``n``."""
    siren_payload = f"{n % 10**8:08d}"
    siren = siren_payload + luhn_check_digit(siren_payload)
    if siren == "356000000":  # La Poste follows another rule
        return make_siret(n + 1, establishment)
    nic_payload = f"{establishment % 10**4:04d}"
    return siren + nic_payload + luhn_check_digit(siren + nic_payload)


def row(numero, nom, prenom, email="", siret="", raison_sociale="", ville="", region="Paris Île-de-France"):
    """A line of the register file, in HEADER's order."""
    return [numero, nom, prenom, email, region, siret, raison_sociale, ville]
