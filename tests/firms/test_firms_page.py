"""Mes sociétés d'exercice (/compte/societes), for an expert, an expert waiting for verification, a collaborator."""
import re
from html import unescape

from register_files import make_siret, row

S1, S2, S3 = make_siret(44523611), make_siret(73282932), make_siret(55203253)


def shown(siret):
    return f"{siret[:3]}.{siret[3:6]}.{siret[6:9]}.{siret[9:]}"


def table_rows(html):
    """The cells of each row of the page's table, as text."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_an_expert_sees_his_firms_from_the_register_and_from_an_administrator(live, runner, load_register,
                                                                            make_user, logged_in):
    expert = make_user(email="philippe.durant@sogetes.example", profile="expert_comptable", expert_status="pending")
    report = load_register([
        row("75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", S1, "SOGETES", "Paris"),
        row("75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", S2, "Durant Conseil", "Versailles"),
        row("69004321", "MARTIN", "Élise", "elise.martin@cabinet.example", S3, "Cabinet Martin", "Lyon"),
    ])
    assert report.verified == [expert.identifiant]
    result = runner.invoke(args=["firms", "link", expert.identifiant, S3])
    assert result.exit_code == 0, result.output

    page = logged_in(expert).get("/compte/societes")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "<h1>Mes sociétés d'exercice</h1>" in text
    assert table_rows(page.text) == [
        ["Cabinet Martin", "Lyon", shown(S3), "Ajoutée par un administrateur"],
        ["Durant Conseil", "Versailles", shown(S2), "Tableau de l'Ordre"],
        ["SOGETES", "Paris", shown(S1), "Tableau de l'Ordre"],
    ]
    assert "sont tenues par votre conseil régional" in text
    assert 'href="/compte/societes" aria-current="page">Mes sociétés d\'exercice</a>' in text


def test_an_expert_without_firm_is_told_how_to_get_one(live, runner, make_user, logged_in):
    expert = make_user(profile="expert_comptable", expert_status="pending")
    assert runner.invoke(args=["users", "verify", expert.email]).exit_code == 0
    page = logged_in(expert).get("/compte/societes")
    assert "<table" not in page.text
    assert "Aucune société d'exercice n'est rattachée à votre compte" in unescape(page.text)


def test_an_expert_waiting_for_verification_is_told_what_happens(live, make_user, logged_in):
    expert = make_user(profile="expert_comptable", expert_status="pending", claimed_numero="75001234")
    page = logged_in(expert).get("/compte/societes")
    text = unescape(page.text)
    assert page.status_code == 200 and "<table" not in page.text
    assert "Votre profil d'expert-comptable attend sa vérification." in text
    assert "dès que le Tableau de l'Ordre vous reconnaît" in text and "un administrateur" in text


def test_a_collaborator_learns_that_firms_come_through_delegations(live, make_user, logged_in):
    collaborator = make_user(email="benjamin.dossat@sogetes.example")
    page = logged_in(collaborator).get("/compte/societes")
    text = unescape(page.text)
    assert page.status_code == 200 and "<table" not in page.text
    assert "grâce aux délégations que votre expert-comptable vous donne" in text
    assert "attend sa vérification" not in text


def test_the_page_needs_a_login(live, browser):
    response = browser.get("/compte/societes")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/compte/societes")
