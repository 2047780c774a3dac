"""INSERT … ON CONFLICT in the connection's own dialect, imported with it: a SQLite command never
loads SQLAlchemy's PostgreSQL dialects, about 40 ms of every short command's start."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """`insert(table)` with `on_conflict_do_update`/`excluded`, for PostgreSQL or SQLite."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)
