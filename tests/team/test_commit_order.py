# ruff: noqa: F811 - `team` is the team-mode tests' fixture, shared from test_team_mode
"""Issue 28, third attack run: what the events insert trigger guards (migration 0020). Events count
in commit order (a transaction held open across a demotion writes nothing), `recorded_at` is the
clock at insert, and no event's time lies before 2000 or at infinity; such an event already in a
log is quarantined, and no reader fails on it in any zone."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.team.test_attacks import _CREATED, INSERT, audit, new_case, still_sound
from tests.team.test_team_mode import cw, team  # noqa: F401 - the fixture


def connect(team, who: str):
    url = make_url(team.url(who))
    return asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, database=url.database)


def test_events_held_open_across_a_demotion_are_refused_at_commit(team, capsys):
    """bob, a lead, writes an owner assignment and a close in a transaction he holds open; alice
    demotes him meanwhile (her write does not wait for his). His COMMIT fails: nothing of it is written."""
    assert cw(capsys, "people", "add", "bob", "--role", "lead", "--tz", "UTC", "--db", team.url("alice"))[0] == 0
    case_id = new_case(team, capsys)

    async def held_open():
        bob = await connect(team, "bob")
        try:
            held = bob.transaction()
            await held.start()
            for kind, payload in (("owner_assigned", {"before": None, "after": "bob", "role": "lead"}),
                                  ("case_closed", {"final_severity": "SEV1", "avoidable": False})):
                await bob.execute(INSERT, case_id, kind, "now", json.dumps(payload))
            code, _, err = await asyncio.to_thread(cw, capsys, "people", "add", "bob", "--role", "agent", "--tz",
                                                   "UTC", "--db", team.url("alice"))
            assert code == 0, err
            with pytest.raises(asyncpg.SerializationError, match="the roster changed while this was written"):
                await held.commit()
        finally:
            await bob.close()

    asyncio.run(held_open())
    assert team.sql("admin", "SELECT count(*) AS n FROM events WHERE case_id = $1", case_id)[0]["n"] == 1
    code, out, _ = cw(capsys, "case", "show", case_id, "--json", "--db", team.url("alice"))
    shown = json.loads(out)
    assert shown["internal_owner"] is None and shown["status"] != "resolved", shown
    assert audit(team, capsys) == []
    still_sound(team, capsys)
    code, _, err = cw(capsys, "case", "assign", case_id, "bob", "--db", team.url("bob"))
    assert code == 2 and "needs a lead" in err


def test_a_write_waits_for_a_roster_change_under_way_and_is_decided_under_it(team, capsys):
    """bob's `case assign` while his demotion is written but not committed: his write waits for the
    floor (it never decides from a roster about to change), then is refused (exit 2), writing nothing."""
    assert cw(capsys, "people", "add", "bob", "--role", "lead", "--tz", "UTC", "--db", team.url("alice"))[0] == 0
    case_id = new_case(team, capsys)

    async def race():
        alice = await connect(team, "alice")
        try:
            demotion = alice.transaction()
            await demotion.start()
            await alice.execute(INSERT, None, "person_added", "now",
                                json.dumps({"name": "bob", "role": "agent", "tz": "UTC", "before": "lead"}))
            assign = asyncio.ensure_future(asyncio.to_thread(cw, capsys, "case", "assign", case_id, "bob",
                                                             "--db", team.url("bob")))
            for _ in range(200):  # bob's write waits on the floor lock
                rows = await asyncio.to_thread(team.sql, "admin", "SELECT count(*) AS n FROM pg_stat_activity "
                                               "WHERE usename = $1 AND wait_event_type = 'Lock'", team.logins["bob"])
                if rows[0]["n"] or assign.done():
                    break
            assert not assign.done()
            await demotion.commit()
            return await assign
        finally:
            await alice.close()

    code, _, err = asyncio.run(race())
    assert code == 2 and "needs a lead" in err, err
    assert team.sql("admin", "SELECT count(*) AS n FROM events WHERE case_id = $1", case_id)[0]["n"] == 1
    assert audit(team, capsys) == []


def test_a_case_change_cannot_commit_between_a_held_events_id_and_its_commit(team, capsys, monkeypatch):
    """bob, the comms owner, holds a customer update open; alice's move of comms to herself waits
    for his case (exit 4 when he holds it past the lock timeout, nothing written), so no change of
    his authority commits between his event's id and its commit."""
    monkeypatch.setenv("CASEWATCH_LOCK_TIMEOUT", "1")
    case_id = new_case(team, capsys)
    assert cw(capsys, "case", "comms", case_id, "bob", "--db", team.url("alice"))[0] == 0
    # an update as casewatch renders it (the fold re-derives its due time and message): bob's first one again
    assert cw(capsys, "case", "update", case_id, "--known", "k", "--investigating", "i", "--next-milestone", "n",
              "--db", team.url("bob"))[0] == 0
    [update] = team.sql("admin", "SELECT payload::text AS payload FROM events WHERE case_id = $1 "
                                 "AND type = 'customer_update_logged'", case_id)

    async def held_open():
        bob = await connect(team, "bob")
        try:
            async with bob.transaction():
                await bob.execute(INSERT, case_id, "customer_update_logged", "now", update["payload"])
                return await asyncio.to_thread(cw, capsys, "case", "comms", case_id, "alice",
                                               "--db", team.url("alice"))
        finally:
            await bob.close()

    code, _, err = asyncio.run(held_open())
    assert code == 4 and "lock timeout" in err and "nothing was written" in err, err
    code, out, _ = cw(capsys, "case", "show", case_id, "--json", "--db", team.url("alice"))
    shown = json.loads(out)
    assert shown["comms_owner"] == "bob" and shown["timeline"][-1]["type"] == "customer_update_logged", shown
    assert audit(team, capsys) == []


def test_a_case_event_and_a_later_floor_event_in_one_transaction_commit(team, capsys):
    """The commit check refuses floor events of other transactions only: a lead's own roster change
    after a case event in the same transaction is in order."""
    case_id = new_case(team, capsys)

    async def together():
        alice = await connect(team, "alice")
        try:
            async with alice.transaction():
                await alice.execute(INSERT, case_id, "note_added", "now", json.dumps({"text": "first"}))
                await alice.execute(INSERT, None, "person_added", "now",
                                    json.dumps({"name": "carol", "role": "agent", "tz": "UTC"}))
        finally:
            await alice.close()

    asyncio.run(together())
    rows = team.sql("admin", "SELECT type FROM events WHERE case_id = $1 OR type = 'person_added' ORDER BY id", case_id)
    assert [r["type"] for r in rows][-2:] == ["note_added", "person_added"]
    assert audit(team, capsys) == []


def test_recorded_at_is_the_clock_at_insert_not_the_transactions_start(team, capsys):
    case_id = new_case(team, capsys)
    [row] = team.sql("bob", INSERT.replace("RETURNING id, actor", "RETURNING recorded_at - now() AS late"), case_id,
                     "note_added", "now", json.dumps({"text": "late"}), first=("BEGIN", "SELECT pg_sleep(1.2)"))
    assert row["late"].total_seconds() > 1


def test_a_floor_event_outside_read_committed_is_refused(team, capsys):
    """A snapshot from before a demotion would judge the event under the older roster."""
    with pytest.raises(asyncpg.InvalidTransactionStateError, match="READ COMMITTED"):
        team.sql("alice", INSERT.replace("'bob'", "'alice'"), None, "person_added", "now",
                 json.dumps({"name": "carol", "role": "agent", "tz": "UTC"}),
                 first=("BEGIN ISOLATION LEVEL REPEATABLE READ",))


def test_members_cannot_move_the_floor_mark(team, capsys):
    for statement in ("SELECT nextval('casewatch_floor_mark')", "SELECT setval('casewatch_floor_mark', 1000000)"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            team.sql("bob", statement)


_BEYOND = ["0044-03-15 12:00:00+00 BC", "-infinity", "infinity", "0001-01-01 00:00:00+00", "1999-12-31 23:59:59+00"]


@pytest.mark.parametrize("at", _BEYOND)
def test_an_event_before_2000_or_at_no_finite_time_fails_in_the_database(team, capsys, at):
    case_id = new_case(team, capsys)
    message = "before 2000 or at no finite time"
    with pytest.raises(asyncpg.CheckViolationError, match=message):
        team.sql("bob", INSERT, "CW-1002", "case_created", at, json.dumps(_CREATED | {"title": "Caesar"}))
    with pytest.raises(asyncpg.CheckViolationError, match=message):
        team.sql("bob", INSERT, case_id, "note_added", at, json.dumps({"text": "et tu"}))
    with pytest.raises(asyncpg.CheckViolationError, match=message):
        team.sql("alice", INSERT, None, "person_added", at, json.dumps({"name": "brutus", "role": "agent"}))
    assert audit(team, capsys) == []


_TRIGGERS = ("casewatch_vet_event", "casewatch_vet_new_case", "casewatch_turn_event")


def test_events_with_times_out_of_range_already_in_a_log_are_quarantined_and_every_reader_works(team, capsys):
    """A log written before the trigger refused them (or by an administrator): BC, infinite and
    year-1 times are kept, quarantined with a reason, and every reader works in every zone."""
    case_id = new_case(team, capsys)
    forged = []
    for number, at in enumerate(_BEYOND[:4], start=1002):
        [created] = team.sql("admin", INSERT, f"CW-{number}", "case_created", at,
                             json.dumps(_CREATED | {"title": f"Caesar {at}"}),
                             first=tuple(f"ALTER TABLE events DISABLE TRIGGER {t}" for t in _TRIGGERS))
        [note] = team.sql("admin", INSERT, case_id, "note_added", at, json.dumps({"text": "et tu"}))
        forged += [created["id"], note["id"]]
    team.sql("admin", "ALTER TABLE events ENABLE TRIGGER casewatch_vet_event",
             first=tuple(f"ALTER TABLE events ENABLE TRIGGER {t}" for t in _TRIGGERS[1:]))
    listed = audit(team, capsys)
    assert sorted(q["id"] for q in listed) == sorted(forged), listed
    assert all("out of range" in q["reason"] or "before 2000" in q["reason"] or "after it was recorded" in q["reason"]
               for q in listed), listed
    for zone in ("America/New_York", "Pacific/Kiritimati", "UTC"):
        code, out, err = cw(capsys, "--tz", zone, "db", "audit", "--db", team.url("alice"))
        assert code == 0 and "Traceback" not in err and "8 quarantined events" in out, (zone, out, err)
        code, out, err = cw(capsys, "--tz", zone, "case", "show", case_id, "--db", team.url("bob"))
        assert code == 0 and "et tu" not in out, (zone, err)
    still_sound(team, capsys)
    for args in (("cases", "--json"), ("cases", "--json", "--as-of", datetime.now(UTC).isoformat())):
        code, out, err = cw(capsys, *args, "--db", team.url("bob"))
        assert code == 0 and [c["id"] for c in json.loads(out)] == [case_id], (args, out, err)
    assert new_case(team, capsys, "bob", "SEV3") == "CW-1006"  # after the highest case id in the log
