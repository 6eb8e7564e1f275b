"""Binding SIGNEXPERT certificates to an account: by the holder in Sécurité, or by the register.

Binding needs a session opened with the password and the authenticator app
(eidas2) or more; an account may have several certificates; removing one
takes effect at once.
"""
from __future__ import annotations

import csv
import re
from types import SimpleNamespace

import pytest

from flows import csrf_of
from signexpert_support import certificate_login, holder, open_certificate_page, text_of

UNBOUND = "Ce certificat SIGNEXPERT est valide, mais il n'est associé à aucun compte Comptexpert."
NEEDS_EIDAS2 = ("Pour associer un certificat, connectez-vous avec votre mot de passe et votre application "
                "d'authentification.")
BIND_PATH = "/compte/securite/certificats/associer"


def strong_login(browser, user, totp) -> None:
    """Password then the authenticator code: an eidas2 session."""
    second = browser.login(user.email, user.password)
    assert 'name="code"' in second.text
    home = browser.follow(browser.post("/login/code", data={"csrf_token": csrf_of(second.text),
                                                            "code": totp.now()}))
    assert home.url.endswith("/compte/")


def bind_through_pages(browser, front) -> None:
    """Sécurité → « Associer mon certificat » → the certificate shown → « Associer ce certificat à mon compte »."""
    security = browser.get("/compte/securite/")
    assert f'href="{front.url}{BIND_PATH}"' in security.text
    page = browser.get(front.url + BIND_PATH)
    assert page.status_code == 200, text_of(page)[:600]
    answer = browser.post_form(page, front.url + BIND_PATH)
    assert answer.status_code == 303, text_of(answer)[:600]
    assert answer.headers["Location"] == browser.base + "/compte/securite/"


def write_leaf(tmp_path, issued, name) -> SimpleNamespace:
    """A certificate minted in the test, written where a TLS client can load it."""
    cert, key = tmp_path / f"{name}.crt.pem", tmp_path / f"{name}.key.pem"
    cert.write_bytes(issued.cert_pem)
    key.write_bytes(issued.key_pem)
    return SimpleNamespace(cert=cert, key=key)


def test_a_password_only_session_may_not_bind_a_certificate(live, nginx, user, leaf_files):
    browser = holder(live, nginx, leaf_files["valid"])
    browser.login(user.email, user.password)

    security = browser.get("/compte/securite/")
    text = text_of(security)
    assert "Certificats SIGNEXPERT" in text
    assert "Aucun certificat n'est associé à votre compte." in text
    assert NEEDS_EIDAS2 in text and "Associer mon certificat" not in text

    page = browser.get(nginx.url + BIND_PATH)
    assert page.status_code == 403 and NEEDS_EIDAS2 in text_of(page)
    assert 'action="/compte/securite/certificats/associer"' not in page.text
    refused = browser.post(nginx.url + BIND_PATH, data={"csrf_token": csrf_of(security.text)})
    assert refused.status_code == 403 and NEEDS_EIDAS2 in text_of(refused)

    assert open_certificate_page(holder(live, nginx, leaf_files["valid"])).status_code == 403  # still unbound


def test_binding_in_securite_after_password_and_authenticator(live, front, user, enrol, leaf_files, signexpert_pki):
    totp = enrol(user)
    browser = holder(live, front, leaf_files["valid"])
    strong_login(browser, user, totp)

    page = browser.get(front.url + BIND_PATH)
    assert "<dd>Philippe DURANT</dd>" in page.text
    assert f"à votre compte {user.identifiant} au niveau le plus élevé (eidas3)" in text_of(page)
    bind_through_pages(browser, front)

    security = text_of(browser.get("/compte/securite/"))
    assert "Certificat SIGNEXPERT associé : vous pouvez désormais vous connecter avec lui." in security
    assert f'<td class="technical">{signexpert_pki.leaves["valid"].cert.serial_number:x}</td>' in security
    assert "vous, le " in security

    again = browser.get(front.url + BIND_PATH)
    assert again.status_code == 409 and "Ce certificat est déjà associé à votre compte." in text_of(again)

    fresh = holder(live, front, leaf_files["valid"])
    answer = certificate_login(fresh)
    assert answer.status_code == 303 and answer.headers["Location"] == f"{live.url}/compte/"


def test_several_certificates_and_removing_one_is_immediate(live, nginx, user, enrol, bind, leaf_files,
                                                            signexpert_pki, tmp_path):
    second = signexpert_pki.issue_leaf("Philippe DURANT", "philippe.durant@example.fr")
    second_files = write_leaf(tmp_path, second, "second")
    totp = enrol(user)
    bind(user, signexpert_pki.leaves["valid"])
    bind(user, second)

    with_second = holder(live, nginx, second_files)
    assert certificate_login(with_second).status_code == 303
    assert certificate_login(holder(live, nginx, leaf_files["valid"])).status_code == 303

    owner = holder(live, nginx)
    strong_login(owner, user, totp)
    security = owner.get("/compte/securite/")
    ids = re.findall(r'action="/compte/securite/certificats/(\d+)/retirer"', security.text)
    assert len(ids) == 2
    serial = f"{second.cert.serial_number:x}"
    row = re.search(rf'{serial}</td>.*?certificats/(\d+)/retirer', security.text, re.S).group(1)
    removed = owner.follow(owner.post(f"/compte/securite/certificats/{row}/retirer",
                                      data={"csrf_token": csrf_of(security.text)}))
    assert "Certificat retiré : il ne permet plus de se connecter à votre compte." in text_of(removed)
    assert serial not in removed.text

    refused = open_certificate_page(holder(live, nginx, second_files))
    assert refused.status_code == 403 and UNBOUND in text_of(refused)
    # The session it opened is over too; the other certificate still opens the account.
    assert with_second.get("/compte/").status_code == 302
    assert certificate_login(holder(live, nginx, leaf_files["valid"])).status_code == 303
    assert owner.get("/compte/").status_code == 200, "the session that removed it goes on"


def test_a_certificate_bound_to_another_account_cannot_be_bound_again(live, nginx, user, make_user, enrol, bind,
                                                                      leaf_files, signexpert_pki):
    bind(user, signexpert_pki.leaves["valid"])
    other = make_user(given_name="Paul", family_name="Martin")
    totp = enrol(other)
    browser = holder(live, nginx, leaf_files["valid"])
    strong_login(browser, other, totp)
    page = browser.get(nginx.url + BIND_PATH)
    assert page.status_code == 409
    assert "Ce certificat est déjà associé à un autre compte Comptexpert." in text_of(page)
    refused = browser.post(nginx.url + BIND_PATH, data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 409
    assert "Ce certificat est déjà associé à un autre compte Comptexpert." in text_of(refused)


# -- the register -------------------------------------------------------------------------------------

REGISTER_HEADER = ["numero_inscription", "nom", "prenom", "email", "region", "siret", "raison_sociale", "ville",
                   "certificat_sujet", "certificat_serie"]


def import_register(runner, tmp_path, subject: str, serial: str) -> None:
    path = tmp_path / "tableau.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(REGISTER_HEADER)
        writer.writerow(["75001234", "DURANT", "Philippe", "philippe.durant@sogetes.example", "Paris", "", "", "",
                         subject, serial])
    result = runner.invoke(args=["register", "import", str(path), "--json"])
    assert result.exit_code == 0, result.output


def colon_serial(number: int) -> str:
    digits = f"{number:x}"
    digits = "0" * (len(digits) % 2) + digits
    return ":".join(digits[i:i + 2] for i in range(0, len(digits), 2)).upper()


@pytest.fixture
def expert(make_user):
    """An account claiming the Expert-comptable profile, verified by the register import."""
    return make_user(email="philippe.durant@sogetes.example", profile="expert_comptable", expert_status="pending")


def test_the_register_binds_the_certificate_it_names(live, nginx, runner, expert, leaf_files, signexpert_pki,
                                                     tmp_path):
    valid = signexpert_pki.leaves["valid"].cert
    # As a council might type it: OpenSSL's order and slashes, the serial with colons.
    import_register(runner, tmp_path, "/C=FR/O=Ordre des experts-comptables/CN=Philippe DURANT"
                                      "/emailAddress=philippe.durant@example.fr", colon_serial(valid.serial_number))

    browser = holder(live, nginx, leaf_files["valid"])
    assert certificate_login(browser).status_code == 303, "no binding step: the register named it"
    security = browser.get("/compte/securite/")
    text = text_of(security)
    assert "l'Ordre (Tableau)" in text
    assert "Pour ne plus l'utiliser, demandez sa révocation au support." in text
    assert "/retirer" not in security.text

    # A new import naming another certificate withdraws this one.
    import_register(runner, tmp_path, "CN=Philippe DURANT,O=Ordre des experts-comptables,C=FR", "0A1B2C")
    refused = open_certificate_page(holder(live, nginx, leaf_files["valid"]))
    assert refused.status_code == 403 and UNBOUND in text_of(refused)


def test_a_register_certificate_cannot_be_removed_by_its_holder(live, app, nginx, runner, expert, leaf_files,
                                                                 signexpert_pki, tmp_path):
    valid = signexpert_pki.leaves["valid"].cert
    import_register(runner, tmp_path, "CN=Philippe DURANT, O=Ordre des experts-comptables, C=FR, "
                                      "emailAddress=philippe.durant@example.fr", f"{valid.serial_number:x}")
    browser = holder(live, nginx, leaf_files["valid"])
    assert certificate_login(browser).status_code == 303

    from sqlalchemy import select

    from idp.certificates.models import UserCertificate
    from idp.extensions import db

    with app.app_context():
        binding_id = db.session.scalar(select(UserCertificate.id).where(UserCertificate.user_id == expert.id))
        db.session.remove()
    security = browser.get("/compte/securite/")
    answer = browser.follow(browser.post(f"/compte/securite/certificats/{binding_id}/retirer",
                                         data={"csrf_token": csrf_of(security.text)}))
    assert ("Ce certificat vous a été attribué par l'Ordre : pour ne plus l'utiliser, demandez sa révocation "
            "au support.") in text_of(answer)
    # Importing the same register again keeps it.
    import_register(runner, tmp_path, "CN=Philippe DURANT, O=Ordre des experts-comptables, C=FR, "
                                      "emailAddress=philippe.durant@example.fr", f"{valid.serial_number:x}")
    assert certificate_login(holder(live, nginx, leaf_files["valid"])).status_code == 303


def test_a_register_entry_with_another_subject_binds_nothing(live, nginx, runner, expert, leaf_files,
                                                             signexpert_pki, tmp_path):
    valid = signexpert_pki.leaves["valid"].cert
    import_register(runner, tmp_path, "CN=Jean DUPONT,O=Ordre des experts-comptables,C=FR", f"{valid.serial_number:x}")
    page = open_certificate_page(holder(live, nginx, leaf_files["valid"]))
    assert page.status_code == 403 and UNBOUND in text_of(page)
