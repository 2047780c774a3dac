"""Test harness: keep the developer's own config, data and identity out; offer both backends."""

from __future__ import annotations

import asyncio
import atexit
import os
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
import tzlocal
from sqlalchemy.engine import make_url

from casewatch.storage import migrate
from casewatch.storage.engine import create_engines
from casewatch.storage.migrate import ensure_schema
from casewatch.storage.target import resolve_target
from tests.pg_pool import PgPool, new_database_name, without_commit_flush

PG_ENV = "CASEWATCH_TEST_PG_URL"


class FrozenClock:
    """An injectable clock for storage and the app: only moves when a test moves it."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch):
    """No test reads or writes the developer's config, data dir or identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for name in ("CASEWATCH_DB", "CASEWATCH_USER", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    tzlocal.reload_localzone()  # tzlocal keeps the first zone it found, maybe from before TZ was set


@pytest.fixture
def frozen_clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))  # a Friday afternoon


def pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


async def pg_connect(database: str | None = None):
    """An asyncpg connection as the administrator, to `database` (the admin URL's by default)."""
    import asyncpg

    url = make_url(pg_admin_url())
    return await asyncpg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username,
                                 password=url.password, database=database or url.database)


async def _pg_admin(sql: str) -> None:
    connection = await pg_connect()
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


_PG_TEMPLATE: list[str] = []  # this process's migrated, empty database, made on first use


def _pg_template() -> str:
    """A database with casewatch's schema and nothing else, migrated once per test process: a copy
    of it costs the server a file copy, where migrating each test's database cost a second or more
    of both processes' time. Dropped when the process ends."""
    if not _PG_TEMPLATE:
        name = f"cw_template_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        atexit.register(lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
        asyncio.run(migrate_schema(make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)))
        _PG_TEMPLATE.append(name)
    return _PG_TEMPLATE[0]


async def migrate_schema(location: str) -> None:
    """The schema only, as a new database has it before its first open writes the default policy."""
    target = resolve_target(location)
    reader, writer = create_engines(target)
    try:
        await ensure_schema(reader, writer, target.describe())
    finally:
        await reader.dispose()


def create_pg_database(*, empty: bool = False) -> str:
    """A fresh database for one test; returns its URL. It already has the schema (as a copy of this
    process's template) unless `empty`: a test of migrations or of foreign databases starts from
    nothing. Fails loudly when the server is unreachable."""
    name = new_database_name()
    template = "" if empty else f' TEMPLATE "{_pg_template()}"'
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"{template}'))
    asyncio.run(_pg_admin(without_commit_flush(name)))
    return make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)


@cache
def _pg_pool() -> PgPool:
    """This test process's reusable PostgreSQL databases."""
    return new_pg_pool()


def new_pg_pool() -> PgPool:
    return PgPool(_pg_template, pg_connect, lambda sql: asyncio.run(_pg_admin(sql)))


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_SQLITE_SCHEMA: list[tuple[str, dict]] = []  # this process's migrated empty SQLite schema, as statements
_migrate_for_real = migrate.upgrade_to_head


def _sqlite_schema() -> list[tuple[str, dict]]:
    """The statements that make an empty SQLite file what the migrations make it (tables, indexes,
    triggers, and the rows migrations write), taken once per test process from a file migrated for
    real. Replaying them costs a few milliseconds; running the 20 migrations cost about 0.1 s of
    CPU for each of the suite's hundreds of new SQLite databases."""
    if not _SQLITE_SCHEMA:
        import sqlite3
        import tempfile

        from sqlalchemy import create_engine

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "template.db")
            engine = create_engine(f"sqlite:///{path}")
            try:
                with engine.begin() as connection:
                    _migrate_for_real(connection, "the test template")
            finally:
                engine.dispose()
            with sqlite3.connect(path) as template:
                found = template.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                                         "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
                statements = [(sql, {}) for _type, _name, sql in found]
                for kind, name, _sql in found:
                    if kind != "table":
                        continue
                    cursor = template.execute(f'SELECT * FROM "{name}"')
                    columns = [column[0] for column in cursor.description]
                    insert = (f'INSERT INTO "{name}" ({", ".join(columns)}) '
                              f'VALUES ({", ".join(":" + column for column in columns)})')
                    statements += [(insert, dict(zip(columns, row, strict=True))) for row in cursor]
        _SQLITE_SCHEMA.extend(statements)
    return _SQLITE_SCHEMA


def _upgrade_from_template(connection, describe: str) -> bool:
    """`migrate.upgrade_to_head` for the tests: a new, empty SQLite file gets the schema the real
    migrations made once in this process; anything else (PostgreSQL, an older schema, a stranger's
    file) is migrated for real."""
    from sqlalchemy import inspect, text

    if connection.dialect.name != "sqlite" or inspect(connection).get_table_names():
        return _migrate_for_real(connection, describe)
    for statement, values in _sqlite_schema():
        connection.execute(text(statement), values) if values else connection.exec_driver_sql(statement)
    return True


@pytest.fixture(autouse=True)
def sqlite_schema_from_template(request, monkeypatch):
    """New SQLite databases opened in a test's own process get the migrated schema by copy (as
    PostgreSQL's come from a template), except in tests marked `empty_database` (of the
    migrations themselves). Processes a test starts migrate for real."""
    if request.node.get_closest_marker("empty_database") is None:
        monkeypatch.setattr(migrate, "upgrade_to_head", _upgrade_from_template)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database location for one test, on each backend. PostgreSQL runs when CASEWATCH_TEST_PG_URL
    is set; if it is set and the server is down, the test errors instead of skipping."""
    if request.param == "sqlite":
        yield str(tmp_path / "casewatch.db")
        return
    yield from _pg_database(request)


@pytest.fixture
def pg_url(request):
    """A fresh PostgreSQL database for tests of what only PostgreSQL has (notifications, roles)."""
    yield from _pg_database(request)


def _pg_database(request):
    """A database as the template made it (tests/pg_pool.py), or an empty one for a test marked
    `empty_database`, made for it and dropped after."""
    if pg_admin_url() is None:
        pytest.skip(f"{PG_ENV} is not set")
    if request.node.get_closest_marker("empty_database") is not None:
        url = create_pg_database(empty=True)
        try:
            yield url
        finally:
            drop_pg_database(url)
        return
    name = _pg_pool().take()
    try:
        yield make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_pool().give_back(name)


@pytest.fixture
def db_target(db_url):
    return resolve_target(db_url)


def pytest_collection_modifyitems(config, items):
    """Tests marked `slow` (each runs for many seconds) go first. xdist hands tests out in this order,
    so a long test never starts last and keeps one worker busy after the other has finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: the rest keep their order
