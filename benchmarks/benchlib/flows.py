"""Set-up over real HTTP, as a browser and a relying site do it.

Nothing here imports the server: logins go through the login page (ours) or
the interaction the peer's configuration answers, codes through the
authorization endpoint, tokens through the token endpoint. Each helper
checks what it gets and raises :class:`SetupError` with the answer when it is
not what a benchmark can build on.
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests

from .servers import CLIENT_SCOPE, REDIRECT_URI, RESOURCE, Server, SetupError, basic_auth

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def cookie_header(jar: requests.cookies.RequestsCookieJar, keep=lambda name: True) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar if keep(cookie.name))


@dataclass
class Side:
    """How to drive one provider: its endpoints and its benchmark client."""

    server: Server
    authorize_path: str
    token_path: str = "/token"

    @property
    def name(self) -> str:
        return self.server.name

    @property
    def base(self) -> str:
        return self.server.url

    @property
    def authorization(self) -> str:
        return basic_auth(self.server.facts["client_id"], self.server.facts["client_secret"])

    def token(self, data: dict) -> requests.Response:
        return requests.post(self.base + self.token_path, data=data, headers={"Authorization": self.authorization},
                             timeout=30)

    def token_json(self, data: dict) -> dict:
        response = self.token(data)
        if response.status_code != 200 or "access_token" not in response.text:
            raise SetupError(f"{self.name}: {data.get('grant_type')} answered {response.status_code}: "
                             f"{response.text[:500]}")
        return response.json()

    # -- client_credentials -------------------------------------------------------------
    def client_credentials_body(self) -> str:
        return urlencode({"grant_type": "client_credentials", "resource": RESOURCE})

    # -- authorization code -------------------------------------------------------------
    def authorize_query(self, challenge: str, state: str | None = None, nonce: str | None = None) -> str:
        return self.authorize_path + "?" + urlencode({
            "response_type": "code",
            "client_id": self.server.facts["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": CLIENT_SCOPE,
            "state": state or secrets.token_urlsafe(12),
            "nonce": nonce or secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        })

    def code(self, browser: requests.Session, path: str) -> str:
        """Follow the provider's redirects from ``path`` to the redirect URI; return the code."""
        url = self.base + path
        for _ in range(12):
            response = browser.get(url, allow_redirects=False, timeout=30)
            location = response.headers.get("Location")
            if response.status_code not in (302, 303) or not location:
                raise SetupError(f"{self.name}: {url} answered {response.status_code} without a redirect: "
                                 f"{response.text[:500]}")
            if location.startswith(REDIRECT_URI):
                query = parse_qs(urlsplit(location).query)
                if "code" not in query:
                    raise SetupError(f"{self.name}: authorization answered {location}")
                return query["code"][0]
            url = location if location.startswith("http") else self.base + location
            if not url.startswith(self.base):
                raise SetupError(f"{self.name}: unexpected redirect to {location}")
        raise SetupError(f"{self.name}: too many redirects from {path}")

    def code_flow(self, browser: requests.Session) -> dict:
        """A whole authorization code flow with PKCE in ``browser``; the token response."""
        verifier, challenge = pkce_pair()
        code = self.code(browser, self.authorize_query(challenge))
        return self.token_json({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                "code_verifier": verifier})

    def sso_cookie(self, browser: requests.Session) -> str:
        """The Cookie header that carries this browser's SSO session."""
        if self.name.startswith("ours"):
            return cookie_header(browser.cookies, lambda name: name == "idp_session")
        return cookie_header(browser.cookies, lambda name: name.startswith("_session"))

    def authcode_row(self, browser: requests.Session) -> list[str]:
        """A wrk row for authcode.lua: fixed state, nonce and PKCE pair per connection, checked once."""
        verifier, challenge = pkce_pair()
        path = self.authorize_query(challenge, state=secrets.token_urlsafe(12), nonce=secrets.token_urlsafe(12))
        cookie = self.sso_cookie(browser)
        # The exact requests wrk will send, once, without the browser's cookie jar.
        for _ in range(2):
            bare = requests.Session()
            bare.headers["Cookie"] = cookie
            code = self.code(bare, path)
            self.token_json({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                             "code_verifier": verifier})
        return [path, cookie, self.token_path, self.authorization, quote(REDIRECT_URI, safe=""), verifier]


# -- logins ------------------------------------------------------------------------------

def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise SetupError("no CSRF token in the login page")
    return unescape(match.group(1))


def ours_browser(side: Side, login: str, password: str) -> requests.Session:
    """A browser logged in through our login page."""
    browser = requests.Session()
    page = browser.get(side.base + "/login", timeout=30)
    response = browser.post(side.base + "/login", allow_redirects=False, timeout=30, data={
        "csrf_token": csrf_of(page.text), "login": login, "password": password, "interaction": ""})
    if response.status_code not in (302, 303) or "idp_session" not in browser.cookies:
        raise SetupError(f"ours: login as {login} answered {response.status_code}: {response.text[:500]}")
    return browser


def peer_browser(side: Side) -> requests.Session:
    """A browser with an SSO session and a grant at the peer (first flow answers its prompts)."""
    browser = requests.Session()
    side.code_flow(browser)
    return browser


def browser_for(side: Side) -> requests.Session:
    if side.name.startswith("ours"):
        return ours_browser(side, side.server.facts["email"], side.server.facts["password"])
    return peer_browser(side)


def login_row(side: Side, login: str, password: str) -> list[str]:
    """A wrk row for login.lua: a browser's cookies and a filled login form, checked twice.

    The browser logs in once first, as a returning user has: the cookies
    the login page sets for a known browser then come with every request,
    but not the SSO cookie (with it there would be nothing to log in to).
    """
    browser = ours_browser(side, login, password)
    page = browser.get(side.base + "/login", timeout=30)
    body = urlencode({"csrf_token": csrf_of(page.text), "login": login, "password": password, "interaction": ""})
    cookie = cookie_header(browser.cookies, lambda name: name != "idp_session")
    for _ in range(2):
        response = requests.post(side.base + "/login", data=body, allow_redirects=False, timeout=30,
                                 headers={**FORM, "Cookie": cookie})
        location = response.headers.get("Location", "")
        if response.status_code not in (302, 303) or "/login" in location:
            raise SetupError(f"ours: repeated login answered {response.status_code} {location}: "
                             f"{response.text[:300]}")
    return ["/login", cookie, body]
