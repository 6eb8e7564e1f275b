"""The assurance levels and their order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopes import ACR_VALUES, UnknownAcr, acr_satisfies, max_acr
from scopes.acr import acr_rank, is_acr

acrs = st.sampled_from(ACR_VALUES)
not_acrs = st.one_of(st.none(), st.text().filter(lambda value: value not in ACR_VALUES))


def test_levels_weakest_first():
    assert ACR_VALUES == ("eidas1", "eidas2", "eidas3")


@pytest.mark.parametrize(
    ("session_acr", "required_acr", "expected"),
    [
        ("eidas1", "eidas1", True),
        ("eidas1", "eidas2", False),
        ("eidas1", "eidas3", False),
        ("eidas2", "eidas1", True),
        ("eidas2", "eidas2", True),
        ("eidas2", "eidas3", False),
        ("eidas3", "eidas1", True),
        ("eidas3", "eidas2", True),
        ("eidas3", "eidas3", True),
    ],
)
def test_acr_satisfies(session_acr, required_acr, expected):
    assert acr_satisfies(session_acr, required_acr) is expected


@pytest.mark.parametrize(
    "session_acr", [None, "", "eidas4", "EIDAS3", "eidas3 ", "urn:example:loa:high", 3]
)
@pytest.mark.parametrize("required_acr", ACR_VALUES)
def test_unknown_session_acr_satisfies_nothing(session_acr, required_acr):
    assert acr_satisfies(session_acr, required_acr) is False


@pytest.mark.parametrize("required_acr", [None, "", "eidas0", "eidas4", "EIDAS1"])
def test_unknown_required_acr_is_an_error(required_acr):
    with pytest.raises(UnknownAcr) as excinfo:
        acr_satisfies("eidas3", required_acr)
    assert str(excinfo.value) == f"unknown acr {required_acr!r}"
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], "eidas1"),
        (["eidas1"], "eidas1"),
        (["eidas2", "eidas1"], "eidas2"),
        (["eidas1", "eidas3", "eidas2"], "eidas3"),
        (iter(["eidas2", "eidas2"]), "eidas2"),
    ],
)
def test_max_acr(values, expected):
    assert max_acr(values) == expected


def test_max_acr_rejects_unknown_levels():
    with pytest.raises(UnknownAcr, match=r"^unknown acr 'eidas9'$"):
        max_acr(["eidas1", "eidas9"])


def test_acr_rank_and_is_acr():
    assert [acr_rank(acr) for acr in ACR_VALUES] == [0, 1, 2]
    assert all(is_acr(acr) for acr in ACR_VALUES)
    assert not is_acr(None)
    with pytest.raises(UnknownAcr, match=r"^unknown acr None$"):
        acr_rank(None)  # type: ignore[arg-type]


@given(acrs)
def test_satisfies_is_reflexive(acr):
    assert acr_satisfies(acr, acr)


@given(acrs, acrs)
def test_satisfies_is_total_and_antisymmetric(a, b):
    assert acr_satisfies(a, b) or acr_satisfies(b, a)
    if acr_satisfies(a, b) and acr_satisfies(b, a):
        assert a == b


@given(acrs, acrs, acrs)
def test_satisfies_is_transitive(a, b, c):
    if acr_satisfies(a, b) and acr_satisfies(b, c):
        assert acr_satisfies(a, c)


@given(not_acrs, acrs)
def test_anything_unknown_satisfies_nothing(session_acr, required_acr):
    assert not acr_satisfies(session_acr, required_acr)


@given(st.lists(acrs))
def test_max_acr_is_the_least_level_satisfying_all(values):
    strongest = max_acr(values)
    assert all(acr_satisfies(strongest, value) for value in values)
    # No weaker level would do: the step-up asked of the user is no greater
    # than the rights need.
    for weaker in ACR_VALUES[: acr_rank(strongest)]:
        assert not all(acr_satisfies(weaker, value) for value in values)


def test_every_pair_is_ordered_like_the_tuple():
    for a, b in itertools.product(ACR_VALUES, repeat=2):
        assert acr_satisfies(a, b) == (ACR_VALUES.index(a) >= ACR_VALUES.index(b))
