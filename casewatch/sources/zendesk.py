"""Zendesk's cursor-based incremental ticket export, read into pages of synced tickets.

`GET /api/v2/incremental/tickets/cursor.json` with `start_time` the first time and `cursor` after
that, until `end_of_stream`; assignees' emails and organizations' names come in the same answer
(`include=users,organizations`). A ticket is an escalation while it carries an escalated tag.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from casewatch.core.sync import Page, Synced
from casewatch.core.tracker import Ticket
from casewatch.sources.http import TrackerClient, TrackerUnavailable
from casewatch.sources.pages import PageShape, at_time, field, text

EXPORT = "/api/v2/incremental/tickets/cursor.json"
FIRST_SYNC = timedelta(days=30)  # how far back a source's first sync reads
START = "start:"  # a saved cursor that is still a start time (no page read yet)


def first_cursor(now: datetime) -> str:
    return f"{START}{int((now - FIRST_SYNC).timestamp())}"


CURSOR_MAX = 512  # characters: Zendesk's cursors are base64 text of a few dozen
_CURSOR = re.compile(r"[A-Za-z0-9+/=_.-]+")


def cursor_doubt(cursor: str, now: datetime) -> str | None:
    """Why a saved cursor is none a sync saves (members may write it; a 70 kB one made every request
    too long), or None when it may be one."""
    if cursor.startswith(START):
        start = cursor.removeprefix(START)
        if not (start.isascii() and start.isdigit() and len(start) <= 12 and int(start) <= now.timestamp() + 60):
            return "a start time that is none"
        return None
    if len(cursor) > CURSOR_MAX:
        return f"{len(cursor)} characters long"
    return None if _CURSOR.fullmatch(cursor) else "not of a cursor's characters"


async def zendesk_pages(client: TrackerClient, cursor: str, tags: Sequence[str],
                        per_page: int = 1000) -> AsyncIterator[Page]:
    """The pages after `cursor`, each with the cursor that resumes after it; a repeated cursor stops."""
    wanted, seen = {tag.casefold() for tag in tags}, {cursor}
    while True:
        params: dict[str, Any] = {"include": "users,organizations", "per_page": per_page}
        if cursor.startswith(START):
            params["start_time"] = cursor.removeprefix(START)
        else:
            params["cursor"] = cursor
        body = await client.get(EXPORT, params)
        tickets, after, done = _read(client, body, wanted)
        yield Page(tickets, after)
        if done:
            return
        if after in seen:
            raise TrackerUnavailable(f"source {client.source}: the export gave cursor {after[:40]!r} twice; "
                                     "stopped (what was synced before is kept)")
        seen.add(after)
        cursor = after


def _read(client: TrackerClient, body: Any, wanted: set[str]) -> tuple[list[Synced], str, bool]:
    where = f"source {client.source}: a page of {EXPORT}"
    tickets = field(body, "tickets", list, where)
    after = field(body, "after_cursor", str, where)
    done = field(body, "end_of_stream", bool, where)
    users = {u.get("id"): u for u in (body.get("users") or []) if isinstance(u, dict)}
    orgs = {o.get("id"): o for o in (body.get("organizations") or []) if isinstance(o, dict)}
    read = []
    for raw in tickets:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
            raise PageShape(f"{where} holds a ticket without a numeric id")
        read.append(_ticket(client, raw, users, orgs, wanted, where))
    return read, after, done


def _ticket(client: TrackerClient, raw: dict, users: dict, orgs: dict, wanted: set[str], where: str) -> Synced:
    number = str(raw["id"])
    where = f"{where}, ticket {number}"
    assignee_id = raw.get("assignee_id")
    user = users.get(assignee_id) or {}
    org = orgs.get(raw.get("organization_id")) or {}
    tags = raw.get("tags") or []
    if not isinstance(tags, list):
        raise PageShape(f"{where}: tags is not a list")
    ticket = Ticket(
        id=number, title=text(raw.get("subject")), customer=text(org.get("name")),
        priority=text(raw.get("priority")), status=text(raw.get("status")),
        assignee=text(user.get("email")) or ("" if assignee_id is None else str(assignee_id)),
        created_at=at_time(raw.get("created_at"), where), updated_at=at_time(raw.get("updated_at"), where),
        url=f"{client.base_url}/agent/tickets/{number}")
    return Synced(ticket, any(isinstance(t, str) and t.casefold() in wanted for t in tags))
