"""deploy/nginx.conf, run by a real nginx in front of the two nodes: TLS, request ids, any node, no /metrics."""
from __future__ import annotations

import re

import pytest
import requests

from backends import free_port
from cluster_support import (
    REPO, Nginx, authorize_at, exchange_at, self_signed_certificate,
)
from flows import Browser

SHIPPED = REPO / "deploy" / "nginx.conf"


class RealBrowser(Browser):
    """Sends a Referer with its forms as a browser does: as the page's Referrer-Policy allows.

    Over HTTPS the provider refuses a form without a same-origin Referer
    (Flask-WTF), so what the policy lets through decides whether people can
    log in at all.
    """

    def __init__(self, base_url: str, certificate):
        super().__init__(base_url)
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would win over Session.verify
        self.http.verify = str(certificate)
        self.page = None

    def get(self, url, **kw):
        self.page = super().get(url, **kw)
        return self.page

    def post(self, url, **kw):
        policy = self.page.headers.get("Referrer-Policy", "strict-origin-when-cross-origin") if self.page else ""
        if self.page is not None and policy != "no-referrer":
            origin_only = policy in ("origin", "strict-origin")
            referer = self.base + "/" if origin_only else self.page.url
            kw.setdefault("headers", {})["Referer"] = referer
        return super().post(url, **kw)


def render(*, https_port: int, http_port: int, upstreams: list[int], directory) -> str:
    """deploy/nginx.conf with this machine's ports and files; every replaced line must exist."""
    cert, key = self_signed_certificate(directory)
    text = SHIPPED.read_text()
    servers = "\n".join(f"    server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;" for port in upstreams)
    replacements = {
        "    server 127.0.0.1:8000 max_fails=3 fail_timeout=10s;": servers,
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "/etc/comptexpert/tls/fullchain.pem": str(cert),
        "/etc/comptexpert/tls/privkey.pem": str(key),
        "/var/log/nginx/comptexpert.access.log": str(directory / "access.log"),
    }
    for shipped, local in replacements.items():
        assert shipped in text, f"deploy/nginx.conf no longer contains {shipped!r}: update the test"
        text = text.replace(shipped, local)
    return text


@pytest.fixture(scope="module")
def front(cluster, tmp_path_factory):
    directory = tmp_path_factory.mktemp("nginx")
    https_port, http_port = free_port(), free_port()
    site = render(https_port=https_port, http_port=http_port, upstreams=[n.port for n in cluster.nodes],
                  directory=directory)
    server = Nginx(directory, site, [https_port, http_port])
    yield server, f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", directory / "cert.pem"
    server.stop()


def test_a_whole_code_flow_goes_through_nginx_to_either_node(cluster, front):
    server, url, _, certificate = front
    rp = cluster.factories.relying_party(first_party=True)
    user = cluster.factories.user()
    browser = RealBrowser(url, certificate)

    code = authorize_at(url, browser, rp, user)
    with requests.Session() as session:
        session.trust_env = False
        session.verify = str(certificate)
        response = session.post(url + "/token", auth=(rp.client_id, rp.secret), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": rp.verifier})
    assert response.status_code == 200, response.text
    assert rp.verify(response.json()["id_token"], audience=rp.client_id)["sub"] == user.identifiant


def test_nginx_gives_each_request_an_id_the_node_logs_and_returns(cluster, front):
    server, url, _, certificate = front

    response = requests.get(url + "/.well-known/openid-configuration", verify=str(certificate))
    generated = response.headers["X-Request-Id"]
    passed_on = requests.get(url + "/healthz", verify=str(certificate), headers={"X-Request-Id": "lb-1234-abcd"})

    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert passed_on.headers["X-Request-Id"] == "lb-1234-abcd"
    records = [r for node in cluster.nodes for r in node.log_records() if r.get("request_id") == generated]
    assert [r["path"] for r in records if r.get("event") == "request"] == ["/.well-known/openid-configuration"]
    assert generated in server.access_log()


def test_metrics_are_not_served_to_the_internet(front):
    _, url, _, certificate = front
    assert requests.get(url + "/metrics", verify=str(certificate)).status_code == 403


def test_plain_http_is_sent_to_https(front):
    _, _, plain, _ = front
    response = requests.get(plain + "/login?x=1", allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://127.0.0.1/login?x=1")
