"""Reading a register file (no database): headers, delimiters, cells."""
from register_files import make_siret

from idp.register.services import RegisterRow, RowError, header_key, parse_register_file

S1 = make_siret(44523611)


def test_headers_are_matched_without_case_accents_or_punctuation():
    assert header_key("N° d'inscription") == "n_d_inscription"
    assert header_key(" Prénom(s) ") == "prenom_s"
    assert header_key("E-mail") == "e_mail"


def test_bytes_with_bom_commas_quotes_and_extra_columns():
    data = ("\ufeffNuméro d'inscription,NOM,Prénoms,Courriel,Région,SIRET,Raison sociale,Ville,Commentaire\n"
            f'75 001 234,DURANT,Philippe,Philippe.Durant@Sogetes.example,Paris,"{S1[:3]} {S1[3:6]} {S1[6:9]} '
            f'{S1[9:]}","Durant, Conseil & Associés",Paris,à revoir\n').encode()
    rows, errors = parse_register_file(data, "export.CSV")
    assert errors == []
    assert rows == [RegisterRow(
        line=2, numero_inscription="75001234", given_name="Philippe", family_name="DURANT",
        email="philippe.durant@sogetes.example", region="Paris", siret=S1,
        raison_sociale="Durant, Conseil & Associés", city="Paris")]


def test_a_row_longer_than_the_header_is_an_error():
    data = b"numero_inscription;nom;prenom;email;region;siret;raison_sociale;ville\n75001234;DURANT;P;;;;;;de trop\n"
    rows, errors = parse_register_file(data, "t.csv")
    assert rows == []
    assert errors == [RowError(2, "fichier", "La ligne a plus de cellules que l'en-tête (8 colonnes).")]


def test_an_empty_file():
    assert parse_register_file(b"\n\n", "t.csv") == ([], [RowError(1, "fichier", (
        "Le fichier est vide : l'en-tête est attendu en ligne 1."))])


def test_a_certificate_needs_its_subject_and_its_serial():
    data = ("numero_inscription;nom;prenom;email;region;siret;raison_sociale;ville;certificat_sujet;certificat_serie\n"
            "75001234;DURANT;Philippe;;;;;;CN=Philippe DURANT;\n").encode()
    assert parse_register_file(data, "t.csv").errors == [RowError(2, "certificat_serie", (
        "Le sujet et le numéro de série du certificat vont ensemble : donnez les deux ou aucun."))]
