"""Write-back's requests: a comment on a Zendesk ticket or a Jira issue, and looking for a
delivery's marker among a ticket's latest comments (before sending again an item whose last send
had no answer).

- Zendesk: `PUT /api/v2/tickets/{id}.json` with `{"ticket": {"comment": {"body", "public"}}}`:
  `body` is plain text (never `html_body`); the comment's id comes back in the ticket's audit.
- Jira: `POST /rest/api/3/issue/{key}/comment` with an ADF body of text nodes (core.write_back.adf)
  and the Service Management property saying whether it is internal (agents only) or public.
- The owner: Zendesk `PUT /api/v2/tickets/{id}.json` with `{"ticket": {"assignee_id": 12345}}`,
  Jira `PUT /rest/api/3/issue/{key}/assignee` with `{"accountId": "…"}` (204); null unassigns.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from casewatch.core import write_back as wb
from casewatch.sources.http import TrackerClient

LOOK_BACK = 100  # the newest comments searched for a marker


def _ticket_path(kind: str, ticket: str) -> str:
    safe = quote(ticket, safe="")
    return f"/api/v2/tickets/{safe}" if kind == "zendesk" else f"/rest/api/3/issue/{safe}/comment"


async def post_comment(client: TrackerClient, kind: str, ticket: str, body: str, public: bool,
                       status: str | None = None) -> str | None:
    """Send `body` as a comment (public: the customer sees it); the tracker's id for it. Zendesk
    sets the ticket's `status` in the same request; Jira's goes by `move_to` afterwards."""
    if kind == "zendesk":
        change: dict[str, Any] = {"comment": {"body": body, "public": public}}
        if status is not None:
            change["status"] = status
        answer = await client.write("PUT", f"{_ticket_path(kind, ticket)}.json", {"ticket": change})
        return _zendesk_comment_id(answer)
    answer = await client.write("POST", _ticket_path(kind, ticket), {
        "body": wb.adf(body),
        "properties": [{"key": "sd.public.comment", "value": {"internal": not public}}]})
    found = answer.get("id") if isinstance(answer, dict) else None
    return str(found) if found is not None else None


async def set_assignee(client: TrackerClient, kind: str, ticket: str, user: str | None) -> None:
    """Make `user` (the tracker's id of the person; None: nobody) the ticket's assignee. The same
    assignee set twice changes nothing, so a send with no answer is simply sent again."""
    if kind == "zendesk":
        await client.write("PUT", f"{_ticket_path(kind, ticket)}.json",
                           {"ticket": {"assignee_id": int(user) if user is not None else None}})
    else:
        await client.write("PUT", f"/rest/api/3/issue/{quote(ticket, safe='')}/assignee", {"accountId": user})


def _zendesk_comment_id(answer: Any) -> str | None:
    events = ((answer or {}).get("audit") or {}).get("events") if isinstance(answer, dict) else None
    for event in events or []:
        if isinstance(event, dict) and event.get("type") == "Comment" and event.get("id") is not None:
            return str(event["id"])
    return None


async def find_marker(client: TrackerClient, kind: str, ticket: str, marker: str, body: str,
                      public: bool) -> str | None:
    """The id of the newest comment that is this delivery (None: none is): one carrying `marker`
    whose whole text is `body` and, on Zendesk, as public as we send it. Anyone who may comment on
    the ticket can write the marker line; a note that merely quotes it is not the delivery."""
    if kind == "zendesk":
        answer = await client.get(f"{_ticket_path(kind, ticket)}/comments.json",
                                  {"sort_order": "desc", "per_page": LOOK_BACK})
        texts = [(c.get("id"), str(c.get("plain_body") or c.get("body") or ""))
                 for c in _list(answer) if c.get("public", public) is public]
    else:
        answer = await client.get(_ticket_path(kind, ticket), {"orderBy": "-created", "maxResults": LOOK_BACK})
        texts = [(c.get("id"), wb.adf_text(c.get("body"))) for c in _list(answer)]
    wanted = _words(body)
    return next((str(found) for found, text in texts
                 if marker in text and _words(text) == wanted and found is not None), None)


def _words(text: str) -> list[str]:
    """A comment's text as trackers may re-wrap it: the words, in order."""
    return text.split()


def _list(answer: Any) -> list[dict]:
    comments = answer.get("comments") if isinstance(answer, dict) else None
    return [c for c in comments or [] if isinstance(c, dict)]


async def move_to(client: TrackerClient, ticket: str, statuses: list[str]) -> bool:
    """Jira: take the issue's transition into one of `statuses` (folded names); False when it
    offers none (it may be there already)."""
    path = f"/rest/api/3/issue/{quote(ticket, safe='')}/transitions"
    answer = await client.get(path)
    offered = answer.get("transitions") if isinstance(answer, dict) else None
    for transition in offered or []:
        target = ((transition or {}).get("to") or {}).get("name") if isinstance(transition, dict) else None
        if isinstance(target, str) and target.strip().casefold() in statuses and transition.get("id") is not None:
            await client.write("POST", path, {"transition": {"id": str(transition["id"])}})
            return True
    return False
