"""``active_rights_for``: what a user may do at a relying site, firm by firm (for the tokens of issue 6)."""
from datetime import datetime, timedelta

from sqlalchemy import delete, text

SIGN = ["jesignexpert:signer", "jesignexpert:sceller"]
JESIGN = "https://jesignexpert.com"


def rights_for(app, user, audience=JESIGN, now=None):
    from idp.accounts.models import User
    from idp.delegations.services import active_rights_for
    from idp.extensions import db

    with app.test_request_context("/"):
        result = active_rights_for(db.session.get(User, user.id), audience, now)
        db.session.remove()
        return result


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.removesuffix("Z"))


def test_an_expert_holds_every_right_of_the_site_in_each_of_his_firms(app, make_expert, make_firm):
    expert = make_expert(firms=[make_firm("SOGETES"), make_firm("AUDIT CONSEIL", "Lyon")])
    held = rights_for(app, expert)
    assert {(r.siret, r.own) for r in held} == {(f.siret, True) for f in expert.firms}
    assert all(r.rights == ("jesignexpert:signer", "jesignexpert:preparer_collecte", "jesignexpert:sceller")
               and r.grantor is None and r.ends_at is None for r in held)


def test_a_collaborator_holds_his_active_rights_for_that_site_until_the_second_they_end(app, api, expert,
                                                                                      collaborator):
    [d] = api(expert).create(expert.firm, [collaborator.email], SIGN + ["ordre:site_prive"]).json()["items"]
    ends_at = moment(d["ends_at"])
    [held] = rights_for(app, collaborator, now=ends_at - timedelta(seconds=1))
    assert (held.siret, held.firm, held.rights, held.grantor, held.ends_at, held.delegation_id) == (
        expert.firm.siret, "SOGETES", tuple(sorted(SIGN)), expert.identifiant, ends_at, d["id"])
    assert rights_for(app, collaborator, now=ends_at) == []
    [other_site] = rights_for(app, collaborator, audience="https://www.experts-comptables.fr")
    assert other_site.rights == ("ordre:site_prive",)
    assert rights_for(app, collaborator, audience="https://inconnu.example") == []


def test_deactivated_pending_and_removed_delegations_carry_nothing(app, api, expert, collaborator,
                                                                    make_collaborator):
    [d] = api(expert).create(expert.firm, [collaborator.email], SIGN).json()["items"]
    api(expert).post(f"/delegations/{d['id']}/deactivate")
    assert rights_for(app, collaborator) == []
    api(expert).post(f"/delegations/{d['id']}/activate")
    assert len(rights_for(app, collaborator)) == 1
    api(expert).delete(f"/delegations/{d['id']}")
    assert rights_for(app, collaborator) == []
    requester = make_collaborator(email="demande@cabinet.example")
    api(requester).post("/requests", {"expert": expert.email, "siret": expert.firm.siret, "rights": SIGN})
    assert rights_for(app, requester) == []


def test_an_expert_who_leaves_the_firm_or_loses_his_status_takes_his_delegations_with_him(app, api, expert,
                                                                                        collaborator):
    from idp.accounts.models import User
    from idp.extensions import db
    from idp.firms.models import UserFirm

    api(expert).create(expert.firm, [collaborator.email], SIGN)
    assert len(rights_for(app, collaborator)) == 1
    with app.app_context():
        db.session.get(User, expert.id).expert_status = "pending"
        db.session.commit()
        assert rights_for(app, collaborator) == []
        db.session.get(User, expert.id).expert_status = "verified"
        db.session.commit()
        assert len(rights_for(app, collaborator)) == 1
        db.session.execute(delete(UserFirm).where(UserFirm.user_id == expert.id))
        db.session.commit()
        db.session.remove()
    assert rights_for(app, collaborator) == []


def test_the_rights_of_one_user_are_read_through_the_grantee_index(live, app):
    from idp.extensions import db

    with app.app_context():
        if live.backend == "postgresql":
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(db.session.scalars(text(
                "EXPLAIN SELECT id FROM delegations WHERE grantee_user_id = 1 AND state = 'active' "
                "AND ends_at > now()")))
        else:
            plan = "\n".join(str(row) for row in db.session.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM delegations WHERE grantee_user_id = 1 AND state = 'active' "
                "AND ends_at > CURRENT_TIMESTAMP")))
        db.session.rollback()
        db.session.remove()
    assert "ix_delegations_grantee" in plan
