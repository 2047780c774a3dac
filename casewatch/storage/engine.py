"""Engines per backend. SQLite gets WAL, a busy timeout, foreign keys, and `BEGIN IMMEDIATE` for
writers so that a read-then-write transaction waits for the lock instead of failing as "locked".

Every new SQLite connection first checks, by reading only, that the file is empty or a casewatch
database: a pragma such as `journal_mode=WAL` would otherwise rewrite a stranger's file."""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from dataclasses import dataclass

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


LOCK_TIMEOUT_ENV, STATEMENT_TIMEOUT_ENV = "CASEWATCH_LOCK_TIMEOUT", "CASEWATCH_STATEMENT_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S, DEFAULT_STATEMENT_TIMEOUT_S = 5.0, 30.0


def seconds(variable: str, default: float) -> float:
    """A wait in seconds from the environment (`CASEWATCH_LOCK_TIMEOUT=10`), else the default."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    try:
        found = float(value)
    except ValueError:
        raise InvalidInput(f"{variable}={value!r} is not a number of seconds") from None
    if not 0 < found <= 3600:
        raise InvalidInput(f"{variable}={value!r}: give between 0 and 3600 seconds")
    return found


def waits() -> dict[str, str]:
    """PostgreSQL: every statement of every transaction waits at most this long for a lock another
    session holds, and runs at most this long (a member holding `LOCK TABLE events` cannot stall
    writers: they give up with exit 4, naming the wait)."""
    lock = seconds(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT_S)
    statement = seconds(STATEMENT_TIMEOUT_ENV, DEFAULT_STATEMENT_TIMEOUT_S)
    return {"lock_timeout": f"{int(lock * 1000)}ms", "statement_timeout": f"{int(statement * 1000)}ms"}


def create_engines(target: Target) -> tuple[AsyncEngine, AsyncEngine]:
    """(reader, writer): the writer shares the reader's pool and only changes how it begins."""
    if not target.is_sqlite:
        engine = create_async_engine(target.url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                                     connect_args={"server_settings": waits()}, **JSON_CODEC)
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


@dataclass
class _Lent:
    engines: tuple[AsyncEngine, AsyncEngine]
    loop: asyncio.AbstractEventLoop
    users: int = 0


KEPT_IDLE = 4  # engines kept, connections closed, after their last store closed
_LENT: OrderedDict[tuple, _Lent] = OrderedDict()


def borrow_engines(target: Target) -> tuple[AsyncEngine, AsyncEngine]:
    """`create_engines`, but a process that opens the same database again (a bot, a test calling
    the CLI in-process, a board and its own writes) gets the engines it had: SQLAlchemy keeps its
    compiled statements per engine, and compiling them again was a fifth of a short command's CPU.
    An engine in use in another event loop is not lent (its pool's connections belong to that
    loop); one whose stores all closed has no connections left, and any loop may take it."""
    loop = asyncio.get_running_loop()
    key = (target.url, target.read_only, target.immutable, () if target.is_sqlite else tuple(sorted(waits().items())))
    lent = _LENT.get(key)
    if lent is not None and lent.users and lent.loop is not loop:
        return create_engines(target)
    if lent is None:
        lent = _LENT[key] = _Lent(create_engines(target), loop)
    lent.users, lent.loop = lent.users + 1, loop
    _LENT.move_to_end(key)
    return lent.engines


async def give_back(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    """The store is done with them: the last one out closes the connections (the engine, with its
    compiled statements, stays for the next store, among the last `KEPT_IDLE`)."""
    lent = next((lent for lent in _LENT.values() if lent.engines[0] is engines[0]), None)
    if lent is None:
        await engines[0].dispose()
        return
    lent.users = max(0, lent.users - 1)
    if lent.users:
        return
    await engines[0].dispose()
    idle = [key for key, kept in _LENT.items() if not kept.users]
    for key in idle[:-KEPT_IDLE]:
        del _LENT[key]  # (disposed when their last store closed)
