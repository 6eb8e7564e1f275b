"""``idp delegations remind`` (cron): experts and collaborators hear of a coming expiry once per date."""
import json
from datetime import datetime, timedelta, timezone

from smtp import text_of

from deleg_steps import logged_in

SITE = "ordre:site_prive"


def days_from_now(days: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).replace(microsecond=0).isoformat()


def remind(runner) -> int:
    result = runner.invoke(args=["delegations", "remind", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["reminded"]


def test_each_delegation_ending_within_30_days_is_reminded_once(live, runner, smtp, api, expert, collaborator,
                                                                 make_collaborator):
    soon = make_collaborator(email="bientot@cabinet.example")
    later = make_collaborator(email="plustard@cabinet.example")
    paused = make_collaborator(email="suspendu@cabinet.example")
    client = api(expert)
    [d] = client.create(expert.firm, [soon.email], [SITE], ends_at=days_from_now(10)).json()["items"]
    client.create(expert.firm, [later.email], [SITE], ends_at=days_from_now(45))
    [p] = client.create(expert.firm, [paused.email], [SITE], ends_at=days_from_now(5)).json()["items"]
    client.post(f"/delegations/{p['id']}/deactivate")

    assert remind(runner) == 1
    for address in (expert.email, soon.email):
        message = smtp.wait_for(address, count=2 if address == soon.email else 1)
        assert message["Subject"].startswith("Une délégation expire le ")
        assert f"La délégation de Philippe Durant ({expert.email}) à Benjamin Dossat ({soon.email})" in \
            text_of(message)
    assert remind(runner) == 0  # once

    client.post(f"/delegations/{d['id']}/extend", {"ends_at": days_from_now(20)})
    assert remind(runner) == 1  # a new date, a new reminder
    assert remind(runner) == 0

    page = logged_in(live.url, soon).get("/compte/messagerie").text
    assert page.count("Une délégation expire le ") == 2
    assert "Seul l&#39;expert-comptable peut la prolonger, d&#39;un an au plus." in page


def test_the_command_says_how_many_in_words_too(runner):
    result = runner.invoke(args=["delegations", "remind"])
    assert result.exit_code == 0 and result.stdout == "0 delegation(s) reminded\n"
