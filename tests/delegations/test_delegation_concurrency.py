"""Two people acting on one delegation at the same moment: one wins, nothing is applied twice.

Each thread has its own request context, hence its own database session
and connection, as two nodes serving two requests would.
"""
import threading

from sqlalchemy import func, select

from idp.errors import Conflict

SIGN = ["jesignexpert:signer", "jesignexpert:sceller"]


def race(app, *calls):
    """Run each call in its own thread and session, released together; returns results or errors."""
    from idp.extensions import db

    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        with app.test_request_context("/api/v1/requests"):
            try:
                barrier.wait()
                result = call()
                db.session.commit()
                outcomes[index] = ("ok", result.id)
            except Conflict as error:
                db.session.rollback()
                outcomes[index] = ("conflict", error.code)
            except Exception as error:  # noqa: BLE001 - reported by the assertion, not lost in a thread
                db.session.rollback()
                outcomes[index] = ("error", repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def load(app, model, **where):
    from idp.extensions import db

    with app.app_context():
        rows = list(db.session.scalars(select(model).filter_by(**where)))
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
        return rows


def test_two_approvals_of_one_request_make_one_delegation(app, api, expert, collaborator):
    from idp.accounts.models import User
    from idp.delegations import services
    from idp.delegations.models import AuditEntry, Delegation, Message
    from idp.extensions import db

    for attempt in range(5):
        request = api(collaborator).post("/requests", {
            "expert": expert.email, "siret": expert.firm.siret, "rights": SIGN}).json()

        def approve(rights):
            def call():
                actor = db.session.get(User, expert.id)
                return services.approve_request(actor, request["id"], rights)
            return call

        outcomes = race(app, approve(SIGN), approve(["jesignexpert:signer"]))
        assert sorted(kind for kind, _ in outcomes) == ["conflict", "ok"], outcomes
        [(_, code)] = [o for o in outcomes if o[0] == "conflict"]
        assert code in ("cannot_approve_active", "concurrent_change")

        with app.app_context():
            assert db.session.scalar(select(func.count(AuditEntry.seq)).where(
                AuditEntry.subject_id == request["id"], AuditEntry.action == "approve")) == 1
            assert db.session.scalar(select(func.count(Message.id)).where(
                Message.delegation_id == request["id"], Message.kind == "approval")) == 1
            db.session.remove()
        [delegation] = load(app, Delegation, id=request["id"])
        assert delegation.state == "active"
        # The request is answered: cancel it for the next attempt's "one request at a time" rule.
        api(expert).delete(f"/delegations/{request['id']}")

    actives = api(collaborator).get("/received").json()["items"]
    assert actives == []


def test_concurrent_changes_keep_one_unbroken_audit_chain(app, runner, api, expert, make_collaborator):
    from idp.accounts.models import User
    from idp.delegations import services
    from idp.extensions import db

    people = [make_collaborator(email=f"c{i}@cabinet.example") for i in range(4)]
    created = api(expert).create(expert.firm, [p.email for p in people], SIGN).json()["items"]

    def deactivate(delegation_id):
        def call():
            return services.deactivate(db.session.get(User, expert.id), delegation_id)
        return call

    outcomes = race(app, *(deactivate(d["id"]) for d in created))
    assert [kind for kind, _ in outcomes] == ["ok"] * 4
    result = runner.invoke(args=["audit", "verify", "--json"])
    assert result.exit_code == 0, result.output
    assert '"entries": 8' in result.stdout
