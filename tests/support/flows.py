"""The authorization dance over real HTTP, as a relying site and a browser do it.

Only ``requests`` and the provider's public endpoints: nothing here imports
the server's code.
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
INTERACTION_RE = re.compile(r'name="interaction"[^>]*value="([^"]*)"')


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return unescape(match.group(1))


class Browser:
    """A user agent: cookies, no automatic redirects off the provider."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.http = requests.Session()

    def get(self, url: str, **kw) -> requests.Response:
        return self.http.get(url if url.startswith("http") else self.base + url, allow_redirects=False, **kw)

    def post(self, url: str, **kw) -> requests.Response:
        return self.http.post(url if url.startswith("http") else self.base + url, allow_redirects=False, **kw)

    def follow(self, response: requests.Response, limit: int = 10) -> requests.Response:
        """Follow redirects while they stay on the provider."""
        for _ in range(limit):
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            location = response.headers["Location"]
            if location.startswith("/"):
                location = self.base + location
            if not location.startswith(self.base):
                return response
            response = self.get(location)
        raise AssertionError("too many redirects")

    def login(self, login: str, password: str, page: requests.Response | None = None) -> requests.Response:
        """Submit the login form (of ``page``, or a fresh one); returns the answer, redirects followed."""
        page = page if page is not None else self.get("/login")
        interaction = INTERACTION_RE.search(page.text)
        data = {"csrf_token": csrf_of(page.text), "login": login, "password": password,
                "interaction": interaction.group(1) if interaction else ""}
        return self.follow(self.post("/login", data=data))

    def consent(self, page: requests.Response, decision: str = "allow") -> requests.Response:
        interaction = INTERACTION_RE.search(page.text).group(1)
        data = {"csrf_token": csrf_of(page.text), "interaction": interaction, "decision": decision}
        return self.follow(self.post("/authorize/consent", data=data))


class RelyingParty:
    """A registered client driving the code flow with PKCE."""

    def __init__(self, issuer: str, client, secret: str | None):
        self.issuer = issuer
        self.client = client
        self.client_id = client.client_id
        self.secret = secret
        self.redirect_uri = client.redirect_uris[0] if client.redirect_uris else None
        self.verifier: str | None = None
        self.jwks = jwt.PyJWKClient(issuer + "/jwks.json", cache_keys=False, cache_jwk_set=False)

    def authorize_params(self, **overrides) -> dict:
        self.verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile email",
            "state": secrets.token_urlsafe(12),
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def authorize_url(self, **overrides) -> str:
        self.params = self.authorize_params(**overrides)
        return self.issuer + "/authorize?" + urlencode(self.params)

    def token(self, data: dict, auth: str = "basic") -> requests.Response:
        if auth == "basic":
            return requests.post(self.issuer + "/token", data=data, auth=(self.client_id, self.secret))
        if auth == "post":
            return requests.post(self.issuer + "/token", data={**data, "client_id": self.client_id,
                                                                 "client_secret": self.secret})
        return requests.post(self.issuer + "/token", data=data)

    def exchange(self, code: str, verifier: str | None = None, **extra) -> requests.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": verifier or self.verifier, **extra}
        return self.token({k: v for k, v in data.items() if v is not None})

    def refresh(self, refresh_token: str, **extra) -> requests.Response:
        return self.token({"grant_type": "refresh_token", "refresh_token": refresh_token, **extra})

    def login_and_get_code(self, browser: Browser, user, **overrides) -> str:
        """Authorize, log in through the pages if needed, consent if asked; return the code."""
        response = browser.follow(browser.get(self.authorize_url(**overrides)))
        if 'name="password"' in response.text:
            response = browser.login(user.email, user.password, response)
        if 'value="allow"' in response.text:
            response = browser.consent(response)
        assert response.status_code == 302, response.text[:500]
        params = query_of(response.headers["Location"])
        assert "code" in params, params
        assert params["state"] == self.params["state"]
        assert params["iss"] == self.issuer
        return params["code"]

    def tokens_for(self, browser: Browser, user, **overrides) -> dict:
        code = self.login_and_get_code(browser, user, **overrides)
        response = self.exchange(code)
        assert response.status_code == 200, response.text
        return response.json()

    def verify(self, token: str, *, audience: str, typ: str | None = None, algorithms=("ES256", "RS256")) -> dict:
        """Verify a JWT from the provider with PyJWT and the served JWKS, every check explicit."""
        key = self.jwks.get_signing_key_from_jwt(token)
        if typ is not None:
            assert jwt.get_unverified_header(token)["typ"] == typ
        return jwt.decode(
            token, key.key, algorithms=list(algorithms), audience=audience, issuer=self.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]}, leeway=5,
        )
