"""The PostgreSQL databases tests share (tests/pg_pool.py) reach the next test exactly as the
template made them, or not at all."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.conftest import _pg_admin, new_pg_pool, pg_admin_url, pg_connect

pytestmark = pytest.mark.skipif(pg_admin_url() is None, reason="CASEWATCH_TEST_PG_URL is not set")


@pytest.fixture
def pool():
    made = new_pg_pool()
    yield made
    made.drop_all()


def _run(name: str, *statements: str) -> list:
    async def go():
        connection = await pg_connect(name)
        try:
            found = []
            for statement in statements:
                found.append(await connection.fetch(statement))
            return found
        finally:
            await connection.close()
    return asyncio.run(go())


def test_rows_and_sequences_are_as_new_for_the_next_test(pool):
    name = pool.take()
    [[fresh]] = _run(name, "SELECT (SELECT count(*) FROM events) AS events, "
                                 "(SELECT version_num FROM alembic_version) AS head")
    _run(name, "INSERT INTO counters VALUES ('left over', 41)",
         "SELECT nextval('events_id_seq')", "DELETE FROM alembic_version")
    held = asyncio.run(pg_connect(name))  # a connection the test forgot to close
    held_pid = held.get_server_pid()
    pool.give_back(name)
    assert pool.take() == name  # the same database, emptied
    [[again], counters, [[first_id]]] = _run(
        name, "SELECT (SELECT count(*) FROM events) AS events, "
                    "(SELECT version_num FROM alembic_version) AS head",
        "SELECT * FROM counters", "SELECT nextval('events_id_seq')")
    assert dict(again) == dict(fresh) and fresh["head"] and counters == [] and first_id == 1
    [[[still]]] = _run(name, f"SELECT count(*) FROM pg_stat_activity WHERE pid = {held_pid}")
    assert still == 0  # ended, as DROP DATABASE … WITH (FORCE) would have


@pytest.mark.parametrize("change", [
    "CREATE TABLE stray (id int)",
    "ALTER TABLE events DISABLE TRIGGER ALL",
    "CREATE ROLE {role}; GRANT SELECT ON events TO {role}",
    "ALTER TABLE cases ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE people ADD COLUMN extra text",
    "CREATE FUNCTION stray() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "ALTER DATABASE {database} SET work_mem = '8MB'",
])
def test_a_database_whose_catalogs_a_test_changed_is_dropped_not_reused(pool, change):
    name = pool.take()
    role = f"cw_pool_{uuid.uuid4().hex[:8]}"
    try:
        _run(name, *change.format(role=role, database=name).split("; "))
        pool.give_back(name)
        assert pool.take() != name
        [[[exists]]] = _run("postgres", f"SELECT count(*) FROM pg_database WHERE datname = '{name}'")
        assert exists == 0
    finally:
        asyncio.run(_pg_admin(f"DROP ROLE IF EXISTS {role}"))
