"""On a team database the sync runs as a lead's login: its events are that person's, and the
source's state (a member may write it) is what every board's status line reads."""

from __future__ import annotations

from casewatch import paths
from tests.sources.trackers import Tracker, zd_page, zd_ticket
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
