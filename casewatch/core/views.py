"""Read models shared by the CLI and the board: the case summary, its flags and timeline lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from casewatch.core.calendars import iso_z_us
from casewatch.core.clocks import CaseClocks, ClockReading, ClockState, missing_roles
from casewatch.core.events import EVENTS
from casewatch.core.evidence import case_readiness
from casewatch.core.listing import CaseListing
from casewatch.core.models import Case, Event, Severity, SourceLink, Status, iso_z
from casewatch.core.policy import Policy
from casewatch.core.text import counted, unseen_removed


def authority_label(case: Case, shift_lead: str | None) -> str:
    """Who may change the route: the case's named authority, else the shift lead of the moment."""
    if case.route_authority:
        return case.route_authority
    return f"{shift_lead} (shift lead)" if shift_lead else "any lead"


def case_flags(case: Case, policy: Policy, shift_lead: str | None = None) -> list[str]:
    """What needs a lead's attention besides the clocks, in words: nothing, once the case is
    resolved (its owners, roles and evidence matter again if it is reopened)."""
    if case.status is Status.RESOLVED:
        return []
    flags = []
    if case.internal_owner is None:
        flags.append("no internal owner")
    if case.comms_owner is None:
        flags.append("no comms owner")
    if case.route_review_needed:
        flags.append(f"route review needed (policy says {policy[case.severity].route})")
    flags += [f"missing role: {role}" for role in missing_roles(case, policy, shift_lead)]
    if case.returned is not None:
        r = case.returned
        flags.append(f"returned by {r.by} from {r.from_route}: needs {', '.join(r.keys)} ({r.reason})")
    elif case.route != "support":  # escalated (to incident, or past the gate by override) with gaps
        ready = case_readiness(case, policy.evidence)
        if not ready.complete:
            flags.append(f"evidence not ready: {ready.not_ready}")
    return flags


def clock_json(reading: ClockReading) -> dict[str, Any]:
    due = reading.due_us
    return {"due": None if due is None else iso_z_us(due), "state": reading.state.value,
            "remaining_s": reading.remaining_s}


def case_summary(listing: CaseListing, now: datetime) -> dict[str, Any]:
    """The object `casewatch cases --json` prints for one case."""
    ready = listing.readiness
    return {
        "id": listing.id,
        "title": listing.title,
        "customer": listing.customer,
        "severity": listing.severity.value,
        "status": listing.status.value,
        "route": listing.route,
        "internal_owner": listing.internal_owner,
        "comms_owner": listing.comms_owner,
        "escalated_at": iso_z(listing.escalated_at),
        "clocks": {kind.value: clock_json(reading) for kind, reading in listing.clocks.read(now).items()},
        "evidence": {"ready": ready.ready, "required": ready.required, "missing": list(ready.missing),
                     "returned": listing.returned, "gate_overrides": listing.gate_overrides},
        "version": listing.version,
        "source": listing.source.as_json() if listing.source else None,
    }


class Listed(Protocol):
    """What the filters and views read: a case, or its listing."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def customer(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def route(self) -> str: ...
    @property
    def internal_owner(self) -> str | None: ...
    @property
    def comms_owner(self) -> str | None: ...
    @property
    def route_authority(self) -> str | None: ...
    @property
    def source(self) -> SourceLink | None: ...
    @property
    def severity(self) -> Severity: ...


def linked_title(source: SourceLink | None, title: str) -> str:
    """A title as lists show it: after its ticket key on a linked case (`ZD-48213 Checkout fails`)."""
    return f"{source.key} {title}" if source else title


def ticket_words(source: SourceLink | None) -> str:
    """What finds a linked case by its ticket: the key as shown (`ZD-48213`) and the bare id."""
    return f"{source.key} {source.id}" if source else ""


def case_haystack(case: Listed) -> str:
    """What a plain filter word is looked for in: the case's id, ticket, title, customer, owners,
    route, status and severity (`ravi sev2`), folded, without invisible characters (`AC\u200bME` is
    found by ACME)."""
    return unseen_removed(" ".join((case.id, ticket_words(case.source), case.title, case.customer,
                                    case.internal_owner or "", case.comms_owner or "", case.route,
                                    case.status.value, case.severity.value))).casefold()


def is_mine(case: Listed, viewer: str, shift_lead: str | None = None) -> bool:
    """The viewer's own case: they are its internal owner, its comms owner or its named route
    authority; and for the shift lead, every case with no named route authority as well (the
    route is the shift lead's to change then, see `authority_label`)."""
    if viewer in (case.internal_owner, case.comms_owner, case.route_authority):
        return True
    return case.route_authority is None and shift_lead is not None and viewer == shift_lead


def is_unowned(case: Listed) -> bool:
    """Unowned, everywhere the word is used: no internal owner, or no comms owner."""
    return case.internal_owner is None or case.comms_owner is None


def is_waiting(case: Listed) -> bool:
    """Waiting on the customer."""
    return case.status is Status.WAITING_ON_CUSTOMER


def is_breached(clocks: CaseClocks, now: datetime) -> bool:
    """Any of the case's clocks is past its deadline."""
    return any(reading.state is ClockState.BREACHED for reading in clocks.read(now).values())


def needs_attention(case: Listed, clocks: CaseClocks, now: datetime) -> bool:
    """Breached or unowned: what the board's `]` and `[` visit."""
    return is_unowned(case) or is_breached(clocks, now)


NEED_OWNERS = "need owners"
"""What the board calls cases without an internal or a comms owner (the `o` view, the ⚑ counts); the
metrics' "still without an owner" counts escalations with no internal owner yet."""


class View(StrEnum):
    """The board's one-key views (`m`, `o`, `w`, `b`; Esc for all) and `casewatch cases --mine` and the like."""

    ALL = "all"
    MINE = "mine"
    UNOWNED = "unowned"
    WAITING = "waiting"
    BREACHED = "breached"


def in_view(view: View, case: Listed, clocks: CaseClocks, viewer: str, now: datetime,
            shift_lead: str | None = None) -> bool:
    if view is View.MINE:
        return is_mine(case, viewer, shift_lead)
    if view is View.UNOWNED:
        return is_unowned(case)
    if view is View.WAITING:
        return is_waiting(case)
    if view is View.BREACHED:
        return is_breached(clocks, now)
    return True


def next_match(order: Sequence[str], current: str | None, step: int, matches: Callable[[str], bool]) -> str | None:
    """The id after `current` in `order` (before it when `step` is -1) that matches, wrapping
    around; from no current id, the first (or last) match. None when nothing matches."""
    count = len(order)
    start = order.index(current) if current in order else (-1 if step > 0 else count)
    for offset in range(1, count + 1):
        candidate = order[(start + step * offset) % count]
        if matches(candidate):
            return candidate
    return None


NO_DEADLINE = 2**63


def deadline_order(case_id: str, clocks: CaseClocks) -> tuple[int, str]:
    """Within a severity: nearest running deadline first, cases with none last, then by id."""
    due = clocks.nearest_due_us
    return (NO_DEADLINE if due is None else due, case_id)


def listing_order(listings: Iterable[CaseListing]) -> list[CaseListing]:
    """Open cases as the board orders them: by severity, then `deadline_order`."""
    return sorted(listings, key=lambda listing: (listing.severity, *deadline_order(listing.id, listing.clocks)))


def describe_event(event: Event) -> str:
    """One line for the timeline, with before → after where the event changes a value (see core.events)."""
    text = EVENTS[event.type].describe(event.payload)
    via = event.payload.get("via")
    return f"{text} (via {via})" if via else text


def conflict_message(case: Case, expected: int, newer: Sequence[Event], shown: int = 3) -> str:
    """One line for a command decided from version `expected` of a case that has moved on: who
    changed it, when, and what (the newest `shown` changes, each cut to one short line)."""
    when = case.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    who = ", ".join(dict.fromkeys(event.actor for event in newer)) or case.updated_by
    what = "; ".join(_short(describe_event(event)) for event in newer[-shown:])
    earlier = len(newer) - shown
    if earlier > 0:
        what += f" (after {counted(earlier, 'earlier change')})"
    changed = f": {what}" if what else ""
    return (f"{case.id} was changed by {who} at {when} (now version {case.version}, you had {expected})"
            f"{changed}; nothing was written")


def _short(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id, "type": event.type.value, "actor": event.actor,
        "occurred_at": iso_z(event.occurred_at), "recorded_at": iso_z(event.recorded_at),
        "backfilled": event.backfilled, "summary": describe_event(event), "payload": event.payload,
    }
