"""The policy history as the log records it: its `policy_applied` events, read in one query."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.errors import InvalidInput
from casewatch.core.models import EventType
from casewatch.core.policy_history import PolicyHistory
from casewatch.storage import convert
from casewatch.storage.schema import events


async def load_policy_history(conn: AsyncConnection, where: str) -> PolicyHistory:
    """Every policy the log applied and when it took force. `where` names the database for the
    error when it applied none."""
    rows = await conn.execute(select(events).where(events.c.type == EventType.POLICY_APPLIED.value)
                              .order_by(events.c.id))
    history = PolicyHistory.from_log(convert.event_from_row(row) for row in rows)
    if history is None:
        raise InvalidInput(f"{where} has no policy; run `casewatch db upgrade`")
    return history
