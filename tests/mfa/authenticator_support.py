"""The user's phone and the second login step, as the tests drive them over HTTP."""
from __future__ import annotations

import re
import time
from html import unescape

import pyotp

from flows import Browser, csrf_of

SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
RECOVERY_RE = re.compile(r"<li><code>([A-Z0-9-]{19})</code></li>")


class Authenticator:
    """An authenticator app holding ``secret``: gives a code of a step not used yet.

    The provider accepts the current step and one either side, each once; this
    picks the oldest step still usable that was not given before, and waits for
    the next step only when both usable ones are spent.
    """

    def __init__(self, secret: str):
        self.secret = secret.replace(" ", "")
        self.totp = pyotp.TOTP(self.secret)
        self.last_step: int | None = None

    def code(self) -> str:
        step = int(time.time()) // 30
        wanted = step if self.last_step is None else max(self.last_step + 1, step)
        if wanted > step + 1:
            time.sleep((wanted - 1) * 30 - time.time() + 0.2)
        self.last_step = wanted
        return self.totp.generate_otp(wanted)

    def spent_code(self) -> str:
        """The code last given: a replay."""
        return self.totp.generate_otp(self.last_step)

    def wrong_code(self) -> str:
        """A well-formed code that matches no usable step."""
        step = int(time.time()) // 30
        usable = {self.totp.generate_otp(s) for s in range(step - 2, step + 4)}
        return next(c for c in (f"{n:06d}" for n in range(0, 1000000, 7919)) if c not in usable)


def submit_code(browser: Browser, page, code: str):
    """Post ``code`` on the second-step page ``page``; the answer, redirects on the provider followed."""
    return browser.follow(browser.post("/login/code", data={"csrf_token": csrf_of(page.text), "code": code}))


def login_with_code(browser: Browser, user, code: str, page=None):
    """Password, then ``code``; returns the answer after both steps."""
    second = browser.login(user.email, user.password, page)
    assert second.status_code == 200 and 'name="code"' in second.text, second.text[:300]
    return submit_code(browser, second, code)


def enrol_through_pages(browser: Browser) -> tuple[Authenticator, list[str]]:
    """Sécurité → add an app → read the key on the page → confirm a code; returns the phone and the codes."""
    security = browser.get("/compte/securite/")
    start = browser.follow(browser.post("/compte/securite/application/nouvelle",
                                        data={"csrf_token": csrf_of(security.text)}))
    assert start.status_code == 200, start.text[:300]
    phone = Authenticator(unescape(SECRET_RE.search(start.text).group(1)))
    done = browser.post("/compte/securite/application", data={"csrf_token": csrf_of(start.text), "code": phone.code()})
    assert done.status_code == 200, done.text[:500]
    return phone, RECOVERY_RE.findall(done.text)
