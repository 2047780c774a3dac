"""The policy history as the log records it: its `policy_applied` events that count."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.errors import InvalidInput
from casewatch.core.models import EventType
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.quarantine import CheckedFloor
from casewatch.storage import checked_log


async def load_policy_history(conn: AsyncConnection, where: str, floor: CheckedFloor | None = None) -> PolicyHistory:
    """Every policy the log applied (and the checked fold let count) and when it took force.
    `where` names the database for the error when it applied none; `floor`: the checked floor
    when the caller has it."""
    floor = floor or await checked_log.floor(conn)
    history = PolicyHistory.from_log(e for e in floor.accepted if e.type is EventType.POLICY_APPLIED)
    if history is None:
        raise InvalidInput(f"{where} has no policy; run `casewatch db upgrade`")
    return history
