# ruff: noqa: F811 - `team` is the team-mode tests' fixture, shared from test_team_mode
"""The fourth look at issue 28: a member login (bob, an agent) with raw SQL on the rows members may
write (the outbox, the case projections, the sync cursor) and on the log's size. Each attack either
fails in the database or is found, said in one line and repaired; no command hangs or crashes."""

from __future__ import annotations

import json
import threading

from casewatch import paths
from tests.team.test_team_mode import cw, team  # noqa: F401 - the fixture

SENDER = """\
[sources.zd]
kind = "zendesk"
url = "{url}"
email = "lead@acme.com"
token_env = "CASEWATCH_ZD_TOKEN"
[sources.zd.write_back]
customer_updates = true
notes = true
"""


def sender_config(url: str, monkeypatch) -> None:
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(SENDER.format(url=url), encoding="utf-8")
    monkeypatch.setenv("CASEWATCH_ZD_TOKEN", "team-token")


JUNK = ("INSERT INTO outbox (case_id, event_id, source, ticket, kind, body, marker, state, attempts, next_try_at, "
        "alerted) SELECT 'CW-9999', 1000000 + n, 'zd', '1', 'update', 'junk', 'junk', 'queued', 0, now(), false "
        "FROM generate_series(1, $1::int) AS n")
REQUEUE = """CREATE FUNCTION requeue() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    IF NEW.state <> 'queued' THEN NEW.state := 'queued'; NEW.next_try_at := now() - interval '1 minute'; END IF;
    RETURN NEW; END $$"""


def test_rows_that_keep_coming_back_never_keep_a_deliver_pass_running(team, capsys, monkeypatch):
    """F7: bob queues junk, and every row the sender finishes is set back to queued at once (a
    trigger, the fastest a member could do it by hand). The pass takes the rows due as it starts,
    each once, and ends."""
    sender_config("http://127.0.0.1:1", monkeypatch)
    team.sql("bob", JUNK, 20)
    team.sql("admin", "CREATE TRIGGER requeue BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION requeue()",
             first=(REQUEUE,))
    finished: list[tuple[int, str, str]] = []
    sender = threading.Thread(target=lambda: finished.append(cw(capsys, "deliver", "--json", "--db",
                                                                team.url("alice"))))
    try:
        sender.start()
        sender.join(60)
        assert not sender.is_alive(), "deliver never ended"
    finally:
        team.sql("admin", "DROP TRIGGER requeue ON outbox", first=("SELECT 1",))
        sender.join(60)
    [(code, out, err)] = finished
    assert code == 2 and "does not match the log" in err, err
    assert len(json.loads(out)) == 20
    assert {row["state"] for row in team.sql("admin", "SELECT state FROM outbox")} == {"queued"}
