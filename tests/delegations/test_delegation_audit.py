"""The audit trail: every change is an entry, chained by hashes; ``idp audit verify`` finds tampering."""
import json

import pytest
from sqlalchemy import delete, select, update

SITE = "ordre:site_prive"


@pytest.fixture
def trail(api, expert, collaborator):
    """Five entries: a creation, a deactivation, an activation, a change of rights, a removal."""
    client = api(expert)
    [d] = client.create(expert.firm, [collaborator.email], [SITE]).json()["items"]
    client.post(f"/delegations/{d['id']}/deactivate")
    client.post(f"/delegations/{d['id']}/activate")
    client.patch(f"/delegations/{d['id']}", {"rights": ["jefacture:acces"]})
    client.delete(f"/delegations/{d['id']}")
    return d["id"]


def verify(runner):
    result = runner.invoke(args=["audit", "verify", "--json"])
    return result.exit_code, json.loads(result.stdout)


def tamper(app, statement):
    from idp.extensions import db

    with app.app_context():
        db.session.execute(statement)
        db.session.commit()
        db.session.remove()


def test_an_intact_trail_verifies(runner, trail):
    code, report = verify(runner)
    assert code == 0
    assert report["ok"] is True and report["entries"] == 5 and len(report["head"]) == 64
    human = runner.invoke(args=["audit", "verify"])
    assert human.exit_code == 0 and human.stdout.startswith("audit trail intact: 5 entries; head ")


def test_each_entry_says_who_how_when_before_and_after(app, trail, expert):
    from idp.delegations.models import AuditEntry
    from idp.extensions import db

    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        assert [e.action for e in entries] == ["create", "deactivate", "activate", "change_rights", "remove"]
        change = entries[3]
        assert (change.actor, change.actor_id, change.acting_as) == (expert.identifiant, expert.id, "expert")
        assert change.via.startswith("api:") and change.subject_id == trail and change.at is not None
        assert json.loads(change.before)["rights"] == [SITE]
        assert json.loads(change.after)["rights"] == ["jefacture:acces"]
        assert entries[0].before is None and entries[0].prev_hash == "0" * 64
        assert all(later.prev_hash == earlier.hash for earlier, later in zip(entries, entries[1:]))
        db.session.remove()


def test_an_edited_entry_is_found(app, runner, trail):
    from idp.delegations.models import AuditEntry

    tamper(app, update(AuditEntry).where(AuditEntry.seq == 3).values(actor="quelquun"))
    code, report = verify(runner)
    assert code == 1
    assert report["broken_seq"] == 3 and report["problem"] == "entry 3 was altered (its hash does not match)"
    human = runner.invoke(args=["audit", "verify"])
    assert human.exit_code == 1 and "audit trail BROKEN at entry 3" in human.stderr


def test_an_entry_edited_with_its_hash_recomputed_breaks_the_next_link(app, runner, trail):
    from idp.delegations.audit import _fields, entry_hash
    from idp.delegations.models import AuditEntry
    from idp.extensions import db

    with app.app_context():
        entry = db.session.get(AuditEntry, 2)
        entry.after = entry.after.replace("deactivated", "active")
        entry.hash = entry_hash(_fields(entry))
        db.session.commit()
        db.session.remove()
    code, report = verify(runner)
    assert code == 1 and report["broken_seq"] == 3
    assert report["problem"] == "entry 3 does not follow the entry before it"


def test_a_deleted_entry_is_found(app, runner, trail):
    from idp.delegations.models import AuditEntry

    tamper(app, delete(AuditEntry).where(AuditEntry.seq == 2))
    code, report = verify(runner)
    assert code == 1 and report["broken_seq"] == 2 and report["problem"] == "entry 2 is missing (deleted)"


def test_deleting_the_newest_entries_is_found(app, runner, trail):
    from idp.delegations.models import AuditEntry

    tamper(app, delete(AuditEntry).where(AuditEntry.seq >= 4))
    code, report = verify(runner)
    assert code == 1 and report["broken_seq"] == 4
    assert report["problem"] == "entries 4 to 5 are missing (deleted)"


def test_an_empty_trail_verifies(runner):
    assert verify(runner) == (0, {"entries": 0, "ok": True, "head": None})
