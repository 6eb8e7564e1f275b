"""SIRET numbers: normalising, checking and showing them.

A SIRET is 14 digits: the SIREN (9 digits, the legal entity) followed by the
NIC (5 digits, the establishment). INSEE makes both the SIREN and the whole
SIRET pass the Luhn check, with one known exception: La Poste (SIREN
356 000 000) numbers its thousands of establishments so that the *sum of
the SIRET's digits* is a multiple of 5 instead; its head office,
356 000 000 00048, keeps the Luhn key.

Plain Python: no Flask, no database.
"""
from __future__ import annotations

import re

from ..errors import InvalidInput

LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"

# What people type between the groups: spaces (also the non-breaking and
# thin ones a spreadsheet puts in) and the dots of the Ordre's display.
_SEPARATORS = re.compile(r"[\s.\u00a0\u202f]+")


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` passes the Luhn (mod 10) check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that, appended to ``payload``, makes it pass the Luhn check."""
    for digit in "0123456789":
        if luhn_valid(payload + digit):
            return digit
    raise AssertionError("unreachable: one of ten digits always completes a Luhn number")


def normalise_siret(value: str | int | None) -> str:
    """``value`` without its separators (spaces, dots); not checked."""
    return _SEPARATORS.sub("", str(value if value is not None else "")).strip()


def is_la_poste(siret: str) -> bool:
    return siret.startswith(LA_POSTE_SIREN)


def siret_problem(value: str | int | None) -> str | None:
    """Why ``value`` is not a valid SIRET (a French sentence), or ``None`` when it is."""
    siret = normalise_siret(value)
    if not siret:
        return "Le SIRET est vide."
    if not siret.isascii() or not siret.isdigit():
        return "Le SIRET ne doit contenir que des chiffres (espaces et points admis entre les groupes)."
    if len(siret) != 14:
        return f"Le SIRET doit comporter 14 chiffres (il en a {len(siret)})."
    if not luhn_valid(siret[:9]):
        return "Le SIREN (9 premiers chiffres du SIRET) est invalide : clé de contrôle incorrecte."
    if is_la_poste(siret) and siret != LA_POSTE_HEAD_OFFICE:
        # INSEE's documented exception: Luhn does not apply to La Poste's
        # establishments, the digit sum is a multiple of 5.
        if sum(int(c) for c in siret) % 5:
            return "Le SIRET est invalide : clé de contrôle incorrecte."
        return None
    if not luhn_valid(siret):
        return "Le SIRET est invalide : clé de contrôle incorrecte."
    return None


def is_valid_siret(value: str | int | None) -> bool:
    """Whether ``value`` (separators allowed) is a valid SIRET."""
    return siret_problem(value) is None


def check_siret(value: str | int | None) -> str:
    """The 14 digits of ``value``; raises ``InvalidInput`` (field ``siret``) when it is not a valid SIRET."""
    problem = siret_problem(value)
    if problem:
        raise InvalidInput(problem, field="siret")
    return normalise_siret(value)


def format_siret(siret: str) -> str:
    """``445.236.112.00025``, as the Ordre's pages show a SIRET."""
    s = normalise_siret(siret)
    if len(s) != 14:
        return s
    return f"{s[0:3]}.{s[3:6]}.{s[6:9]}.{s[9:14]}"
