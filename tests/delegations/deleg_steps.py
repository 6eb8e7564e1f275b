"""Helpers of the délégations tests: firms, the API client, the pages' forms, the database."""
from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from html import unescape

import requests

from flows import Browser, csrf_of

DELEGATION_LINK_RE = re.compile(r'href="/compte/delegations/(\d+)"')


@dataclass(frozen=True)
class FirmInfo:
    id: int
    siret: str
    raison_sociale: str
    city: str


def _luhn_digit(payload: str) -> str:
    from idp.firms.siret import luhn_check_digit

    return luhn_check_digit(payload)


def new_siret() -> str:
    """A SIRET that passes the Luhn checks (SIREN and SIRET), never La Poste's."""
    while True:
        body = "".join(secrets.choice("0123456789") for _ in range(8))
        if not body.startswith("356"):
            break
    siren = body + _luhn_digit(body)
    nic = "".join(secrets.choice("0123456789") for _ in range(4))
    return siren + nic + _luhn_digit(siren + nic)


class ApiClient:
    """``/api/v1`` with a bearer token, as firm software calls it."""

    def __init__(self, base: str, token: str | None):
        self.base = base + "/api/v1"
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.base + path, **kw)

    def post(self, path: str, json=None, **kw) -> requests.Response:
        return self.http.post(self.base + path, json=json, **kw)

    def patch(self, path: str, json=None, **kw) -> requests.Response:
        return self.http.patch(self.base + path, json=json, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.http.delete(self.base + path, **kw)

    def create(self, firm, collaborators, rights, **extra) -> requests.Response:
        return self.post("/delegations", {"firm_id": firm.id, "collaborators": list(collaborators),
                                          "rights": list(rights), **extra})


def assert_problem(response: requests.Response, status: int, code: str) -> dict:
    """An RFC 9457 problem with this status and stable code."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] == f"urn:comptexpert:problem:{code}" and body["title"] and body["detail"]
    return body


def logged_in(base_url: str, user) -> Browser:
    browser = Browser(base_url)
    response = browser.login(user.email, user.password)
    assert response.status_code in (200, 302), response.text[:300]
    return browser


def post_form(browser: Browser, page, path: str, data: dict, files=None):
    """Post ``data`` to ``path`` with the CSRF token of ``page``."""
    return browser.post(path, data={"csrf_token": csrf_of(page.text), **data}, files=files)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html, re.S) or \
        re.search(rf'value="([^"]*)"[^>]*name="{name}"', html, re.S)
    assert match, f"no hidden field {name}"
    return unescape(match.group(1))


def csv_file(rows: list[str], header: str | None = "email") -> bytes:
    lines = ([header] if header else []) + rows
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def xlsx_file(rows: list[str], header: str | None = "Courriel") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    if header:
        sheet.append(["Nom", header])
    for index, email in enumerate(rows):
        sheet.append([f"Collaborateur {index}", email])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def api_count(client: ApiClient) -> int:
    """How many delegations the client's user gave (not removed)."""
    response = client.get("/delegations", params={"per_page": 1})
    assert response.status_code == 200, response.text
    return response.json()["total"]
