"""Fixtures for the SIGNEXPERT trust layer: one test PKI, written to disk."""

import sys
from pathlib import Path

import pytest

# tests/ is not a package (its conftest belongs to the application's tests),
# so the test PKI is imported as a top-level module.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pki import TestPKI  # noqa: E402

from idp.certificates import TrustStore  # noqa: E402


@pytest.fixture(scope="session")
def pki():
    """Minting keys is the slow part: one PKI for the whole session."""
    return TestPKI()


@pytest.fixture
def pki_files(pki, tmp_path):
    """Each test gets its own copy of the files, free to rewrite them."""
    return pki.write(tmp_path / "pki")


@pytest.fixture
def store(pki_files):
    return TrustStore.from_files(pki_files.ca_bundle, pki_files.crls)
