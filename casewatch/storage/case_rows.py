"""Case rows read as the cache they are. Members can write anything into `cases.state`, including
JSON PostgreSQL takes and casewatch cannot decode (`1e400`): each row is decoded on its own, and
one that is no fold of its case (core.stored) is tampering, so that case is folded from the log
instead, or left out when the log has no such case. `db verify` lists the row, `db rebuild`
repairs it; no reader fails on it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.errors import InvalidInput
from casewatch.core.models import Case
from casewatch.core.projection import replay_cases
from casewatch.storage import checked_log, convert
from casewatch.storage.failures import UNREADABLE
from casewatch.storage.schema import cases, events

STATES = select(cases.c.id, cases.c.version, convert.CASE_STATE)
"""The columns `read_cases` reads, in its order: add WHERE (and ORDER BY, LIMIT)."""
CHUNK = 500  # rows per partition, and case ids per IN list
STORED_UNREADABLE = (*UNREADABLE, InvalidInput)
"""What decoding a member's write into a case row raises (a model's own text check says InvalidInput)."""


async def read_cases(conn: AsyncConnection, query: Select) -> list[Case]:
    """The cases of the rows `query` (on `STATES`) chooses, in its order; a tampered row's case as
    the log makes it, after the others."""
    found: list[Case] = []
    tampered: list[str] = []
    async for partition in (await conn.stream(query)).partitions(CHUNK):
        for case_id, version, state in partition:
            case = stored_case(case_id, version, state)
            if case is None:
                tampered.append(case_id)
            else:
                found.append(case)
    found.extend(await from_log(conn, tampered))
    return found


async def cases_named(conn: AsyncConnection, case_ids: Sequence[str]) -> list[Case]:
    """The cases of the rows with these ids, a bounded number at a time (a query takes at most
    32767 arguments, and a board may be told of tens of thousands: a member's NOTIFY)."""
    found: list[Case] = []
    for start in range(0, len(case_ids), CHUNK):
        found.extend(await read_cases(conn, STATES.where(cases.c.id.in_(case_ids[start:start + CHUNK]))))
    return found


def stored_case(case_id: str, version: int, state: str | None) -> Case | None:
    """The case a row holds; None when the row is no fold of it."""
    try:
        return convert.case_from_state(state or "", case_id, version)
    except STORED_UNREADABLE:
        return None


async def from_log(conn: AsyncConnection, case_ids: Sequence[str]) -> list[Case]:
    """These cases as the checked fold of the log makes them (those it has)."""
    if not case_ids:
        return []
    checked = await checked_log.floor(conn)
    found: list[Case] = []
    for start in range(0, len(case_ids), CHUNK):
        query = (convert.LOGGED.where(events.c.case_id.in_(case_ids[start:start + CHUNK]))
                 .order_by(events.c.case_id, events.c.id))
        async for history in checked_log.histories(conn, checked, query):
            found.extend(replay_cases(history).values())
    return found
