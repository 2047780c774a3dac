"""Engines per backend. SQLite gets WAL, a busy timeout, foreign keys, and `BEGIN IMMEDIATE` for
writers so that a read-then-write transaction waits for the lock instead of failing as "locked".

Every new SQLite connection first checks, by reading only, that the file is empty or a casewatch
database: a pragma such as `journal_mode=WAL` would otherwise rewrite a stranger's file."""

from __future__ import annotations

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from casewatch.core.errors import InvalidInput
from casewatch.storage.target import Target

BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "casewatch_write"


def json_text(value: object) -> str:
    return orjson.dumps(value).decode()


JSON_CODEC = {"json_serializer": json_text, "json_deserializer": orjson.loads}
"""JSON columns (events' payloads, case states) go through orjson: several times faster than the
standard library both ways, which the write path and every replay of the log feel."""
MARK_TABLE = "alembic_version"  # every casewatch database has it, from its first migration on


def create_engines(target: Target) -> tuple[AsyncEngine, AsyncEngine]:
    """(reader, writer): the writer shares the reader's pool and only changes how it begins."""
    if not target.is_sqlite:
        engine = create_async_engine(target.url, pool_pre_ping=True, pool_size=5, max_overflow=5, **JSON_CODEC)
        return engine, engine
    engine = create_async_engine(target.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **JSON_CODEC)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {row[0] for row in cursor.fetchall()}
            if tables and MARK_TABLE not in tables:
                raise InvalidInput(f"{target.describe()} is a database, but not a casewatch one (it has other "
                                   "tables); it was left untouched")
            pragmas = ["PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"]
            if not target.read_only:
                pragmas.insert(0, "PRAGMA journal_mode=WAL")
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine, engine.execution_options(**{WRITE_OPTION: True})
