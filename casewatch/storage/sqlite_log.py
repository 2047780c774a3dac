"""Appending to the log on SQLite at the driver, the write path's hot spot (imports and
`seed-demo` write thousands of events per batch): one `executemany` of ready values, a third of
the time SQLAlchemy's INSERT … RETURNING takes for the same rows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.models import Event
from casewatch.storage.engine import json_text
from casewatch.storage.schema import events, sqlite_datetime

_INSERT = (f"INSERT INTO {events.name} (case_id, type, actor, occurred_at, recorded_at, payload) "
           "VALUES (?, ?, ?, ?, ?, ?)")


async def append_events(conn: AsyncConnection, new: list[Event]) -> list[int]:
    """Insert the events (as `convert.event_values` has them); their ids, in order. A SQLite writer
    holds the write lock (BEGIN IMMEDIATE) and the log is never deleted from, so the ids are the
    next ones in order; SQLite's last rowid confirms it."""
    first = (await conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) + 1 FROM {events.name}")).scalar_one()
    await conn.exec_driver_sql(_INSERT, [
        (event.case_id, event.type.value, event.actor, sqlite_datetime(event.occurred_at),
         sqlite_datetime(event.recorded_at), json_text(event.payload)) for event in new])
    last = (await conn.exec_driver_sql("SELECT last_insert_rowid()")).scalar_one()
    if last != first + len(new) - 1:
        raise RuntimeError(f"events got ids up to {last}, not {first}..{first + len(new) - 1}: nothing was written")
    return list(range(first, last + 1))
