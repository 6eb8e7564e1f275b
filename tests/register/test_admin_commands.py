"""Administrators: `idp users pending`, `idp users verify`, `idp firms link|unlink|list`."""
import json

import pytest

from register_files import make_siret, row

S1, S2 = make_siret(44523611), make_siret(73282932)


@pytest.fixture
def tableau(live, write_csv, import_file):
    code, data, _ = import_file(write_csv([
        row("75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", S1, "SOGETES", "Paris"),
        row("69004321", "MARTIN", "Élise", "elise.martin@cabinet.example"),
    ]))
    assert code == 0, data


def invoke_json(runner, *args):
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_pending_lists_the_accounts_waiting_for_verification(live, runner, pending_expert, make_user):
    first = pending_expert(claimed_numero="75001234")
    second = pending_expert(email_verified=False)
    make_user()  # a collaborator: not waiting for anything
    rows = invoke_json(runner, "users", "pending")
    assert [(r["identifiant"], r["email_verified"], r["claimed_numero"]) for r in rows] == [
        (first.identifiant, True, "75001234"), (second.identifiant, False, None)]


def test_pending_says_when_nobody_waits(live, runner):
    result = runner.invoke(args=["users", "pending"])
    assert result.exit_code == 0 and result.stdout == "No account waiting for verification.\n"


def test_administrator_verifies_with_a_numero(tableau, runner, pending_expert, account):
    user = pending_expert(email="e.martin@ailleurs.example", family_name="Martin-Lefort", claimed_numero="6900432")
    data = invoke_json(runner, "users", "verify", user.email, "--numero", "69004321")
    assert data == {"identifiant": user.identifiant, "email": user.email, "expert_status": "verified",
                    "numero_inscription": "69004321"}
    assert account(user) == {"expert_status": "verified", "numero": "69004321", "given_name": "Élise",
                             "family_name": "MARTIN"}
    assert invoke_json(runner, "users", "pending") == []


def test_administrator_verifies_without_a_numero(live, runner, pending_expert, account):
    user = pending_expert(given_name="Anne", family_name="Blanc")
    data = invoke_json(runner, "users", "verify", user.identifiant)
    assert data["expert_status"] == "verified" and data["numero_inscription"] is None
    assert account(user) == {"expert_status": "verified", "numero": None, "given_name": "Anne",
                             "family_name": "Blanc"}


@pytest.mark.parametrize(("login", "numero", "message"), [
    ("personne@nulle.part", None, "Aucun compte ne porte cet identifiant ou cette adresse."),
    (None, "00000000", "Aucune inscription au Tableau ne porte le numéro 00000000."),
])
def test_verify_refuses_unknown_accounts_and_numeros(tableau, runner, pending_expert, account, login, numero,
                                                     message):
    user = pending_expert()
    result = runner.invoke(args=["users", "verify", login or user.email, *(["--numero", numero] if numero else [])])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"
    assert account(user)["expert_status"] == "pending"


def test_verify_refuses_a_numero_that_belongs_to_another_account(tableau, runner, pending_expert, try_verify,
                                                                   account):
    owner = pending_expert(email="philippe.durant@sogetes.example")
    assert try_verify(owner)
    other = pending_expert()
    result = runner.invoke(args=["users", "verify", other.email, "--numero", "75001234"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: Le numéro 75001234 est déjà rattaché au compte {owner.identifiant}.\n"
    assert account(other)["expert_status"] == "pending"


def test_administrator_links_an_expert_to_a_new_firm(tableau, runner, pending_expert, try_verify):
    expert = pending_expert(email="philippe.durant@sogetes.example")
    assert try_verify(expert)
    data = invoke_json(runner, "firms", "link", expert.identifiant, S2.replace("", " ").strip(),
                       "--raison-sociale", "Durant Conseil", "--city", "Versailles")
    assert data == {"identifiant": expert.identifiant, "linked": True, "firm": {
        "siret": S2, "siret_display": f"{S2[:3]}.{S2[3:6]}.{S2[6:9]}.{S2[9:]}", "raison_sociale": "Durant Conseil",
        "city": "Versailles"}}
    again = invoke_json(runner, "firms", "link", expert.email, S2)
    assert again["linked"] is False, "linking twice changes nothing"

    mine = invoke_json(runner, "firms", "list", "--login", expert.identifiant)
    assert [(f["raison_sociale"], f["origin"]) for f in mine] == [("Durant Conseil", "admin"), ("SOGETES", "register")]
    every = invoke_json(runner, "firms", "list")
    assert [(f["siret"], f["register_entries"], f["linked_experts"]) for f in every] == [(S2, 0, 1), (S1, 1, 0)]

    result = runner.invoke(args=["firms", "unlink", expert.identifiant, S2])
    assert result.exit_code == 0
    assert [f["origin"] for f in invoke_json(runner, "firms", "list", "--login", expert.identifiant)] == ["register"]
    result = runner.invoke(args=["firms", "unlink", expert.identifiant, S1])
    assert result.exit_code == 1
    assert result.stderr == "Error: Ce compte n'est pas rattaché à cette société par un administrateur.\n"


@pytest.mark.parametrize(("siret", "options", "message"), [
    ("not-a-siret", [], "Le SIRET ne doit contenir que des chiffres (espaces et points admis entre les groupes)."),
    (S2, [], "Société inconnue : donnez sa raison sociale pour la créer."),
])
def test_link_refuses_bad_or_unknown_firms(live, runner, pending_expert, siret, options, message):
    expert = pending_expert()
    assert runner.invoke(args=["users", "verify", expert.email]).exit_code == 0
    result = runner.invoke(args=["firms", "link", expert.email, siret, *options])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"


def test_link_refuses_an_expert_not_verified(live, runner, pending_expert):
    user = pending_expert()
    result = runner.invoke(args=["firms", "link", user.email, S2, "--raison-sociale", "Durant Conseil"])
    assert result.exit_code == 1
    assert result.stderr == "Error: Ce compte n'est pas celui d'un expert-comptable vérifié : vérifiez-le d'abord.\n"
    assert invoke_json(runner, "firms", "list") == [], "nothing created"
