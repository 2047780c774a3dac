"""Engines per backend. SQLite gets WAL, a busy timeout, foreign keys, and `BEGIN IMMEDIATE` for
writers so that a read-then-write transaction waits for the lock instead of failing as "locked"."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from casewatch.storage.target import Target

BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "casewatch_write"


def create_engines(target: Target) -> tuple[AsyncEngine, AsyncEngine]:
    """(reader, writer): the writer shares the reader's pool and only changes how it begins."""
    if not target.is_sqlite:
        engine = create_async_engine(target.url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        return engine, engine
    engine = create_async_engine(target.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine, engine.execution_options(**{WRITE_OPTION: True})
