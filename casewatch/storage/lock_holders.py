"""Who holds the lock a command gave up waiting for (PostgreSQL), so its one line can say whom the
administrator should ask, or whose session to end (`pg_terminate_backend`).

By the time the lock timeout is reported the wait is over, so `pg_blocking_pids` has nothing to
name: the locks that stop casewatch's writers (a table locked `SHARE` or stronger, an advisory lock:
casewatch's own are per transaction and brief) held by other sessions of this database are listed
instead. Any login may read `pg_locks` and the login of every session; a name is shown as visible
text, whatever a hostile role name holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from casewatch.core.text import visible

_HOLDERS = text("""
    SELECT DISTINCT a.usename AS login, l.locktype AS kind, c.relname AS relation, l.mode AS mode
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    LEFT JOIN pg_class c ON l.locktype = 'relation' AND c.oid = l.relation
    WHERE l.granted AND l.pid <> pg_backend_pid()
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND (l.locktype = 'advisory' OR (l.locktype = 'relation' AND l.mode IN
           ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')))
    ORDER BY 1, 2, 3 LIMIT 4
""")
SHOWN = 3  # holders named in the line


async def lock_holders(engine: AsyncEngine) -> str | None:
    """`held by bob (table cases, ExclusiveLock)`, or None when nothing could be read or found (the
    lock was a row's, or it was released meanwhile)."""
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(_HOLDERS)).all()
    except Exception:  # noqa: BLE001 - only a better message is lost: the timeout is still said
        return None
    return held_by(rows)


def held_by(rows: Sequence) -> str | None:
    """The holders found (login, kind, relation, mode), in one line of visible text."""
    if not rows:
        return None
    named = [f"{visible(str(login))[:63]} ({_what(kind, relation, mode)})"
             for login, kind, relation, mode in rows[:SHOWN]]
    more = ", and others" if len(rows) > SHOWN else ""
    return "held by " + ", ".join(named) + more


def _what(kind: str, relation: str | None, mode: str) -> str:
    if kind == "advisory":
        return "an advisory lock"
    return f"table {visible(str(relation))[:63]}, {visible(mode)}"
