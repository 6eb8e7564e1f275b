"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)."""
from __future__ import annotations

from authlib.oidc.rpinitiated import EndSessionEndpoint as _EndSessionEndpoint
from flask import request as flask_request

from ...events.services import session_ending
from ...extensions import db
from ...sessions.services import end_session
from ...sessions.web import current_login
from ...signing.services import load_ring


class EndSessionEndpoint(_EndSessionEndpoint):
    def get_server_jwks(self):
        return load_ring().jwks

    def is_post_logout_redirect_uri_legitimate(self, request, post_logout_redirect_uri, client, logout_hint):
        # Without an id_token_hint, the user confirmed on our page (a POST
        # with a CSRF token); the URI is still one the client registered.
        return flask_request.method == "POST"

    def end_session(self, end_session_request) -> None:
        login = current_login()
        if login is not None:
            session_ending(login, "logout")
            end_session(login)
            db.session.commit()
