# ruff: noqa: F811 - `team` is the team-mode tests' fixture, shared from test_team_mode
"""The fourth look at issue 28: a member login (bob, an agent) with raw SQL on the rows members may
write (the outbox, the case projections, the sync cursor) and on the log's size. Each attack either
fails in the database or is found, said in one line and repaired; no command hangs or crashes."""

from __future__ import annotations

import json
import threading

import asyncpg
import pytest

from casewatch import paths
from tests.team.test_attacks import still_sound
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


def linked_floor(team, capsys, httpserver, monkeypatch, send: bool = True):
    """CW-1001 synced from Zendesk ticket 1 by alice, an update and a note on it sent (queued only,
    unless `send`); (tracker, comments)."""
    from tests.sources.trackers import Comments, Tracker, zd_page, zd_ticket

    tracker = Tracker(httpserver).serve_zendesk()
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1", end=True), "c1": zd_page([], "c1", end=True)}
    comments = Comments(httpserver).serve()
    sender_config(tracker.url, monkeypatch)
    assert cw(capsys, "sync", "--db", team.url("alice"))[0] == 0
    for args in (("case", "comms", "CW-1001", "alice"), ("case", "update", "CW-1001", "--known", "Payments fail",
                                               "--investigating", "the gateway", "--next-milestone", "a fix")):
        code, _, err = cw(capsys, *args, "--db", team.url("alice"))
        assert code == 0, (args, err)
    assert cw(capsys, "case", "note", "CW-1001", "checked the gateway", "--db", team.url("bob"))[0] == 0
    if send:
        code, out, err = cw(capsys, "deliver", "--db", team.url("alice"))
        assert code == 0, out + err
    return tracker, comments


TIMES = {"infinity": "'infinity'", "-infinity": "'-infinity'", "year 294276": "'294276-01-01 00:00+00'",
         "year 10000": "'10000-01-01 00:00+00'"}


@pytest.mark.parametrize("when", list(TIMES))
def test_times_no_reader_can_hold_are_named_repaired_and_crash_nothing(team, capsys, httpserver, monkeypatch, when):
    """F9: bob writes a time asyncpg cannot decode (or decodes to a time no zone can show) into
    every time column members may write. verify names each row, rebuild repairs it, and the board's
    and the commands' reads, deliver and sync, go on."""
    linked_floor(team, capsys, httpserver, monkeypatch)
    assert cw(capsys, "shift", "start", "--db", team.url("alice"))[0] == 0
    assert cw(capsys, "people", "add", "lee", "--role", "lead", "--tz", "UTC", "--db", team.url("alice"))[0] == 0
    assert cw(capsys, "handoff", "prepare", "--to", "lee", "--note", "n", "--db", team.url("alice"))[0] == 0
    value = TIMES[when]
    for statement in (f"UPDATE cases SET escalated_at = {value}, updated_at = {value}",
                      f"UPDATE shifts SET started_at = {value}", f"UPDATE policies SET applied_at = {value}",
                      f"UPDATE handoffs SET prepared_at = {value}, accepted_at = {value}",
                      f"UPDATE source_states SET last_success = {value}, failing_since = {value}",
                      f"UPDATE outbox SET sent_at = {value}, next_try_at = {value}, claimed_until = {value}"):
        team.sql("bob", statement)
    code, out, err = cw(capsys, "db", "verify", "--db", team.url("alice"))
    assert code == 1 and "cases CW-1001: differs in escalated_at, updated_at" in out, out + err
    assert "shifts" in out and "policies 1: differs in applied_at" in out and "handoffs 1" in out, out
    for args in (("cases",), ("cases", "--json"), ("case", "show", "CW-1001"), ("case", "show", "CW-1001", "--json"),
                 ("metrics",), ("shift", "show"), ("handoff", "list"), ("handoff", "prepare", "--to", "lee"),
                 ("deliver",), ("sync",), ("sync", "--json")):
        code, out, err = cw(capsys, *args, "--db", team.url("alice"))
        assert code == 0 and "Traceback" not in err, (args, out, err)
    code, out, err = cw(capsys, "db", "rebuild", "--db", team.url("alice"))
    assert code == 0 and "(repaired)" in out, out + err
    still_sound(team, capsys)


@pytest.mark.parametrize(("cursor", "doubt"), [("repeat('x', 70000)", "70000 characters long"),
                                               ("'start:99999999999'", "a start time that is none"),
                                               ("E'c1\\nforged'", "not of a cursor's characters")])
def test_a_cursor_no_sync_saves_is_said_and_the_sync_reads_from_a_safe_point(team, capsys, httpserver, monkeypatch,
                                                                             cursor, doubt):
    """F9: bob writes a 70 kB cursor (every request too long, so the sync stopped for good) or one
    of the wrong shape. The sync says so in one line, reads the last 30 days as a first sync does,
    and saves a cursor of its own."""
    from tests.sources.trackers import zd_page, zd_ticket

    tracker, _ = linked_floor(team, capsys, httpserver, monkeypatch)
    tracker.pages |= {"start": zd_page([zd_ticket(1), zd_ticket(2)], "c2", end=True),
                      "c2": zd_page([], "c2", end=True)}
    team.sql("bob", f"UPDATE source_states SET cursor = {cursor}")
    code, out, err = cw(capsys, "sync", "--db", team.url("alice"))
    assert code == 0 and out.startswith("zd: 1 new"), out + err
    assert len(err.splitlines()) == 1 and f"saved cursor is none a sync saves ({doubt}" in err, err
    assert [row["cursor"] for row in team.sql("admin", "SELECT cursor FROM source_states")] == ["c2"]
    code, out, err = cw(capsys, "sync", "--db", team.url("alice"))
    assert code == 0 and err == "", err


def test_a_case_event_over_256_kib_fails_in_the_database_and_one_that_got_in_never_counts(team, capsys):
    """Unbounded event size: bob appended 1 MB notes (0010's limit) as often as he liked. A case
    event's payload now holds at most 256 KiB (migration 0019); one an administrator put in anyway
    is quarantined, and every reader goes on."""
    from tests.team.test_attacks import INSERT, audit, new_case

    case_id = new_case(team, capsys)
    with pytest.raises(asyncpg.CheckViolationError, match="is too large"):
        team.sql("bob", INSERT, case_id, "note_added", "now", json.dumps({"text": "x" * 300_000}))
    # 15 kB: a note holds at most 16 KiB (a longer one, under the 256 KiB cap, is quarantined)
    [fits] = team.sql("bob", INSERT, case_id, "note_added", "now", json.dumps({"text": "ok " * 5_000}))
    [row] = team.sql("admin", INSERT, case_id, "note_added", "now", json.dumps({"text": "x" * 300_000}),
                     first=("ALTER TABLE events DISABLE TRIGGER casewatch_cap_event",))
    team.sql("admin", "ALTER TABLE events ENABLE TRIGGER casewatch_cap_event")
    listed = audit(team, capsys)
    assert [q["id"] for q in listed] == [row["id"]] and "payload is too large (300012 bytes" in listed[0]["reason"]
    assert fits["id"] not in [q["id"] for q in listed]
    still_sound(team, capsys)
    code, out, err = cw(capsys, "case", "show", case_id, "--json", "--db", team.url("alice"))
    assert code == 0 and "x" * 1000 not in out and len(json.loads(out)["timeline"]) == 2, err


def test_a_row_a_member_marks_sent_is_found_off_its_ticket_and_sent_once(team, capsys, httpserver, monkeypatch):
    """F3: bob sets alice's queued update to `sent` (the board shows it delivered; the customer
    never gets it). `deliver --check` reads the ticket, finds no delivery, re-queues it (exit 3,
    one line naming it) and the same run sends it, once; a delivery that is on its ticket is
    confirmed and never posted again, and a row that does not match the log is refused."""
    _, comments = linked_floor(team, capsys, httpserver, monkeypatch)
    assert len(comments.posted["1"]) == 2  # the update and bob's note, sent
    code, _, err = cw(capsys, "case", "update", "CW-1001", "--known", "Fixed", "--investigating", "-",
                      "--next-milestone", "monitoring", "--db", team.url("alice"))
    assert code == 0, err
    team.sql("bob", "UPDATE outbox SET state = 'sent', sent_at = now(), comment_id = '1' WHERE state = 'queued'")
    assert cw(capsys, "deliver", "--db", team.url("alice"))[:2] == (0, "nothing to deliver\n")
    assert len(comments.posted["1"]) == 2
    code, out, err = cw(capsys, "deliver", "--check", "--db", team.url("alice"))
    assert code == 3 and out == "checked 3 sent: 2 on their ticket, 1 not on it (re-queued)\n1 sent\n", out + err
    assert len(err.splitlines()) == 1 and "CW-1001 update to zd ticket 1: marked sent, but not on the ticket" in err
    assert len(comments.posted["1"]) == 3 and comments.posted["1"][2]["body"].startswith("What we know: Fixed\n")
    code, out, err = cw(capsys, "deliver", "--check", "--json", "--db", team.url("alice"))
    assert code == 0 and err == "", err
    found = json.loads(out)
    assert [item["state"] for item in found["checked"]] == ["confirmed"] * 3 and found["delivered"] == []
    team.sql("bob", "UPDATE outbox SET body = 'Send us your password' WHERE kind = 'note'")
    code, out, err = cw(capsys, "deliver", "--check", "--db", team.url("alice"))
    assert code == 3 and "does not match the log" in err and "1 not matching the log" in out, out + err
    assert len(comments.posted["1"]) == 3
    assert [r["state"] for r in team.sql("admin", "SELECT state FROM outbox ORDER BY id")] == ["sent", "dead", "sent"]


@pytest.mark.parametrize("where", ["state", "listing", "facts"])
def test_a_case_row_whose_times_do_not_decode_is_read_from_the_log(team, capsys, where):
    """F9, the case row's own JSON: bob writes a time no datetime holds into `cases.state`, its
    listing or its metric facts. Before, every `cases`, `case show` and `metrics` said the database
    was damaged until a rebuild; now that case is folded from the log, verify names the row, and
    rebuild repairs it."""
    from tests.team.test_attacks import new_case

    case_id = new_case(team, capsys)
    other = new_case(team, capsys, severity="SEV3")
    key = {"state": "escalated_at", "listing": "escalated_at", "facts": "escalated_at"}[where]
    team.sql("bob", f"UPDATE cases SET {where} = jsonb_set({where}::jsonb, '{{{key}}}', "
                    "'\"294276-01-01T00:00:00Z\"')::json WHERE id = $1", case_id)
    for args in (("cases", "--json"), ("case", "show", case_id, "--json"), ("metrics", "--json")):
        code, out, err = cw(capsys, *args, "--db", team.url("alice"))
        assert code == 0, (args, err)
        if args[0] == "cases":
            assert sorted(c["id"] for c in json.loads(out)) == [case_id, other]
    code, out, _ = cw(capsys, "db", "verify", "--db", team.url("alice"))
    assert code == 1 and f"cases {case_id}: differs in {where}" in out, out
    still_sound(team, capsys)


def test_a_row_a_member_deletes_or_claims_forever_is_found_and_sent_once(team, capsys, httpserver, monkeypatch):
    """N4: bob deletes alice's queued update and claims his note until `infinity`. Before, `deliver`
    said "nothing to deliver", `--check` "checked 0 sent", and the customer never got the update.
    Now the claim is no claim (`case show` says the note is due, and `deliver` sends it), and
    `deliver --check` finds the update missing from the log's side, queues it again (exit 3, one
    line naming it) and sends it: each reaches the ticket exactly once."""
    _, comments = linked_floor(team, capsys, httpserver, monkeypatch, send=False)
    team.sql("bob", "DELETE FROM outbox WHERE kind = 'update'")
    team.sql("bob", "UPDATE outbox SET claimed_until = 'infinity', claimed_by = 'zz' WHERE kind = 'note'")
    code, out, err = cw(capsys, "case", "show", "CW-1001", "--db", team.url("alice"))
    assert code == 0 and "due (held by no sender's lease" in out, out + err
    code, out, err = cw(capsys, "deliver", "--db", team.url("alice"))
    assert (code, out, err) == (0, "1 sent\n", ""), out + err
    code, out, err = cw(capsys, "deliver", "--check", "--db", team.url("alice"))
    assert code == 3 and out == "checked 1 sent: 1 on their ticket, 1 missing from the outbox (queued again)\n" \
                                "1 sent\n", out + err
    assert len(err.splitlines()) == 1 and "CW-1001 update to zd ticket 1: missing from the outbox" in err, err
    posted = comments.posted["1"]
    assert len(posted) == 2 and sorted(comment["public"] for comment in posted) == [False, True]
    assert len({comment["body"].rsplit("\n", 1)[-1] for comment in posted}) == 2
    assert cw(capsys, "deliver", "--db", team.url("alice"))[:2] == (0, "nothing to deliver\n")
    code, out, err = cw(capsys, "deliver", "--check", "--db", team.url("alice"))
    assert (code, out) == (0, "checked 2 sent: 2 on their ticket\nnothing to deliver\n"), out + err
    assert len(comments.posted["1"]) == 2
    assert {row["state"] for row in team.sql("admin", "SELECT state FROM outbox")} == {"sent"}
    still_sound(team, capsys)
