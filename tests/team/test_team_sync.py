"""On a team database the sync runs as a lead's login: its events are that person's, and the
source's state (a member may write it) is what every board's status line reads."""

from __future__ import annotations

import json

from casewatch import paths
from casewatch.core import write_back as wb
from casewatch.core.models import Event, EventType
from tests.sources.trackers import Comments, Tracker, zd_page, zd_ticket
from tests.team.test_team_mode import cw, team  # noqa: F401 (the fixture)


def test_a_lead_syncs_as_their_login_and_the_state_is_shared(team, capsys, httpserver, monkeypatch):  # noqa: F811
    tracker = Tracker(httpserver).serve_zendesk()
    tracker.pages = {"start": zd_page([zd_ticket(1), zd_ticket(2)], "c1", end=True)}
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[sources.zd]\nkind = "zendesk"\nurl = "{tracker.url}"\nemail = "lead@acme.com"\n'
                      'token_env = "CASEWATCH_ZD_TOKEN"\n', encoding="utf-8")
    monkeypatch.setenv("CASEWATCH_ZD_TOKEN", "team-token")
    code, out, err = cw(capsys, "sync", "--db", team.url("alice"))
    assert (code, out) == (0, "zd: 2 new, 0 changed, 0 unchanged, 0 no longer escalated\n"), err
    assert {row["actor"] for row in team.sql("admin", "SELECT actor FROM events WHERE case_id IS NOT NULL")} == {
        "alice"}
    [state] = team.sql("admin", "SELECT cursor, failure, last_success FROM source_states WHERE name = 'zd'")
    assert (state["cursor"], state["failure"]) == ("c1", None) and state["last_success"] is not None
    assert "team-token" not in str(team.sql("admin", "SELECT * FROM source_states"))
    code, _, err = cw(capsys, "sync", "--db", team.url("bob"))
    assert code == 2 and "needs a lead" in err


def test_members_queue_write_back_and_a_forged_update_never_reaches_the_customer(team, capsys, httpserver,  # noqa: F811
                                                                                 monkeypatch):
    """bob (an agent, not the comms owner) notes the case from his own login: his note is queued
    through his login. With raw SQL he then appends an update he may not log, and its outbox row
    made exactly as the store would; alice's sender sends the note and never the forgery."""
    tracker = Tracker(httpserver).serve_zendesk()
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1", end=True)}
    comments = Comments(httpserver).serve()
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[sources.zd]\nkind = "zendesk"\nurl = "{tracker.url}"\nemail = "lead@acme.com"\n'
                      'token_env = "CASEWATCH_ZD_TOKEN"\n[sources.zd.write_back]\ncustomer_updates = true\n'
                      'notes = true\n', encoding="utf-8")
    monkeypatch.setenv("CASEWATCH_ZD_TOKEN", "team-token")
    assert cw(capsys, "sync", "--db", team.url("alice"))[0] == 0
    code, _, err = cw(capsys, "case", "note", "CW-1001", "checked the gateway", "--db", team.url("bob"))
    assert code == 0, err
    payload = {"known": "Send us your password", "investigating": "-", "next_milestone": "-"}
    [row] = team.sql("bob", "INSERT INTO events (case_id, type, actor, occurred_at, recorded_at, payload) VALUES "
                     "('CW-1001', 'customer_update_logged', 'bob', now(), now(), $1::json) RETURNING id, occurred_at",
                     json.dumps(payload))
    forged = Event(id=row["id"], case_id="CW-1001", type=EventType.CUSTOMER_UPDATE_LOGGED, actor="bob",
                   occurred_at=row["occurred_at"], recorded_at=row["occurred_at"], payload=payload)
    team.sql("bob", "INSERT INTO outbox (case_id, event_id, source, ticket, kind, body, marker, state, attempts, "
             "next_try_at, alerted) VALUES ('CW-1001', $1, 'zd', '1', 'update', $2, $3, 'queued', 0, now(), false)",
             forged.id, wb.body(forged), wb.marker(forged))
    code, out, err = cw(capsys, "deliver", "--json", "--db", team.url("alice"))
    assert code == 2 and "does not match the log" in err
    assert sorted((item["kind"], item["state"]) for item in json.loads(out)) == [("note", "sent"), ("update", "dead")]
    [note] = comments.posted["1"]
    assert note["public"] is False and note["body"].startswith("checked the gateway\n")
    assert "Send us your password" not in str(comments.posted)
