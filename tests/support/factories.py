"""Factories for test data, built through the same services the product uses."""
from __future__ import annotations

import itertools

from flows import RelyingParty

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


class Factories:
    def __init__(self, app):
        self.app = app

    def user(self, *, email: str | None = None, password: str = PASSWORD, given_name: str = "Philippe",
             family_name: str = "Durant", email_verified: bool = True, **extra):
        """A committed account; returns a detached snapshot with ``password`` attached."""
        from idp.accounts.services import create_user
        from idp.extensions import db

        with self.app.app_context():
            user = create_user(email=email or f"user{next(_seq)}@cabinet.example", password=password,
                               given_name=given_name, family_name=family_name, email_verified=email_verified)
            for key, value in extra.items():
                setattr(user, key, value)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
        user.password = password
        return user

    def collaborator(self, **options):
        """A collaborator's account: profile "Autre profil", as the seed asks of firm staff."""
        options.setdefault("given_name", "Benjamin")
        options.setdefault("family_name", "Dossat")
        return self.user(profile="autre", **options)

    def client(self, **options):
        """A committed client; returns ``(client, secret)``."""
        from idp.extensions import db
        from idp.oauth.clients import create_client

        n = next(_seq)
        options.setdefault("name", f"Site {n}")
        options.setdefault("redirect_uris", [f"http://127.0.0.1:9/cb{n}"])
        options.setdefault("post_logout_redirect_uris", [f"http://127.0.0.1:9/bye{n}"])
        options.setdefault("grant_types", ["authorization_code", "refresh_token"])
        options.setdefault("resources", [f"https://site{n}.example"])
        with self.app.app_context():
            client, secret = create_client(**options)
            db.session.commit()
            db.session.refresh(client)
            db.session.expunge(client)
        return client, secret

    def relying_party(self, **options) -> RelyingParty:
        client, secret = self.client(**options)
        issuer = self.app.config["IDP_ISSUER"]
        return RelyingParty(issuer, client, secret)
