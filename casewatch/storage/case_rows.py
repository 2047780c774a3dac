"""Cases read from their projection rows, which members may write: a row whose state does not
decode (a time no datetime holds, a field of the wrong type) is folded from the log instead, so one
tampered row never stops a board or a listing. `db verify` names it and `db rebuild` repairs it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.errors import InvalidInput
from casewatch.core.models import Case
from casewatch.core.projection import replay_cases
from casewatch.storage import checked_log, convert
from casewatch.storage.failures import UNREADABLE
from casewatch.storage.schema import cases, events

CASE_ROW = (cases.c.id, convert.CASE_STATE)
"""What to select for `cases_of`: each case's id and stored state."""
STORED_UNREADABLE = (*UNREADABLE, InvalidInput)
"""What decoding a member's write into a case row raises (a model's own check says InvalidInput)."""


def decoded_cases(rows: Iterable[Row], unread: list[str]) -> list[Case]:
    """The cases of these `CASE_ROW` rows whose state decodes; the ids of the others go to `unread`
    (fold them with `folded_cases` once the rows are read)."""
    found: list[Case] = []
    for row in rows:
        try:
            found.append(convert.case_from_state(row.state))
        except STORED_UNREADABLE:
            unread.append(row.id)
    return found


async def folded_cases(conn: AsyncConnection, case_ids: Sequence[str]) -> list[Case]:
    """These cases as the checked fold of their events makes them (ids the log has no case of are left out)."""
    if not case_ids:
        return []
    query = convert.LOGGED.where(events.c.case_id.in_(case_ids)).order_by(events.c.case_id, events.c.id)
    folded: list[Case] = []
    async for history in checked_log.histories(conn, await checked_log.floor(conn), query):
        folded.extend(replay_cases(history).values())
    return folded


async def cases_of(conn: AsyncConnection, rows: Iterable[Row]) -> list[Case]:
    """The cases of these `CASE_ROW` rows (read already), those that do not decode folded from the log."""
    unread: list[str] = []
    found = decoded_cases(rows, unread)
    return found + await folded_cases(conn, unread)
