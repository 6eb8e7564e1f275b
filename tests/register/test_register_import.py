"""`idp register import`: the Tableau de l'Ordre from CSV or Excel, all or nothing, idempotent."""
from sqlalchemy import select

from register_files import make_siret, row

S1, S2, S3 = make_siret(44523611), make_siret(73282932), make_siret(55203253)

TABLEAU = [
    row("75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", S1, "SOGETES", "Paris"),
    row("75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", S2, "Durant Conseil", "Versailles"),
    row("69004321", "MARTIN", "Élise", "Elise.Martin@Cabinet-Martin.example", S3, "Cabinet Martin", "Lyon",
        region="Auvergne-Rhône-Alpes"),
    row("13000042", "NGUYEN", "Anh", "", "", "", "", region="Provence-Alpes-Côte d'Azur"),
]


def counts(data):
    return {key: data[key] for key in ("created", "updated", "unchanged", "firms_created", "firms_updated")}


def test_csv_import_creates_entries_firms_and_links(live, write_csv, import_file, db_state):
    code, data, _ = import_file(write_csv(TABLEAU))
    assert code == 0
    assert data["applied"] is True and data["rows"] == 4 and data["verified"] == []
    assert counts(data) == {"created": 3, "updated": 0, "unchanged": 0, "firms_created": 3, "firms_updated": 0}

    state = db_state()
    durant = state["entries"]["75001234"]
    assert (durant["given_name"], durant["family_name"], durant["email"]) == (
        "Philippe", "DURANT", "philippe.durant@sogetes.example")
    assert durant["firms"] == sorted([S1, S2]), "an expert with two firms has two rows"
    assert state["entries"]["69004321"]["email"] == "elise.martin@cabinet-martin.example", "emails compare lower-cased"
    assert state["entries"]["69004321"]["region"] == "Auvergne-Rhône-Alpes"
    nguyen = state["entries"]["13000042"]
    assert nguyen["firms"] == [] and nguyen["email"] is None, "no SIRET: an expert without firm"
    assert state["firms"] == {S1: ("SOGETES", "Paris"), S2: ("Durant Conseil", "Versailles"),
                              S3: ("Cabinet Martin", "Lyon")}


def test_comma_separated_csv_without_bom_is_read_too(live, write_csv, import_file, db_state):
    code, data, _ = import_file(write_csv(TABLEAU, delimiter=",", bom=False))
    assert code == 0 and counts(data)["created"] == 3
    assert db_state()["entries"]["75001234"]["firms"] == sorted([S1, S2])


def test_excel_import_with_french_headers_and_numbers_as_numbers(live, write_xlsx, import_file, db_state):
    # Excel turns digits into numbers: the SIRET loses its leading zeros and
    # the numéro becomes an integer; headers carry accents and capitals.
    small = make_siret(1234)
    assert small.startswith("0000")
    header = ["N° d'inscription", "Nom", "Prénom(s)", "Courriel", "Région", "SIRET", "Raison sociale", "Ville",
              "Certificat sujet", "Certificat série"]
    rows = [
        [75001234, "DURANT", "Philippe", "philippe.durant@sogetes.example", "Paris Île-de-France", int(small),
         "SOGETES", "Paris", "CN=Philippe DURANT,O=CSOEC", "0A1B2C"],
        [75001234, "DURANT", "Philippe", "philippe.durant@sogetes.example", "Paris Île-de-France", S2,
         "Durant Conseil", "Versailles", "CN=Philippe DURANT,O=CSOEC", "0A1B2C"],
        [],
        [69004321, "MARTIN", "Élise", None, "Auvergne-Rhône-Alpes", None, None, None, None, None],
    ]
    code, data, _ = import_file(write_xlsx(rows, header=header))
    assert code == 0, data
    assert counts(data) == {"created": 2, "updated": 0, "unchanged": 0, "firms_created": 2, "firms_updated": 0}
    state = db_state()
    assert state["entries"]["75001234"]["firms"] == sorted([small, S2])
    assert state["firms"][small] == ("SOGETES", "Paris")

    from idp.extensions import db
    from idp.register.models import RegisterEntry

    with live.app.app_context():
        entry = db.session.scalar(select(RegisterEntry).where(RegisterEntry.numero_inscription == "75001234"))
        assert (entry.certificate_subject, entry.certificate_serial) == ("CN=Philippe DURANT,O=CSOEC", "0A1B2C")


def test_reimporting_the_same_file_changes_nothing(live, write_csv, import_file, db_state):
    path = write_csv(TABLEAU)
    import_file(path)
    before = db_state()
    code, data, _ = import_file(path)
    assert code == 0
    assert counts(data) == {"created": 0, "updated": 0, "unchanged": 3, "firms_created": 0, "firms_updated": 0}
    assert db_state() == before, "updated_at and imported_at included"


def test_a_new_file_updates_only_what_changed(live, write_csv, import_file, db_state):
    import_file(write_csv(TABLEAU))
    before = db_state()
    changed = [
        # Durant leaves Durant Conseil; Martin's firm moved (the entry itself is the same).
        row("75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", S1, "SOGETES", "Paris"),
        row("69004321", "MARTIN", "Élise", "elise.martin@cabinet-martin.example", S3, "Cabinet Martin",
            "Villeurbanne", region="Auvergne-Rhône-Alpes"),
        row("13000042", "NGUYEN", "Anh", "anh.nguyen@cabinet.example", "", "", "",
            region="Provence-Alpes-Côte d'Azur"),
    ]
    code, data, _ = import_file(write_csv(changed))
    assert code == 0
    assert counts(data) == {"created": 0, "updated": 2, "unchanged": 1, "firms_created": 0, "firms_updated": 1}
    after = db_state()
    assert after["entries"]["75001234"]["firms"] == [S1], "the file is the authority on the firms of its experts"
    assert after["entries"]["13000042"]["email"] == "anh.nguyen@cabinet.example"
    assert after["firms"][S3] == ("Cabinet Martin", "Villeurbanne")
    assert after["firms"][S2] == ("Durant Conseil", "Versailles"), "a firm nobody lists any more is kept"
    assert after["entries"]["69004321"] == before["entries"]["69004321"], "unchanged entry, same updated_at"


def test_bad_rows_are_all_reported_with_their_line_and_nothing_is_applied(live, runner, write_csv, import_file,
                                                                          db_state):
    rows = [
        row("75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", S1, "SOGETES", "Paris"),  # 2: good
        row("", "MARTIN", "Élise", "elise.martin@cabinet.example"),                                         # 3
        row("69004321", "MARTIN", "Élise", "", "732 829 320 00075", "Cabinet Martin", "Lyon"),              # 4
        row("13000042", "NGUYEN", "Anh", "pas-une-adresse"),                                                # 5
        row("75001234", "DUPONT", "Philippe", "philippe.durant@sogetes.example", S2, "Durant Conseil",
            "Versailles"),                                                                                  # 6
        row("31000077", "BERNARD", "Luc", "luc.bernard@cabinet.example", S1, "SOGETES SA", "Paris"),       # 7
        row("31000078", "", ""),                                                                            # 8
        row("31000079", "PETIT", "Jeanne", "", "", "Cabinet Petit", "Nantes"),                              # 9
        row("31000080", "ROUX", "Marc", "Philippe.Durant@sogetes.example"),                                 # 10
        row("31000081", "BLANC", "Anne", "", "12345678"),                                                   # 11
    ]
    code, data, stderr = import_file(write_csv(rows))
    assert code == 1
    assert data == {"applied": False, "errors": data["errors"]}
    assert [(e["line"], e["field"]) for e in data["errors"]] == [
        (3, "numero_inscription"), (4, "siret"), (5, "email"), (6, "nom"), (7, "raison_sociale"), (8, "nom"),
        (8, "prenom"), (9, "siret"), (10, "email"), (11, "siret"),
    ]
    assert db_state() == {"entries": {}, "firms": {}}, "the good row is not applied either"

    # Without --json: one line per bad row, as an administrator reads them.
    result = runner.invoke(args=["register", "import", str(write_csv(rows))])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "ligne 3 : numero_inscription : Le numéro d'inscription est obligatoire.",
        "ligne 4 : siret : Le SIRET est invalide : clé de contrôle incorrecte. Valeur lue : « 732 829 320 00075 ».",
        "ligne 5 : email : Adresse électronique invalide : « pas-une-adresse ».",
        "ligne 6 : nom : Le numéro d'inscription 75001234 figure ligne 2 avec « DURANT » : les lignes d'un même "
        "expert-comptable doivent concorder.",
        f"ligne 7 : raison_sociale : Le SIRET {S1} figure ligne 2 avec « SOGETES » : les lignes d'une même société "
        "doivent concorder.",
        "ligne 8 : nom : Le nom est obligatoire.",
        "ligne 8 : prenom : Le prénom est obligatoire.",
        "ligne 9 : siret : Le SIRET manque alors qu'une société est nommée.",
        "ligne 10 : email : L'adresse philippe.durant@sogetes.example est déjà celle du numéro d'inscription "
        "75001234 (ligne 2) : une adresse ne désigne qu'un expert-comptable.",
        "ligne 11 : siret : Le SIRET doit comporter 14 chiffres (il en a 8). Valeur lue : « 12345678 ».",
        "10 erreur(s) : rien n'a été importé.",
    ]
    assert result.stdout == ""
    assert db_state() == {"entries": {}, "firms": {}}


def test_bad_rows_in_excel_give_the_sheet_row_number(live, write_xlsx, import_file):
    rows = [
        row("75001234", "DURANT", "Philippe", "", S1, "SOGETES", "Paris"),
        [],
        row("69004321", "MARTIN", "Élise", "", "not a siret", "Cabinet Martin", "Lyon"),
    ]
    code, data, _ = import_file(write_xlsx(rows))
    assert code == 1
    assert data["errors"] == [{
        "line": 4, "field": "siret",
        "message": "Le SIRET ne doit contenir que des chiffres (espaces et points admis entre les groupes). "
                   "Valeur lue : « not a siret ».",
    }]


def test_a_missing_column_is_reported_once(live, write_csv, import_file):
    header = ["numero_inscription", "nom", "prenom", "email", "region", "raison_sociale", "ville"]
    code, data, _ = import_file(write_csv([["75001234", "DURANT", "Philippe", "", "", "", ""]], header=header))
    assert code == 1
    assert data["errors"] == [{"line": 1, "field": "siret", "message": "Colonne absente de l'en-tête."}]


def test_a_file_not_in_utf8_is_refused_with_the_line(live, tmp_path, import_file):
    path = tmp_path / "ansi.csv"
    path.write_bytes("numero_inscription;nom;prenom;email;region;siret;raison_sociale;ville\n"
                     "75001234;DURANT;Philippe;;;;;\n"
                     "69004321;MARTIN;Élise;;;;;\n".encode("cp1252"))
    code, data, _ = import_file(path)
    assert code == 1
    assert data["errors"] == [{"line": 3, "field": "fichier",
                               "message": "Le fichier n'est pas en UTF-8 : enregistrez-le en « CSV UTF-8 »."}]


def test_another_format_is_refused(live, tmp_path, import_file):
    path = tmp_path / "tableau.ods"
    path.write_bytes(b"PK\x03\x04")
    code, data, _ = import_file(path)
    assert code == 1
    assert data["errors"] == [{"line": 0, "field": "fichier",
                               "message": "Format non reconnu : fournissez un fichier .csv ou .xlsx."}]


def test_dry_run_counts_and_applies_nothing(live, write_csv, import_file, db_state):
    code, data, _ = import_file(write_csv(TABLEAU), "--dry-run")
    assert code == 0 and data["applied"] is False
    assert counts(data) == {"created": 3, "updated": 0, "unchanged": 0, "firms_created": 3, "firms_updated": 0}
    assert db_state() == {"entries": {}, "firms": {}}


def test_a_thousand_rows(live, write_csv, import_file, db_state):
    # 800 experts, each in his own firm; the first 200 also practise in the
    # firm of another (firms with several experts): 1,000 rows.
    def expert(i):
        return (f"{10000000 + i}", f"NOM{i}", f"Prénom{i}", f"expert{i}@cabinet.example")

    def firm(i):
        return (make_siret(20000000 + i), f"Cabinet {i}", "Paris")

    rows = [row(*expert(i), *firm(i)) for i in range(800)]
    rows += [row(*expert(i), *firm(i + 200)) for i in range(200)]
    path = write_csv(rows)
    code, data, _ = import_file(path)
    assert code == 0
    assert data["rows"] == 1000
    assert counts(data) == {"created": 800, "updated": 0, "unchanged": 0, "firms_created": 800, "firms_updated": 0}
    state = db_state()
    assert state["entries"]["10000007"]["firms"] == sorted([firm(7)[0], firm(207)[0]])
    assert state["entries"]["10000700"]["firms"] == [firm(700)[0]]

    code, data, _ = import_file(path)
    assert counts(data) == {"created": 0, "updated": 0, "unchanged": 800, "firms_created": 0, "firms_updated": 0}
