"""SIRET checking: 14 digits, Luhn on the SIREN and the SIRET, La Poste's exception."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.errors import InvalidInput
from idp.firms.siret import (
    LA_POSTE_HEAD_OFFICE,
    check_siret,
    format_siret,
    is_valid_siret,
    luhn_check_digit,
    luhn_valid,
    normalise_siret,
)


@st.composite
def ordinary_sirets(draw) -> str:
    """A SIRET built the INSEE way: a Luhn SIREN, then a NIC whose last digit keys the whole."""
    siren_payload = draw(st.text(alphabet="0123456789", min_size=8, max_size=8))
    siren = siren_payload + luhn_check_digit(siren_payload)
    if siren == "356000000":  # La Poste: another rule, drawn by la_poste_sirets
        siren = "356000018"
    nic_payload = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    return siren + nic_payload + luhn_check_digit(siren + nic_payload)


@st.composite
def la_poste_sirets(draw) -> str:
    """An establishment of La Poste: the sum of the SIRET's digits is a multiple of 5."""
    nic_payload = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    partial = "356000000" + nic_payload
    last = (-sum(int(c) for c in partial)) % 5 + draw(st.sampled_from([0, 5]))
    return partial + str(last)


valid_sirets = st.one_of(ordinary_sirets(), la_poste_sirets())


def digit_sum(siret: str) -> int:
    return sum(int(c) for c in siret)


@given(valid_sirets)
def test_every_generated_siret_is_valid(siret):
    assert is_valid_siret(siret)
    assert check_siret(siret) == siret


@given(valid_sirets)
def test_the_display_form_is_accepted_and_reads_back_to_the_same_digits(siret):
    shown = format_siret(siret)
    assert len(shown) == 17 and shown[3] == shown[7] == shown[11] == "."
    assert check_siret(shown) == siret
    assert check_siret(" ".join([siret[:3], siret[3:6], siret[6:9], siret[9:]])) == siret


@given(valid_sirets, st.integers(min_value=0, max_value=13), st.integers(min_value=1, max_value=9))
def test_changing_one_digit_makes_it_invalid_except_inside_la_postes_rule(siret, position, shift):
    changed = siret[:position] + str((int(siret[position]) + shift) % 10) + siret[position + 1:]
    if changed.startswith("356000000") and (digit_sum(changed) % 5 == 0 or changed == LA_POSTE_HEAD_OFFICE):
        # The documented exception: a La Poste number whose digit sum moves
        # by a multiple of 5 (a digit changed by 5) is another valid establishment.
        assert is_valid_siret(changed)
    else:
        assert not is_valid_siret(changed), f"{siret} → {changed} should fail"


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_luhn_check_digit_completes_any_payload(payload):
    assert luhn_valid(payload + luhn_check_digit(payload))


def test_known_numbers():
    assert is_valid_siret("732 829 320 00074")
    assert is_valid_siret("732.829.320.00074")
    assert is_valid_siret(LA_POSTE_HEAD_OFFICE), "La Poste's head office keeps the Luhn key"
    assert is_valid_siret("35600000000001"), "an establishment of La Poste: digit sum 15"
    assert not is_valid_siret("35600000000014")


@pytest.mark.parametrize(("value", "message"), [
    ("", "Le SIRET est vide."),
    ("7328293200007", "Le SIRET doit comporter 14 chiffres (il en a 13)."),
    ("732829320000741", "Le SIRET doit comporter 14 chiffres (il en a 15)."),
    ("7328293200007A", "Le SIRET ne doit contenir que des chiffres (espaces et points admis entre les groupes)."),
    ("٧٣٢٨٢٩٣٢٠٠٠٠٧٤", "Le SIRET ne doit contenir que des chiffres (espaces et points admis entre les groupes)."),
    ("73282932100074", "Le SIREN (9 premiers chiffres du SIRET) est invalide : clé de contrôle incorrecte."),
    ("73282932000075", "Le SIRET est invalide : clé de contrôle incorrecte."),
])
def test_invalid_numbers_say_why(value, message):
    with pytest.raises(InvalidInput) as raised:
        check_siret(value)
    assert raised.value.message == message
    assert raised.value.field == "siret"


def test_format_and_normalise():
    assert format_siret("73282932000074") == "732.829.320.00074"
    assert normalise_siret("732\u00a0829\u202f320 00074") == "73282932000074"
    assert normalise_siret(73282932000074) == "73282932000074"
