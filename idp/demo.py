"""Demo data: two relying sites, an expert-comptable and a collaborator."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from .accounts.models import User
from .accounts.services import create_user
from .errors import Conflict
from .extensions import db
from .oauth.clients import create_client

DEMO_PASSWORD = "demo-comptexpert-2026"

DEMO_USERS = [
    {"role": "expert", "email": "philippe.durant@sogetes.example", "given_name": "Philippe", "family_name": "Durant",
     "profile": "expert_comptable"},
    {"role": "collaborator", "email": "benjamin.dossat@sogetes.example", "given_name": "Benjamin",
     "family_name": "Dossat", "profile": "autre"},
]

# The expert as the Tableau de l'Ordre lists him, with two firms (valid SIRETs).
DEMO_REGISTER = [
    ("75012345", "Philippe", "Durant", "philippe.durant@sogetes.example", "Paris Île-de-France",
     "44523611000026", "SOGETES", "Paris"),
    ("75012345", "Philippe", "Durant", "philippe.durant@sogetes.example", "Paris Île-de-France",
     "83456789300013", "DURANT & ASSOCIÉS", "Lyon"),
]

# What the demo expert delegates to the demo collaborator, firm by firm: the
# demo sites then show different rights in each firm.
DEMO_DELEGATIONS = [
    ("44523611000026", ["ordre:site_prive", "ordre:droits_administratifs", "jesignexpert:preparer_collecte",
                        "jesignexpert:sceller", "jesignexpert:signer"]),
    ("83456789300013", ["ordre:site_prive"]),
]

DEMO_CLIENTS = [
    {"client_id": "site-ordre", "name": "Site de l'Ordre", "port": 5001, "resource": "https://www.experts-comptables.fr"},
    {"client_id": "jesignexpert", "name": "jesignexpert.com", "port": 5002, "resource": "https://jesignexpert.com"},
]


def demo_loaded() -> bool:
    """Whether the database already has accounts (demo or real)."""
    return bool(db.session.scalar(select(func.count()).select_from(User)))


def load_demo() -> dict:
    """Create the demo users and clients in an empty database; returns what to print."""
    if demo_loaded():
        raise Conflict("The database already has accounts: demo data goes only into an empty one.")
    from .register.services import RegisterRow, import_register

    import_register([RegisterRow(i + 1, *row) for i, row in enumerate(DEMO_REGISTER)])
    users = []
    for spec in DEMO_USERS:
        user = create_user(email=spec["email"], password=DEMO_PASSWORD, given_name=spec["given_name"],
                           family_name=spec["family_name"], email_verified=True)
        user.profile = spec["profile"]
        if spec["role"] == "expert":
            # Claims the expert profile; the register verifies him, as at sign-up.
            from .accounts.models import EXPERT_PENDING
            from .register.services import try_verify_expert

            user.expert_status = EXPERT_PENDING
            try_verify_expert(user)
        users.append({"role": spec["role"], "email": user.email, "password": DEMO_PASSWORD,
                      "identifiant": user.identifiant})
    delegations = _delegate_demo_rights()
    clients = []
    for spec in DEMO_CLIENTS:
        base = f"http://127.0.0.1:{spec['port']}"
        # Fixed, public demo secrets so the example sites can start without
        # copying anything; never use them outside a laptop.
        secret = f"demo-secret-{spec['client_id']}-0123456789abcdef"
        client, secret = create_client(
            client_id=spec["client_id"], client_secret=secret, name=spec["name"],
            redirect_uris=[f"{base}/callback"], post_logout_redirect_uris=[f"{base}/"],
            grant_types=["authorization_code", "refresh_token", "client_credentials"],
            scope="openid profile email firms rights", resources=[spec["resource"]], first_party=True,
            # The example sites receive security events and logout tokens there (examples/).
            events_uri=f"{base}/comptexpert/events", backchannel_logout_uri=f"{base}/comptexpert/events",
        )
        clients.append({"client_id": client.client_id, "client_secret": secret, "redirect_uri": f"{base}/callback"})
    db.session.commit()
    return {"issuer": current_app.config["IDP_ISSUER"], "users": users, "clients": clients,
            "delegations": delegations}


def _delegate_demo_rights() -> list[dict]:
    """The demo expert delegates rights of his two firms to the demo collaborator, as on the pages."""
    from .accounts.services import find_user
    from .delegations.services import create_delegations
    from .firms.models import Firm

    expert, collaborator = (find_user(spec["email"]) for spec in DEMO_USERS)
    given = []
    for siret, rights in DEMO_DELEGATIONS:
        firm = db.session.scalar(select(Firm).where(Firm.siret == siret))
        create_delegations(expert, firm.id, [collaborator.email], rights, via="cli")
        given.append({"firm": firm.raison_sociale, "siret": siret, "rights": rights})
    return given
