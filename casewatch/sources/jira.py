"""Jira Cloud's issue search (`POST /rest/api/3/search/jql`), read into pages of synced tickets.

The configured JQL gains `updated >= -Nm` (the time since the last sync plus an overlap: a relative
time, so the Jira user's time zone does not matter) and `ORDER BY updated ASC`; pages follow
`nextPageToken` until `isLast`. The saved cursor is the latest `updated` of the pages committed;
issues read again in the overlap are dropped within a pass and unchanged across passes. Status goes
by `statusCategory` unless the source's own status table names the status. The changelog is not
read: an issue's escalation time is the `updated` in which the sync first saw it match. Linked
issues changed since the last sync are asked for again with `NOT (JQL)`: those that left the query
stopped matching.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from casewatch.core.sync import Page, Synced
from casewatch.core.tracker import Ticket
from casewatch.sources.http import TrackerClient, TrackerUnavailable
from casewatch.sources.pages import PageShape, at_time, field, text

SEARCH = "/rest/api/3/search/jql"
OVERLAP = timedelta(minutes=10)  # Jira's search is eventually consistent: read this much again
FIRST_SYNC = timedelta(days=30)
FIELDS = ["summary", "priority", "status", "assignee", "created", "updated", "components", "labels"]
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)
CATEGORY = {"new": "to do", "indeterminate": "in progress", "done": "done"}  # words the default table maps


def cursor_doubt(cursor: str, now: datetime) -> str | None:
    """Why a saved cursor is none a sync saves (members may write it): it is the time of the latest
    issue read, so an aware time, not in the future. None when it may be one."""
    if len(cursor) > 40:
        return f"{len(cursor)} characters long"
    try:
        when = datetime.fromisoformat(cursor)
    except ValueError:
        return "not a time"
    if when.tzinfo is None:
        return "a time without its offset"
    return "a time in the future" if when > now + timedelta(minutes=1) else None


def search_jql(jql: str, cursor: str | None, now: datetime) -> str:
    """The configured query (without its own ORDER BY: the sync orders by `updated`), limited to what
    changed since `cursor` (a saved time) less the overlap."""
    jql = _ORDER_BY.split(jql, maxsplit=1)[0].strip()
    since = datetime.fromisoformat(cursor) if cursor else now - FIRST_SYNC
    minutes = max(1, math.ceil((now - since + OVERLAP).total_seconds() / 60))
    return f"({jql}) AND updated >= -{minutes}m ORDER BY updated ASC"


async def jira_pages(client: TrackerClient, jql: str, cursor: str | None, now: datetime,
                     own_statuses: Collection[str], per_page: int = 100) -> AsyncIterator[Page]:
    """The pages of issues matching `jql` changed since `cursor`; a repeated page token stops."""
    async for page in _search(client, search_jql(jql, cursor, now), cursor, own_statuses, per_page):
        yield page


async def _search(client: TrackerClient, query: str, cursor: str | None, own_statuses: Collection[str],
                  per_page: int) -> AsyncIterator[Page]:
    body: dict[str, Any] = {"jql": query, "maxResults": per_page, "fields": FIELDS}
    tokens: set[str] = set()
    read: dict[str, Ticket] = {}
    latest = datetime.fromisoformat(cursor) if cursor else None
    own = {status.casefold() for status in own_statuses}
    while True:
        answer = await client.post(SEARCH, body)
        where = f"source {client.source}: a page of {SEARCH}"
        issues = field(answer, "issues", list, where)
        last = answer.get("isLast")
        token = answer.get("nextPageToken")
        if not isinstance(last, bool) or (not last and not isinstance(token, str)):
            raise PageShape(f"{where} has neither isLast true nor a nextPageToken")
        page = []
        for raw in issues:
            synced = _issue(client, raw, own, where)
            before = read.get(synced.ticket.id)
            if before is not None and before.same_as(synced.ticket):
                continue  # read again in the overlap, unchanged
            read[synced.ticket.id] = synced.ticket
            page.append(synced)
            updated = synced.ticket.updated_at
            latest = updated if latest is None or (updated is not None and updated > latest) else latest
        yield Page(page, latest.astimezone(UTC).isoformat() if latest else cursor)
        if last:
            return
        if token in tokens:
            raise TrackerUnavailable(f"source {client.source}: the search gave nextPageToken {token[:40]!r} twice; "
                                     "stopped (what was synced before is kept)")
        tokens.add(token)
        body["nextPageToken"] = token


async def jira_dropped(client: TrackerClient, jql: str, keys: Sequence[str], cursor: str | None, now: datetime,
                       own_statuses: Collection[str], per_page: int = 100) -> AsyncIterator[Page]:
    """The linked issues (`keys`) that changed since `cursor` and no longer match `jql`, as pages
    of tickets that stopped matching (the cursor stays where it was)."""
    for first in range(0, len(keys), per_page):
        chunk = ", ".join('"' + key.replace('"', "") + '"' for key in keys[first:first + per_page])
        query = search_jql(f"key in ({chunk}) AND NOT ({jql})", cursor, now)
        async for page in _search(client, query, cursor, own_statuses, per_page):
            yield Page([Synced(synced.ticket, False) for synced in page.tickets], cursor)


def _issue(client: TrackerClient, raw: Any, own: set[str], where: str) -> Synced:
    key = raw.get("key") if isinstance(raw, dict) else None
    if not isinstance(key, str) or not key:
        raise PageShape(f"{where} holds an issue without a key")
    where = f"{where}, issue {key}"
    fields = field(raw, "fields", dict, where)
    status = fields.get("status") or {}
    name = text(status.get("name"))
    category = text((status.get("statusCategory") or {}).get("key"))
    assignee = fields.get("assignee") or {}
    components = [c.get("name") for c in fields.get("components") or [] if isinstance(c, dict)]
    ticket = Ticket(
        id=key, title=text(fields.get("summary")), customer=text(components[0]) if components else "",
        priority=text((fields.get("priority") or {}).get("name")),
        status=name if name.casefold() in own else CATEGORY.get(category, name),
        assignee=text(assignee.get("emailAddress")) or text(assignee.get("accountId")),
        created_at=at_time(fields.get("created"), where), updated_at=at_time(fields.get("updated"), where),
        url=f"{client.base_url}/browse/{key}")
    return Synced(ticket, True)
