"""A session that ends is told to the sites holding its tokens: CAEP session-revoked and a back-channel logout.

Every way of ending a session: logout at a relying site's request
(RP-initiated), logout on the provider's page, « se déconnecter partout »,
ending one session from Sécurité, changing the password (the other sessions
end) and resetting it by mail (every session ends).
"""
from __future__ import annotations

from flows import Browser, csrf_of
from smtp import link_in

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def sid_of(site, tokens) -> str:
    return site.rp.verify(tokens["id_token"], audience=site.client_id)["sid"]


def kinds_by_client(rows) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for row in rows:
        kind = "logout" if row["kind"] == "logout" else next(iter(row["payload"]["events"])).rsplit("/", 1)[1]
        result.setdefault(row["client_id"], []).append(kind)
    return result


def test_logout_from_a_site_tells_every_site_of_that_session_and_no_other(
        live, make_site, make_collaborator, browser_of, outbox, deliver_once):
    person = make_collaborator()
    both, logout_only, other_session, other_person = (
        make_site(), make_site(events=False), make_site(), make_site())
    browser = browser_of(person)
    tokens = both.tokens(browser, person)
    logout_only.tokens(browser, person)  # SSO: the same session
    sid = sid_of(both, tokens)
    other_session.tokens(browser_of(person), person)
    someone = make_collaborator()
    other_person.tokens(browser_of(someone), someone)

    # RP-initiated logout, as the first site sends the person back to us.
    response = browser.get("/logout", params={"id_token_hint": tokens["id_token"],
                                               "post_logout_redirect_uri": both.rp.client.post_logout_redirect_uris[0]})
    assert response.status_code == 302

    assert kinds_by_client(outbox()) == {both.client_id: ["session-revoked", "logout"],
                                         logout_only.client_id: ["logout"]}
    assert deliver_once().delivered == 3

    revoked, logout = both.events
    assert (revoked.kind, revoked.sub, revoked.sid) == ("session-revoked", person.identifiant, sid)
    assert revoked.payload["subject"] == {"format": "opaque", "id": person.identifiant}
    assert revoked.payload["initiating_entity"] == "user"
    assert revoked.payload["reason_admin"] == {"fr": "Déconnexion", "en": "Logout"}
    assert revoked.raw["aud"] == both.client_id and revoked.raw["iss"] == live.url
    assert (logout.kind, logout.sub, logout.sid) == ("backchannel-logout", person.identifiant, sid)
    (only,) = logout_only.events
    assert (only.kind, only.sid) == ("backchannel-logout", sid)
    assert other_session.events == [] and other_person.events == []


def test_logout_on_the_provider_page(make_site, make_collaborator, browser_of, outbox):
    person = make_collaborator()
    site = make_site()
    browser = browser_of(person)
    sid = sid_of(site, site.tokens(browser, person))

    page = browser.get("/compte/securite/")
    assert browser.post("/logout/local", data={"csrf_token": csrf_of(page.text)}).status_code == 302

    rows = outbox(site.client_id)
    assert [row["kind"] for row in rows] == ["set", "logout"]
    assert rows[0]["payload"]["events"][SESSION_REVOKED]["sid"] == sid
    assert rows[1]["payload"] == {"aud": site.client_id, "sub": person.identifiant, "sid": sid,
                                  "events": {LOGOUT_EVENT: {}}}


def test_logging_out_everywhere_tells_the_sites_of_every_session(
        make_site, make_collaborator, browser_of, outbox, deliver_once):
    person = make_collaborator()
    site = make_site()
    here, elsewhere = browser_of(person), browser_of(person)
    sids = {sid_of(site, site.tokens(here, person)), sid_of(site, site.tokens(elsewhere, person))}

    page = here.get("/compte/securite/")
    here.post("/compte/securite/sessions/tout-fermer", data={"csrf_token": csrf_of(page.text)})
    deliver_once()

    assert {event.sid for event in site.of_kind("session-revoked")} == sids
    assert {event.sid for event in site.of_kind("backchannel-logout")} == sids
    assert all(event.payload["reason_admin"]["en"] == "Logout from every session"
               for event in site.of_kind("session-revoked"))


def test_ending_one_session_from_securite(make_site, make_collaborator, browser_of, outbox):
    person = make_collaborator()
    site = make_site(events=False)
    here, elsewhere = browser_of(person), browser_of(person)
    site.tokens(here, person)
    far_sid = sid_of(site, site.tokens(elsewhere, person))

    page = here.get("/compte/securite/")
    here.post(f"/compte/securite/sessions/{far_sid}/terminer", data={"csrf_token": csrf_of(page.text)})

    (row,) = outbox(site.client_id)
    assert row["kind"] == "logout" and row["payload"]["sid"] == far_sid


def test_changing_the_password_tells_the_sites_of_the_other_sessions_only(
        make_site, make_collaborator, browser_of, outbox):
    person = make_collaborator()
    site = make_site()
    here, elsewhere = browser_of(person), browser_of(person)
    site.tokens(here, person)
    far_sid = sid_of(site, site.tokens(elsewhere, person))

    page = here.get("/compte/securite/")
    response = here.post("/compte/securite/mot-de-passe", data={
        "csrf_token": csrf_of(page.text), "current_password": person.password,
        "new_password": "un autre mot de passe solide", "confirm_password": "un autre mot de passe solide"})
    assert response.status_code == 303, response.text[:300]

    rows = outbox(site.client_id)
    assert [row["kind"] for row in rows] == ["set", "logout"]
    assert {row["payload"].get("sid") or row["payload"]["events"][SESSION_REVOKED]["sid"] for row in rows} == {far_sid}
    assert rows[0]["payload"]["events"][SESSION_REVOKED]["reason_admin"]["en"] == "Password changed"


def test_a_password_reset_tells_the_sites_of_every_session(live, smtp, make_site, make_collaborator, browser_of,
                                                           outbox):
    person = make_collaborator()
    site = make_site(events=False)
    sid = sid_of(site, site.tokens(browser_of(person), person))

    anonymous = Browser(live.url)
    form = anonymous.get("/mot-de-passe/oublie")
    anonymous.post("/mot-de-passe/oublie", data={"csrf_token": csrf_of(form.text), "login": person.email})
    link = link_in(smtp.wait_for(person.email))
    page = anonymous.get(link)
    anonymous.post(link, data={"csrf_token": csrf_of(page.text), "password": "un tout nouveau mot de passe",
                               "password_confirm": "un tout nouveau mot de passe"})

    (row,) = outbox(site.client_id)
    assert row["kind"] == "logout" and row["payload"]["sid"] == sid


def test_a_failed_logout_leaves_nothing_in_the_outbox(make_site, make_collaborator, browser_of, outbox):
    person = make_collaborator()
    site = make_site()
    browser = browser_of(person)
    site.tokens(browser, person)

    # A forged POST (no CSRF token) ends nothing, so nothing is told.
    browser.post("/compte/securite/sessions/tout-fermer", data={})

    assert outbox() == []
