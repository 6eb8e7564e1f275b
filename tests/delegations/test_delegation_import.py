"""Créer/Ajouter from an uploaded list of collaborators (Excel or CSV): preview, bad rows, nothing half-applied."""
import re
from html import unescape

from deleg_steps import api_count, csv_file, hidden, logged_in, post_form, xlsx_file

SITE = "ordre:site_prive"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(browser, firm, name: str, content: bytes, mimetype: str = "text/csv"):
    """Steps 1 and 2 of Créer/Ajouter with a file; returns the preview (step 3, or step 2 with errors)."""
    step1 = browser.get("/compte/delegations/creer")
    step2 = post_form(browser, step1, "/compte/delegations/creer/collaborateurs", {"firm_id": firm.id})
    return post_form(browser, step2, "/compte/delegations/creer/apercu", {"firm_id": firm.id, "emails": ""},
                     files={"file": (name, content, mimetype)})


def delegate(browser, firm, preview, rights=(SITE,)):
    """Step 3: the rights, with the default expiry (one year)."""
    return post_form(browser, preview, "/compte/delegations/creer/deleguer", {
        "firm_id": firm.id, "emails": hidden(preview.text, "emails"), "rights": list(rights),
        "ends_on": hidden(preview.text, "ends_on")})


def rows_of(html: str) -> list[tuple[str, str, str]]:
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return [tuple(unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S))
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_a_good_csv_file_previews_existing_and_unknown_accounts_then_delegates(live, expert, make_collaborator,
                                                                              api):
    known = make_collaborator(email="connu@cabinet.example")
    browser = logged_in(live.url, expert)
    preview = upload(browser, expert.firm, "collaborateurs.csv",
                     csv_file(["Connu@Cabinet.example", "inconnu@cabinet.example"]))
    assert preview.status_code == 200, preview.text
    assert rows_of(preview.text) == [
        ("2", "Benjamin DOSSAT (connu@cabinet.example)", "Comptexpert existant : la délégation s'applique tout de "
                                                         "suite"),
        ("3", "inconnu@cabinet.example", "pas encore de Comptexpert confirmé : invitation, en attente"),
    ]
    done = delegate(browser, expert.firm, preview)
    assert done.status_code == 303
    states = {d["grantee"]["email"]: d["state"] for d in api(expert).get("/delegations").json()["items"]}
    assert states == {known.email: "active", "inconnu@cabinet.example": "pending_account"}


def test_an_excel_file_is_read_by_its_email_column(live, expert):
    browser = logged_in(live.url, expert)
    preview = upload(browser, expert.firm, "liste.xlsx", xlsx_file(["a@cabinet.example", "b@cabinet.example"]),
                     XLSX)
    assert preview.status_code == 200, preview.text
    assert [row[:2] for row in rows_of(preview.text)] == [("2", "a@cabinet.example"), ("3", "b@cabinet.example")]


def test_a_csv_without_header_with_semicolons_and_blank_lines(live, expert):
    browser = logged_in(live.url, expert)
    content = "a@cabinet.example;Alice\r\n\r\nb@cabinet.example;Bob\r\n".encode("cp1252")
    preview = upload(browser, expert.firm, "liste.csv", content)
    assert [row[:2] for row in rows_of(preview.text)] == [("1", "a@cabinet.example"), ("3", "b@cabinet.example")]


def test_bad_rows_are_each_marked_with_their_row_number_and_nothing_is_applied(live, expert, collaborator, api):
    api(expert).create(expert.firm, [collaborator.email], [SITE])
    browser = logged_in(live.url, expert)
    preview = upload(browser, expert.firm, "liste.xlsx", xlsx_file([
        "ok@cabinet.example", "pas une adresse", "OK@cabinet.example", expert.email, collaborator.email,
        "autre@cabinet.example"]), XLSX)
    assert preview.status_code == 400
    assert "4 ligne(s) à corriger sur 6" in preview.text
    assert [(line, result) for line, _value, result in rows_of(preview.text)] == [
        ("2", "correcte"),
        ("3", "Erreur : Adresse électronique invalide."),
        ("4", "Erreur : En double : déjà à la ligne 2."),
        ("5", "Erreur : C'est votre propre adresse : on ne se délègue pas de droits."),
        ("6", "Erreur : Ce collaborateur a déjà une délégation de votre part dans cette société : modifiez-la "
              "plutôt."),
        ("7", "correcte"),
    ]
    assert 'name="rights"' not in preview.text  # no step 3 until the list is clean
    assert api_count(api(expert)) == 1


def test_a_list_that_changed_since_the_preview_is_checked_again_at_the_end(live, expert, make_collaborator, api):
    browser = logged_in(live.url, expert)
    preview = upload(browser, expert.firm, "liste.csv", csv_file(["nouveau@cabinet.example"]))
    # Meanwhile, the same collaborator received a delegation through the API.
    api(expert).create(expert.firm, ["nouveau@cabinet.example"], [SITE])
    done = delegate(browser, expert.firm, preview)
    assert done.status_code == 400 and "modifiez-la plutôt" in done.text
    assert api_count(api(expert)) == 1


def test_unreadable_and_foreign_files_are_refused(live, expert):
    browser = logged_in(live.url, expert)
    broken = upload(browser, expert.firm, "liste.xlsx", b"PK\x03\x04 not really a workbook", XLSX)
    assert broken.status_code == 400 and "Ce fichier Excel est illisible" in broken.text
    foreign = upload(browser, expert.firm, "liste.pdf", b"%PDF-1.4", "application/pdf")
    assert foreign.status_code == 400 and "Fichier Excel (.xlsx) ou CSV seulement." in foreign.text


def test_a_thousand_rows_in_one_go(live, expert, make_collaborator, api):
    known = [make_collaborator(email=f"connu{i}@cabinet.example") for i in range(3)]
    emails = [u.email for u in known] + [f"collaborateur{i:04d}@cabinet.example" for i in range(997)]
    browser = logged_in(live.url, expert)
    preview = upload(browser, expert.firm, "mille.xlsx", xlsx_file(emails), XLSX)
    assert preview.status_code == 200, preview.text[:2000]
    assert "1000 collaborateur(s), liste vérifiée" in preview.text
    done = delegate(browser, expert.firm, preview, rights=[SITE, "jefacture:acces"])
    assert done.status_code == 303
    assert "1000 délégation(s) créée(s), dont 997 en attente de création du compte." in browser.follow(done).text
    page = api(expert).get("/delegations", params={"per_page": 100, "page": 10}).json()
    assert page["total"] == 1000 and len(page["items"]) == 100
    assert api(expert).get("/pending", params={"per_page": 1}).json()["invitations"]["total"] == 997
