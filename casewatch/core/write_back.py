"""Write-back, the pure part: which of a linked case's events reach its ticket (and which owner
still matters), the text the customer reads (plain text for Zendesk, Atlassian Document Format
built of text nodes for Jira: never markup that a tracker would interpret), the marker that finds
a delivery again after an unknown outcome, how a failed delivery is retried, and how its state
reads on the case.

An outbox row is queued in the transaction of its event (storage.outbox); a sender claims it,
checks it against the checked fold of the log and sends the body rendered here from the event.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from casewatch.core.models import Event, EventType, Status
from casewatch.core.projection import apply, in_history_order
from casewatch.core.toml_file import TomlTable, rule

UPDATE, NOTE, OWNER = "update", "note", "owner"
KINDS = {EventType.CUSTOMER_UPDATE_LOGGED: UPDATE, EventType.NOTE_ADDED: NOTE, EventType.OWNER_ASSIGNED: OWNER}
QUEUED, SENT, FAILED, DEAD = "queued", "sent", "failed", "dead"
SKIPPED = "skipped"  # an owner a later owner replaced before it was sent: never sent, and nothing wrong
UNDELIVERED = "⚠ update not delivered"  # the flag of a case with a failed or dead delivery
UNDELIVERED_MARK = "⚠ undelivered"  # the same before a board row's title ("⚠" alone on a narrow board)
TRIES = 3  # sends of one item in one pass before it waits for the next pass
FIRST_WAIT, LONGEST_WAIT = timedelta(seconds=30), timedelta(minutes=30)
PERMANENT = (400, 403, 404, 410)  # the ticket is gone, closed to us, or will never take this body
RETRIED_THEN_DEAD = (422,)  # may be a passing state of the ticket: tried again in the pass, then dead
_UNSENDABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029"
                         "\u061c\u200b\u200c\u200e\u200f\u2060-\u2064\ufeff\U000e0000-\U000e007f\ud800-\udfff]")


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


class WriteBack(TomlTable):
    """A source's `[sources.NAME.write_back]` table: what reaches its tickets. Everything is off
    unless turned on."""

    customer_updates: Annotated[bool, rule(_flag)] = False  # a customer update -> a public reply
    notes: Annotated[bool, rule(_flag)] = False  # a case note -> an internal comment
    owner: Annotated[bool, rule(_flag)] = False  # naming the internal owner -> the ticket's assignee
    status: Annotated[bool, rule(_flag)] = False  # an update while waiting on the customer -> the ticket waits too

    def wants(self, kind: str) -> bool:
        return {UPDATE: self.customer_updates, NOTE: self.notes, OWNER: self.owner}.get(kind, False)

    @property
    def on(self) -> bool:
        """Whether anything of this source is written back (its sender runs)."""
        return self.customer_updates or self.notes or self.owner


def kind_of(event: Event) -> str | None:
    """What an event would deliver (None: nothing). What a sync wrote itself (marked `via` the
    source: a note such as "no longer escalated in zd", the ticket's assignee taken as the owner)
    came from the tracker and does not go back to it."""
    if event.payload.get("via"):
        return None
    return KINDS.get(event.type)


def owner_of(event: Event) -> str | None:
    """The handle an owner_assigned event names (None: nobody)."""
    after = event.payload.get("after")
    return after if isinstance(after, str) else None


def later_owner(events: Sequence[Event], event_id: int) -> Event | None:
    """The case's newest owner_assigned event after the one with this id, when there is one (from
    the board or from the tracker itself): the older owner is then never sent, so a retry can
    never set a stale assignee."""
    ordered = list(in_history_order(events))
    at = next((i for i, event in enumerate(ordered) if event.id == event_id), None)
    later = [event for event in ordered[at + 1:] if event.type is EventType.OWNER_ASSIGNED] if at is not None else []
    return later[-1] if later else None


def unmapped(handle: str, source: str) -> str:
    """Why an owner's item is not sent: the source's assignees table does not name them."""
    return f"{handle} has no assignee id in [sources.{source}.assignees]: never sent"


def waiting_at(events: Sequence[Event], event_id: int) -> bool:
    """Whether the case waited on the customer when the event with this id happened (its
    events folded in history order up to it)."""
    case = None
    for event in in_history_order(events):
        case = apply(case, event)
        if event.id == event_id:
            return case.status is Status.WAITING_ON_CUSTOMER
    return False


def waiting_statuses(statuses: Mapping[str, Status], kind: str) -> list[str]:
    """The tracker's statuses the source's status table maps to waiting on the customer (folded
    names), Zendesk's `pending` first: the only ones the ticket may be moved to."""
    names = [name for name, status in statuses.items() if status is Status.WAITING_ON_CUSTOMER]
    return sorted(names, key=lambda name: (not (kind == "zendesk" and name == "pending"), name))


def marker(event: Event) -> str:
    """The last line of every delivery: short, ignorable by the customer, unique to the event."""
    return f"— sent from casewatch (ref {event.case_id}/{event.id})"


def sendable(text: str) -> str:
    """`text` without control, bidirectional, invisible or separator characters (newlines stay,
    CRLF and tabs become a newline and spaces): what a tracker is given."""
    return _UNSENDABLE.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    "))


def due_text(due: datetime, zone: str | None) -> str:
    """The next update's time in the customer's zone (UTC when the case has none), labelled."""
    local = due.astimezone(ZoneInfo(zone or "UTC"))
    return local.strftime("%a %d %b %Y %H:%M ") + (local.tzname() or "UTC")


def body(event: Event, zone: str | None = None) -> str:
    """The text the ticket gets for `event` (an update or a note), its marker last; for an owner,
    the handle its row records (the assignee id is looked up when it is sent)."""
    p = event.payload
    if kind_of(event) == OWNER:
        return f"assignee: {owner_of(event) or 'nobody'}"
    if kind_of(event) == UPDATE:
        lines = [f"What we know: {sendable(p.get('known', ''))}",
                 f"What we are investigating: {sendable(p.get('investigating', ''))}",
                 f"Next milestone: {sendable(p.get('next_milestone', ''))}"]
        due = p.get("next_update_due")
        if isinstance(due, str):
            with contextlib.suppress(ValueError):
                lines.append(f"Next update: by {due_text(datetime.fromisoformat(due), zone)}")
    else:
        lines = [sendable(p.get("text", ""))]
    return "\n".join([*lines, "", marker(event)])


def adf(text: str) -> dict[str, Any]:
    """`text` as an Atlassian Document Format document: a paragraph of one plain `text` node per
    non-empty line. Nothing in `text` is parsed, so `*bold*` or `{panel}` reach Jira as written."""
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}]}
                  for line in text.split("\n") if line]
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_text(node: Any) -> str:
    """Every text node's text in an ADF document, one line per node (to look for a marker)."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "text" and isinstance(node.get("text"), str) else []
        return "\n".join(own + [adf_text(child) for child in node.get("content") or [] if child])
    if isinstance(node, list):
        return "\n".join(adf_text(child) for child in node)
    return ""


def failure_state(status: int | None, tries: int) -> str:
    """After a failed send (`status` None: no answer), the item is `failed` (tried again later) or
    `dead` (never again, unless asked): a permanent refusal at once, a 422 once the pass's tries ran out."""
    if status in PERMANENT or (status in RETRIED_THEN_DEAD and tries >= TRIES):
        return DEAD
    return FAILED


def retried_in_pass(status: int | None) -> bool:
    """Whether the pass tries a failed send again (after a short wait) before leaving it."""
    return status is None or status >= 500 or status in RETRIED_THEN_DEAD


def next_try(now: datetime, attempts: int) -> datetime:
    """When a failed item is tried again: 30 s, doubling per attempt, never more than 30 minutes."""
    return now + min(LONGEST_WAIT, FIRST_WAIT * 2 ** min(max(attempts - 1, 0), 16))


@dataclass(frozen=True)
class Delivery:
    """One outbox row as the case screen and `case show` read it (never a secret)."""

    event_id: int
    source: str
    ticket: str
    kind: str
    state: str
    attempts: int = 0
    last_error: str | None = None
    comment_id: str | None = None
    sent_at: datetime | None = None
    alerted: bool = False  # a board has told its lead that it failed
    due: bool = False  # queued or failed, held by a claim or a wait no sender makes: the next pass takes it

    @property
    def undelivered(self) -> bool:
        """Failed or dead: the board flags the case and the lead is alerted once."""
        return self.state in (FAILED, DEAD)

    def label(self, zone: str = "UTC") -> str:
        """`queued`, `due (…)`, `sent 14:02 (comment 98765)`, `failed (HTTP 422: …, will retry)`, `dead (…)`."""
        if self.state == SENT:
            at = f" {self.sent_at.astimezone(ZoneInfo(zone)):%H:%M}" if self.sent_at else ""
            notes = [f"comment {self.comment_id}"] if self.comment_id else []
            notes += [self.last_error] if self.last_error else []  # (the ticket's status could not follow)
            return f"sent{at} ({'; '.join(notes)})" if notes else f"sent{at}"
        if self.due:
            return "due (held by no sender's lease: the next `casewatch deliver` takes it)"
        if self.state == FAILED:
            return f"failed ({self.last_error or 'no answer'}, will retry)"
        if self.state == SKIPPED:
            return f"not sent ({self.last_error or 'superseded'})"
        if self.state == DEAD:
            return f"not delivered ({self.last_error or 'refused'}; `casewatch deliver --retry` tries again)"
        return QUEUED

    def as_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "source": self.source, "ticket": self.ticket, "kind": self.kind,
                "state": self.state, "due": self.due, "attempts": self.attempts, "error": self.last_error,
                "comment_id": self.comment_id, "sent_at": self.sent_at.isoformat() if self.sent_at else None}
