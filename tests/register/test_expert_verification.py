"""An expert-comptable is verified through the register (by email or numéro d'inscription), never self-declared."""
import pytest

from register_files import make_siret, row

S1 = make_siret(44523611)
TABLEAU = [
    row("75001234", "DURANT", "Philippe", "Philippe.Durant@Sogetes.example", S1, "SOGETES", "Paris"),
    row("69004321", "DUPRÉ", "Élise", "elise@cabinet-dupre.example"),
]


@pytest.fixture
def tableau(live, write_csv, import_file):
    code, data, _ = import_file(write_csv(TABLEAU))
    assert code == 0, data


def test_pending_expert_is_verified_by_email_whatever_its_case(tableau, pending_expert, try_verify, account):
    user = pending_expert(email="PHILIPPE.durant@sogetes.example", given_name="Phil", family_name="Durand")
    assert try_verify(user) is True
    assert account(user) == {"expert_status": "verified", "numero": "75001234",
                             "given_name": "Philippe", "family_name": "DURANT"}, "names now come from the register"


def test_pending_expert_is_verified_by_numero_when_the_family_name_matches(tableau, pending_expert, try_verify,
                                                                          account):
    # Another address than the register's; the numéro typed with spaces, the name without accent.
    user = pending_expert(email="e.dupre@autre.example", given_name="Elise", family_name="Dupre",
                          claimed_numero="69 004 321")
    assert try_verify(user) is True
    assert account(user) == {"expert_status": "verified", "numero": "69004321",
                             "given_name": "Élise", "family_name": "DUPRÉ"}


def test_claiming_another_persons_numero_is_not_enough(tableau, pending_expert, try_verify, account):
    user = pending_expert(email="usurpateur@example.org", given_name="Marc", family_name="Roux",
                          claimed_numero="75001234")
    assert try_verify(user) is False
    assert account(user) == {"expert_status": "pending", "numero": None, "given_name": "Marc",
                             "family_name": "Roux"}


def test_an_unconfirmed_email_proves_nothing(tableau, pending_expert, try_verify, account):
    user = pending_expert(email="philippe.durant@sogetes.example", email_verified=False)
    assert try_verify(user) is False
    assert account(user)["expert_status"] == "pending"


def test_an_account_not_claiming_the_profile_is_never_made_expert(tableau, make_user, try_verify, account):
    collaborator = make_user(email="philippe.durant@sogetes.example")  # profile "autre"
    assert try_verify(collaborator) is False
    assert account(collaborator)["expert_status"] == "none"


def test_an_entry_verifies_one_account_only(tableau, pending_expert, try_verify, account):
    first = pending_expert(email="philippe.durant@sogetes.example")
    assert try_verify(first) is True
    second = pending_expert(email="p.durant@autre.example", family_name="Durant", claimed_numero="75001234")
    assert try_verify(second) is False
    assert account(second)["expert_status"] == "pending"


def test_no_entry_no_verification(tableau, pending_expert, try_verify, account):
    user = pending_expert(email="inconnu@cabinet.example", claimed_numero="99999999")
    assert try_verify(user) is False
    assert account(user)["expert_status"] == "pending"


def test_an_import_verifies_the_accounts_waiting_for_it(live, pending_expert, write_csv, import_file, account):
    waiting = pending_expert(email="philippe.durant@sogetes.example")
    by_numero = pending_expert(email="e.dupre@autre.example", family_name="Dupré", claimed_numero="69004321")
    unconfirmed = pending_expert(email="x@cabinet.example", family_name="DURANT", claimed_numero="75001234",
                                 email_verified=False)
    code, data, _ = import_file(write_csv(TABLEAU))
    assert code == 0
    assert sorted(data["verified"]) == sorted([waiting.identifiant, by_numero.identifiant])
    assert account(waiting)["numero"] == "75001234"
    assert account(by_numero)["numero"] == "69004321"
    assert account(unconfirmed)["expert_status"] == "pending"


def test_a_register_update_reaches_the_names_of_the_bound_account(live, pending_expert, write_csv, import_file,
                                                                   account):
    import_file(write_csv(TABLEAU))
    user = pending_expert(email="philippe.durant@sogetes.example")
    code, data, _ = import_file(write_csv(TABLEAU))
    assert data["verified"] == [user.identifiant] and data["accounts_updated"] == 0
    renamed = [row("75001234", "DURANT-LEROY", "Philippe", "philippe.durant@sogetes.example", S1, "SOGETES",
                   "Paris")]
    code, data, _ = import_file(write_csv(renamed))
    assert (data["updated"], data["accounts_updated"]) == (1, 1)
    assert account(user)["family_name"] == "DURANT-LEROY"
