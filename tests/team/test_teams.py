"""The team databases the team-mode tests share (tests/team/teams.py) reach the next test exactly as
their set-up left them, roles included, or not at all."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from casewatch.storage.roles import owner_role
from tests.conftest import _pg_admin, pg_admin_url, pg_connect
from tests.team.teams import TeamPool
from tests.team.test_team_mode import cw, set_up_team

pytestmark = pytest.mark.skipif(pg_admin_url() is None, reason="CASEWATCH_TEST_PG_URL is not set")


@pytest.fixture
def pool(capsys, monkeypatch):
    made = TeamPool()
    yield made, lambda admin_url: set_up_team(admin_url, capsys, monkeypatch)
    made.forget_all()


def exists(kind: str, name: str) -> bool:
    catalog, column = {"role": ("pg_roles", "rolname"), "database": ("pg_database", "datname")}[kind]

    async def look() -> bool:
        connection = await pg_connect()
        try:
            return bool(await connection.fetchval(f"SELECT count(*) FROM {catalog} WHERE {column} = $1", name))
        finally:
            await connection.close()
    return asyncio.run(look())


def test_a_team_is_put_back_as_its_set_up_left_it_and_logins_a_test_added_are_dropped(pool, capsys):
    teams, set_up = pool
    team = teams.take(set_up)
    events = team.sql("admin", "SELECT id, type, actor FROM events ORDER BY id")
    assert cw(capsys, "case", "new", "--title", "Left over", "--customer", "ACME", "--severity", "SEV1",
              "--db", team.url("bob"))[0] == 0
    carol = team.add_login("carol")
    team.sql("admin", f'GRANT "{team.member}" TO "{carol}"')
    held = asyncio.run(pg_connect(make_url(team.admin_url).database))  # a connection the test left open
    held_pid = held.get_server_pid()
    teams.give_back(team)
    again = teams.take(set_up)
    assert again.admin_url == team.admin_url and again.logins == {"alice": team.logins["alice"],
                                                                 "bob": team.logins["bob"]}
    assert again.sql("admin", "SELECT id, type, actor FROM events ORDER BY id") == events
    assert not exists("role", carol)
    [row] = again.sql("admin", f"SELECT count(*) AS n FROM pg_stat_activity WHERE pid = {held_pid}")
    assert row["n"] == 0
    code, out, err = cw(capsys, "case", "new", "--title", "Next", "--customer", "ACME", "--severity", "SEV1",
                        "--db", again.url("bob"))
    assert (code, out.strip()) == (0, "CW-1001"), err  # the counters and sequences were set back too
    teams.give_back(again)


@pytest.mark.parametrize("change", [
    'ALTER ROLE "{alice}" CREATEROLE',
    'ALTER ROLE "{bob}" SET work_mem = \'8MB\'',
    'REVOKE "{member}" FROM "{bob}"',
    'GRANT "{owner}" TO "{bob}"',
    'GRANT pg_read_all_data TO "{bob}"',
    'GRANT SELECT ON logins TO "{bob}"',
])
def test_a_team_whose_roles_or_grants_a_test_changed_is_dropped_with_its_roles(pool, change):
    teams, set_up = pool
    team = teams.take(set_up)
    database = make_url(team.admin_url).database
    team.sql("admin", change.format(alice=team.logins["alice"], bob=team.logins["bob"], member=team.member,
                                    owner=owner_role(database)))
    teams.give_back(team)
    assert not exists("database", database)
    assert not any(exists("role", login) for login in team.logins.values())
    assert not exists("role", team.member)
    other = teams.take(set_up)
    assert other.admin_url != team.admin_url
    teams.give_back(other)


def test_the_extra_memberships_a_test_left_are_not_hidden_by_dropping_its_logins(pool):
    """A login the test made outside `add_login` is not dropped; its membership changes the roles."""
    teams, set_up = pool
    team = teams.take(set_up)
    database = make_url(team.admin_url).database
    stray = f"{team.logins['bob']}_stray"
    asyncio.run(_pg_admin(f'CREATE ROLE "{stray}"'))
    try:
        team.sql("admin", f'GRANT "{team.member}" TO "{stray}"')
        teams.give_back(team)
        assert not exists("database", database)
    finally:
        asyncio.run(_pg_admin(f'DROP ROLE IF EXISTS "{stray}"'))
