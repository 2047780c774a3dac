"""Team mode on a real PostgreSQL server, with login roles the tests create: the server decides who
wrote each event and when, members can only append to the log, and identity is the login's."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from casewatch import paths
from casewatch.cli.main import main
from casewatch.core import commands as c
from casewatch.core.models import EventType, Role, Severity
from casewatch.core.views import describe_event
from casewatch.storage.feed import FeedState
from casewatch.storage.migrate import head_revision
from casewatch.storage.roles import owner_role
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from tests.team.boards import HeadlessBoard, open_versions
from tests.team.teams import Team, team_pool
from tests.team.test_feed import admin
from tests.tui.helpers import workers_done


def set_up_team(admin_url: str, capsys, monkeypatch) -> Team:
    """`alice` leads a new team database through her login; `bob` (agent) has a login and is a member."""
    made = Team(admin_url=admin_url)
    try:
        made.add_login("alice")
        made.add_login("bob")
        monkeypatch.setenv("CASEWATCH_USER", "someone-else")  # whoever runs it, the first lead is --lead
        assert main(["team", "init", "--db", admin_url, "--lead", "alice", "--login", made.logins["alice"],
                     "--tz", "Europe/Berlin"]) == 0
        monkeypatch.delenv("CASEWATCH_USER")
        assert main(["people", "add", "bob", "--role", "agent", "--tz", "Asia/Kolkata", "--db", made.url("alice")]) == 0
        assert main(["team", "grant", "bob", "--login", made.logins["bob"], "--db", made.url("alice")]) == 0
        out = capsys.readouterr().out
        statement = re.search(rf"GRANT \"{made.member}\" TO \"[^\"]+\";", out)
        assert statement, out  # alice's login may not grant roles: the one statement an administrator runs
        made.sql("admin", statement.group(0))
    except BaseException:
        made.forget()
        raise
    return made


@pytest.fixture
def team(capsys, monkeypatch):
    """`alice` leads a team database through her login; `bob` (agent) has a login and is a member. Set
    up once per test process and put back as it was between tests (tests/team/teams.py)."""
    made = team_pool().take(lambda admin_url: set_up_team(admin_url, capsys, monkeypatch))
    try:
        yield made
    finally:
        team_pool().give_back(made)


def cw(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_first_lead_is_the_one_team_init_named_and_writes_carry_the_logins_person(team, capsys):
    code, out, _ = cw(capsys, "people", "list", "--json", "--db", team.url("alice"))
    assert code == 0
    assert {(p["name"], p["role"]) for p in json.loads(out)} == {("alice", "lead"), ("bob", "agent")}
    code, out, err = cw(capsys, "case", "new", "--title", "Checkout down", "--customer", "Globex", "--severity",
                        "SEV1", "--db", team.url("bob"))
    assert code == 0, err
    code, out, _ = cw(capsys, "case", "show", out.strip(), "--json", "--db", team.url("bob"))
    timeline = json.loads(out)["timeline"]
    assert [event["actor"] for event in timeline] == ["bob"]
    rows = team.sql("admin", "SELECT actor, recorded_at, now() - recorded_at AS age FROM events ORDER BY id")
    assert [row["actor"] for row in rows] == ["casewatch", "casewatch", "casewatch", "alice", "alice", "bob"]
    # The server stamps each row. The team's set-up rows are as old as the set-up this test process
    # shares (tests/team/teams.py), a minute or more by now; bob's was written just now.
    ages = [row["age"].total_seconds() for row in rows]
    assert all(age > -1 for age in ages) and abs(ages[-1]) < 60, ages
    assert [row["recorded_at"] for row in rows] == sorted(row["recorded_at"] for row in rows)


def test_members_may_not_change_or_remove_events(team):
    for statement in ("DELETE FROM events", "UPDATE events SET actor = 'alice'", "TRUNCATE events",
                      "INSERT INTO logins (login, person, last_event_id) VALUES (session_user, 'alice', 0)",
                      "UPDATE logins SET person = 'alice'"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            team.sql("bob", statement)
    assert len(team.sql("admin", "SELECT id FROM events")) == 5


def test_the_server_stamps_the_author_and_the_time_whatever_the_client_sends(team, capsys):
    code, out, _ = cw(capsys, "case", "new", "--title", "Payments", "--customer", "ACME", "--severity", "SEV2",
                      "--db", team.url("alice"))
    case_id = out.strip()
    forged = ("INSERT INTO events (case_id, type, actor, occurred_at, recorded_at, payload) VALUES "
              "($1, 'note_added', 'alice', now(), '2001-01-01T00:00:00Z', '{\"text\": \"forged?\"}') "
              "RETURNING actor, recorded_at > now() - interval '1 minute' AS recent")
    [row] = team.sql("bob", forged, case_id)
    assert row["actor"] == "bob" and row["recent"]
    # A temporary table named like the login map would come first on bob's search path: members may
    # make none (and the server's functions would ignore it).
    shadowed = ("CREATE TEMP TABLE logins (login text, person text)", "INSERT INTO logins VALUES (session_user, 'alice')")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="temporary"):
        team.sql("bob", forged, case_id, first=shadowed)
    [row] = team.sql("bob", forged, case_id)
    assert row["actor"] == "bob"
    assert [r["actor"] for r in team.sql("admin", "SELECT actor FROM events WHERE type = 'note_added'")] == [
        "bob", "bob"]
    # The projection was not written with those events: verify sees it, rebuild repairs it with the
    # server's author.
    code, out, err = cw(capsys, "db", "verify", "--db", team.url("bob"))
    assert code == 1 and f"cases {case_id}: differs in" in out and "db rebuild" in err
    code, out, err = cw(capsys, "db", "rebuild", "--db", team.url("bob"))
    assert code == 0, err
    code, out, _ = cw(capsys, "case", "show", case_id, "--json", "--db", team.url("alice"))
    shown = json.loads(out)
    assert shown["version"] == 3 and [e["actor"] for e in shown["timeline"]] == ["alice", "bob", "bob"]
    assert cw(capsys, "db", "verify", "--db", team.url("alice"))[0] == 0


def test_a_member_cannot_map_a_login_through_sql(team):
    grant = ("INSERT INTO events (type, actor, occurred_at, recorded_at, payload) VALUES ('login_granted', 'alice', "
             "now(), now(), json_build_object('login', session_user::text, 'person', 'alice', 'before', 'bob'))")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="only a lead"):
        team.sql("bob", grant)
    # Members may write the projections: bob makes himself a lead in `people`. The server asks the log.
    team.sql("bob", "UPDATE people SET role = 'lead' WHERE name = 'bob'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="only a lead"):
        team.sql("bob", grant)
    assert [r["person"] for r in team.sql("admin", "SELECT person FROM logins ORDER BY person")] == ["alice", "bob"]


@pytest.mark.parametrize("how", ["--as", "CASEWATCH_USER"])
def test_acting_as_someone_else_is_refused(team, capsys, monkeypatch, how):
    before = len(team.sql("admin", "SELECT id FROM events"))
    args = ["case", "new", "--title", "x", "--customer", "y", "--severity", "SEV3", "--db", team.url("bob")]
    if how == "--as":
        args += ["--as", "alice"]
    else:
        monkeypatch.setenv("CASEWATCH_USER", "alice")
    code, out, err = cw(capsys, *args)
    assert code == 2 and out == ""
    assert err.strip() == (f"casewatch: you are connected as {team.logins['bob']}, who is bob on the roster: you "
                           "cannot act as 'alice' (drop --as and CASEWATCH_USER, or connect with that person's login)")
    assert len(team.sql("admin", "SELECT id FROM events")) == before
    monkeypatch.setenv("CASEWATCH_USER", "bob")  # naming yourself is fine
    assert cw(capsys, "case", "note", "CW-1001", "hi", "--db", team.url("bob"))[2].startswith("casewatch: no case")


def test_a_login_mapped_to_nobody_gets_one_line_and_writes_nothing(team, capsys):
    team.add_login("carol")
    team.add_login("dave")
    team.sql("admin", f'GRANT "{team.member}" TO "{team.logins["dave"]}"')  # a member, but mapped to nobody
    before = team.sql("admin", "SELECT count(*) AS n FROM events")[0]["n"]
    for who in ("carol", "dave"):
        code, out, err = cw(capsys, "case", "new", "--title", "x", "--customer", "y", "--severity", "SEV3",
                            "--as", "carol", "--db", team.url(who))
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert "team grant" in err
    assert "not mapped to anyone on the roster" in err
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="not mapped"):
        team.sql("dave", "INSERT INTO events (type, actor, occurred_at, recorded_at, payload) "
                         "VALUES ('note_added', 'dave', now(), now(), '{}')")
    assert team.sql("admin", "SELECT count(*) AS n FROM events")[0]["n"] == before


def test_a_lead_whose_login_may_grant_roles_lets_people_in_in_one_step(team, capsys):
    login = team.add_login("erin")
    team.sql("admin", f'ALTER ROLE "{team.logins["alice"]}" CREATEROLE')
    assert cw(capsys, "people", "add", "erin", "--role", "specialist", "--tz", "UTC", "--db", team.url("alice"))[0] == 0
    code, out, err = cw(capsys, "team", "grant", "erin", "--login", login, "--db", team.url("alice"))
    assert code == 0, err
    assert out.strip() == f"login {login} acts as erin; it is in role {team.member}"
    code, out, _ = cw(capsys, "shift", "show", "--db", team.url("erin"))
    assert code == 0


def test_team_commands_refuse_what_they_cannot_do(team, capsys, tmp_path):
    code, _, err = cw(capsys, "team", "init", "--db", team.admin_url, "--lead", "alice", "--login", team.logins["bob"])
    assert code == 2 and "is a team database already" in err
    code, _, err = cw(capsys, "team", "grant", "alice", "--login", team.logins["alice"], "--db", team.url("bob"))
    assert code == 2 and "needs a lead" in err, err
    code, _, err = cw(capsys, "team", "grant", "nobody", "--login", team.logins["bob"], "--db", team.url("alice"))
    assert code == 2 and "no person named 'nobody'" in err
    code, _, err = cw(capsys, "team", "grant", "bob", "--login", "cw_no_such_login", "--db", team.url("alice"))
    assert code == 2 and "the server has no login 'cw_no_such_login'" in err
    code, _, err = cw(capsys, "team", "init", "--db", team.url("bob"), "--lead", "bob", "--login", team.logins["bob"])
    assert code == 2 and "needs a PostgreSQL role that may create roles" in err
    code, _, err = cw(capsys, "team", "init", "--db", str(tmp_path / "solo.db"), "--lead", "a", "--login", "a")
    assert code == 2 and "SQLite database keeps self-asserted identity" in err
    assert not (tmp_path / "solo.db").exists()


def test_team_grant_on_a_database_that_is_not_a_team_one_is_refused(db_url, capsys):
    assert cw(capsys, "people", "list", "--db", db_url, "--as", "dana")[0] == 0
    code, _, err = cw(capsys, "team", "grant", "dana", "--login", "postgres", "--db", db_url, "--as", "dana")
    assert code == 2
    assert ("SQLite database keeps self-asserted identity" in err) if "://" not in db_url else (
        "is not a team database" in err)


async def test_a_members_board_survives_a_killed_connection_and_loses_nothing(team):
    """Bob's board listens through his own login; alice writes while it is cut off."""
    database = make_url(team.admin_url).database
    async with await Store.open(resolve_target(team.url("alice"))) as writer:
        first = await writer.execute(c.NewCase(title="Payments", customer="ACME", severity=Severity.SEV1), "alice")
        board = HeadlessBoard(await Store.open(resolve_target(team.url("bob"))))
        await board.start()
        try:
            assert board.store.team is not None and board.store.team.person == "bob"
            assert await board.until(lambda: board.live, 10)
            await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            await admin("SELECT pg_terminate_backend($1)", board.feed.backend_pid)
            assert await board.until(lambda: board.feed.status.state is FeedState.RECONNECTING, 5)
            for n in range(20):
                await writer.execute(c.Note(case_id=first.case.id, text=f"while away {n}"), "alice")
            second = await writer.execute(c.NewCase(title="Search slow", customer="Initech",
                                                    severity=Severity.SEV3), "alice")
            await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            truth = await open_versions(writer)
            assert await board.until(lambda: board.live and board.versions() == truth, 15), board.feed.status
            assert board.cases[second.case.id].updated_by == "alice"
            events = await board.store.case_events(first.case.id)
            assert len(events) == 21 and {e.actor for e in events} == {"alice"}
        finally:
            await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            await board.close()


def test_an_existing_database_becomes_a_team_one_and_keeps_its_history(pg_url, capsys):
    made = Team(admin_url=pg_url)
    try:
        dana = made.add_login("dana")
        assert cw(capsys, "case", "new", "--title", "Before", "--customer", "ACME", "--severity", "SEV2",
                  "--db", pg_url, "--as", "dana")[0] == 0
        code, _, err = cw(capsys, "team", "init", "--db", pg_url, "--lead", "ravi", "--login", dana)
        assert code == 2 and "ravi is not on the roster" in err
        assert made.sql("admin", "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")[0][0] == \
            make_url(pg_url).username  # refused before anything changed
        code, out, err = cw(capsys, "team", "init", "--db", pg_url, "--lead", "dana", "--login", dana)
        assert code == 0, err
        owners = made.sql("admin", "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
        assert [row["tableowner"] for row in owners] == [owner_role(make_url(pg_url).database)]
        code, out, err = cw(capsys, "case", "note", "CW-1001", "after", "--db", made.url("dana"))
        assert code == 0, err
        code, out, _ = cw(capsys, "case", "show", "CW-1001", "--json", "--db", made.url("dana"))
        assert [e["actor"] for e in json.loads(out)["timeline"]] == ["dana", "dana"]
        code, _, err = cw(capsys, "case", "note", "CW-1001", "x", "--db", pg_url)  # the administrator: mapped to nobody
        assert code == 2 and "administers this team database but is mapped to nobody" in err
        assert cw(capsys, "db", "verify", "--db", made.url("dana"))[0] == 0
    finally:
        made.forget()


async def test_boards_of_several_logins_follow_writers_of_several_logins(team):
    """Three people write at once through their own logins; every board (each its own member login)
    ends equal to the database, and every event names the person whose login wrote it."""
    for who in ("carol", "dave"):  # the helpers run their own event loop: off this one
        login = await asyncio.to_thread(team.add_login, who)
        await asyncio.to_thread(team.sql, "admin", f'GRANT "{team.member}" TO "{login}"')
    async with await Store.open(resolve_target(team.url("alice"))) as lead:
        for who in ("carol", "dave"):
            await lead.execute(c.AddPerson(name=who, role=Role.LEAD, tz="UTC"), "alice")
            await lead.execute(c.GrantLogin(name=who, login=team.logins[who]), "alice")
        seeded = [(await lead.execute(c.NewCase(title=f"seed {n}", customer="ACME", severity=Severity.SEV2),
                                      "alice")).case.id for n in range(3)]
    boards = [HeadlessBoard(await Store.open(resolve_target(team.url(who)))) for who in ("bob", "carol", "dave")]
    for board in boards:
        await board.start()
        assert await board.until(lambda b=board: b.live, 10)

    async def write(who: str) -> None:
        async with await Store.open(resolve_target(team.url(who))) as store:
            for n in range(30):
                await store.execute(c.Note(case_id=seeded[n % 3], text=f"{who} {n}"), who)

    try:
        await asyncio.gather(*(write(who) for who in ("alice", "carol", "dave")))
        truth = await open_versions(boards[0].store)
        for board in boards:
            assert await board.until(lambda b=board: b.versions() == truth, 10)
        notes = await asyncio.to_thread(
            team.sql, "admin", "SELECT actor, payload->>'text' AS text FROM events WHERE type = 'note_added'")
        assert len(notes) == 90 and all(row["text"].split()[0] == row["actor"] for row in notes)
    finally:
        for board in boards:
            await board.close()


async def test_a_client_whose_clock_is_wrong_still_writes_the_servers_time(team):
    """Bob's machine thinks it is 2001: what happens now happens at the server's now; a backfilled
    event keeps the time it was given; the projection is folded from what the server stored."""
    from datetime import UTC, datetime, timedelta

    from tests.conftest import FrozenClock

    wrong = FrozenClock(datetime(2001, 1, 1, 9, 0, tzinfo=UTC))
    async with await Store.open(resolve_target(team.url("bob")), clock=wrong) as store:
        created = await store.execute(c.NewCase(title="Clock skew", customer="ACME", severity=Severity.SEV2), "bob")
        backfilled = await store.execute(c.NewCase(title="From the old ticket", customer="ACME",
                                                   severity=Severity.SEV3), "bob", at=wrong.now - timedelta(hours=1))
        stored = await store.get_case(created.case.id)
        differences = await store.verify()
    now = datetime.now(UTC)
    assert abs(created.event.occurred_at - now) < timedelta(minutes=1)
    assert abs(created.event.recorded_at - now) < timedelta(minutes=1)
    assert backfilled.event.occurred_at == wrong.now - timedelta(hours=1)
    assert abs(backfilled.event.recorded_at - now) < timedelta(minutes=1)
    assert stored == created.case and abs(stored.escalated_at - now) < timedelta(minutes=1)
    assert differences == []


async def test_the_board_on_a_team_database_acts_as_the_logins_person(team):
    async with await Store.open(resolve_target(team.url("alice"))) as lead:
        case = (await lead.execute(c.NewCase(title="Board", customer="ACME", severity=Severity.SEV2), "alice")).case
    app = CasewatchApp(resolve_target(team.url("bob")), "someone-else", live=False)
    async with app.run_test(size=(160, 40)) as pilot:
        assert app.actor == "bob"
        await app.perform(c.Note(case_id=case.id, text="from bob's board")).wait()
        await pilot.pause()
        assert app.state.cases[case.id].version == 2 and app.state.cases[case.id].updated_by == "bob"
    async with await Store.open(resolve_target(team.url("alice"))) as lead:
        assert [e.actor for e in await lead.case_events(case.id)] == ["alice", "bob"]


def test_a_renamed_person_keeps_their_login(team, capsys):
    code, _, err = cw(capsys, "people", "rename", "bob", "robert", "--db", team.url("alice"))
    assert code == 0, err
    code, out, err = cw(capsys, "case", "new", "--title", "After the rename", "--customer", "ACME", "--severity",
                        "SEV3", "--db", team.url("bob"))
    assert code == 0, err
    assert team.sql("admin", "SELECT actor FROM events ORDER BY id DESC LIMIT 1")[0]["actor"] == "robert"
    code, _, err = cw(capsys, "cases", "--as", "bob", "--db", team.url("bob"))
    assert code == 2 and "who is robert on the roster" in err
    assert cw(capsys, "db", "verify", "--db", team.url("bob"))[0] == 0


def test_an_administrator_upgrades_a_team_database_as_its_owner_role(team, capsys):
    """A migration on a team database runs as its owner role, and members keep what they need."""
    team.sql("admin", "UPDATE alembic_version SET version_num = '0005'", first=(
        "DROP TRIGGER casewatch_project_logins ON events", "DROP FUNCTION casewatch_project_logins()",
        "DROP INDEX ix_cases_escalated_at", "ALTER TABLE cases DROP COLUMN facts",
        "ALTER TABLE cases DROP COLUMN listing", "DROP INDEX ux_cases_source",
        "ALTER TABLE cases DROP COLUMN source_name", "ALTER TABLE cases DROP COLUMN source_id",
        "DROP TRIGGER casewatch_vet_event ON events", "DROP FUNCTION casewatch_vet_event()",
        "DROP FUNCTION casewatch_roles(bigint)", "DROP TABLE source_states",
    ))  # as before 0006 to 0011
    code, out, err = cw(capsys, "db", "upgrade", "--db", team.admin_url)
    assert code == 0 and f"schema migrated to {head_revision()}" in out, err
    [row] = team.sql("admin", "SELECT pg_get_userbyid(proowner) AS owner FROM pg_proc "
                              "WHERE proname = 'casewatch_project_logins'")
    assert row["owner"] == owner_role(make_url(team.admin_url).database)
    login = team.add_login("erin")
    assert cw(capsys, "people", "add", "erin", "--role", "agent", "--tz", "UTC", "--db", team.url("alice"))[0] == 0
    assert cw(capsys, "team", "grant", "erin", "--login", login, "--db", team.url("alice"))[0] == 0
    assert team.sql("admin", "SELECT person FROM logins WHERE login = $1", login)[0]["person"] == "erin"
    code, out, err = cw(capsys, "cases", "--db", team.admin_url)  # an administrator may read and maintain
    assert code == 0, err
    assert cw(capsys, "db", "verify", "--db", team.admin_url)[0] == 0


def test_a_tampered_login_map_is_reported_and_only_an_administrator_repairs_it(team, capsys):
    bob = team.logins["bob"]
    team.sql("admin", "UPDATE logins SET person = 'alice' WHERE login = $1", bob)
    code, out, _ = cw(capsys, "db", "verify", "--db", team.url("alice"))
    assert code == 1 and out.splitlines() == [f"logins {bob}: differs in person"]
    code, out, err = cw(capsys, "db", "rebuild", "--db", team.url("alice"))  # members may only read the map
    assert code == 2 and out.splitlines() == [f"logins {bob}: differs in person"]
    assert "an administrator runs `casewatch db rebuild`" in err
    code, out, err = cw(capsys, "db", "rebuild", "--db", team.admin_url)
    assert code == 0 and out.splitlines()[0] == f"logins {bob}: differs in person (repaired)", err
    assert team.sql("admin", "SELECT person FROM logins WHERE login = $1", bob)[0]["person"] == "bob"


@pytest.mark.empty_database
def test_team_init_by_a_role_that_may_create_roles_but_not_own_the_database_changes_nothing(pg_url, capsys):
    made = Team(admin_url=pg_url)
    try:
        made.add_login("lead")
        made.add_login("creator", "CREATEROLE")
        code, out, err = cw(capsys, "team", "init", "--db", made.url("creator"), "--lead", "lead",
                            "--login", made.logins["lead"])
        assert code == 2 and out == "" and "nothing was changed" in err and len(err.strip().splitlines()) == 1
        assert made.sql("admin", "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")[0]["n"] == 0
    finally:
        made.forget()


def test_a_lead_imports_tickets_as_their_login_and_an_agent_may_not(team, capsys, tmp_path):
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[sources.zd]\nkind = "zendesk"\n', encoding="utf-8")
    export = tmp_path / "export.csv"
    export.write_text("Id,Subject,Priority,Status,Organization,Created at\n"
                      "48213,Checkout fails,high,open,Acme,2026-11-30T10:00:00Z\n", encoding="utf-8")
    code, out, err = cw(capsys, "import", "csv", str(export), "--source", "zd", "--db", team.url("alice"))
    assert code == 0 and out == "created 1, updated 0, left 0 unchanged\n", err
    assert {row["actor"] for row in team.sql("admin", "SELECT actor FROM events WHERE case_id IS NOT NULL")} == {
        "alice"}
    code, _, err = cw(capsys, "import", "csv", str(export), "--source", "zd", "--db", team.url("bob"))
    assert code == 2 and "importing cases from a tracker needs a lead" in err
    assert cw(capsys, "db", "verify", "--db", team.url("bob"))[0] == 0


async def test_the_shift_leads_acknowledgement_reaches_every_boards_timeline_and_an_agents_stays_local(team):
    from casewatch.core.alerts import Alert
    from casewatch.core.clocks import ClockKind, ClockState

    async with await Store.open(resolve_target(team.url("alice"))) as lead:
        await lead.execute(c.StartShift(), "alice")
        case = (await lead.execute(c.NewCase(title="Ack", customer="ACME", severity=Severity.SEV2), "alice")).case
    alert = Alert(case.id, case.title, case.severity, ClockKind.OWNER, ClockState.BREACHED, None, datetime.now(UTC))
    for login in ("bob", "alice"):  # bob is no shift lead: his acknowledgement is his alone
        app = CasewatchApp(resolve_target(team.url(login)), login, live=False)
        async with app.run_test(size=(80, 24)) as pilot:
            app.acknowledge(alert)
            await workers_done(app)
            await pilot.pause()
            assert app.marks.acknowledged(alert)
    async with await Store.open(resolve_target(team.url("bob"))) as member:
        events = await member.case_events(case.id)
        assert [(e.actor, describe_event(e)) for e in events if e.type is EventType.ALERT_ACKNOWLEDGED] == [
            ("alice", "ack by alice: owner clock breached")]
        assert await member.audit() == []
