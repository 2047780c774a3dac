"""Live tracker syncs, the pure part: what a synced page changes on the board, the one-line summary
of a pass, a source's state as the status line says it, and how a failing `--follow` backs off.

A synced ticket is planned as an imported one (core.ticket_import, never undoing the board), with
two differences: its escalation time is when it started matching (not its creation), and a linked
ticket that stops matching leaves its case in place with a timeline line saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from casewatch.core import commands as c
from casewatch.core.models import Case, Person
from casewatch.core.ticket_import import TicketPlan, plan_ticket, seen_values
from casewatch.core.tracker import Refusal, Source, Ticket

MATCHING = "escalated"  # the key of `Case.source_seen` a sync keeps: "no" once the ticket stopped matching
LONGEST_BACKOFF = timedelta(minutes=10)


@dataclass(frozen=True)
class Synced:
    """A ticket as a sync read it, and whether it matches the source's escalation rule now."""

    ticket: Ticket
    matching: bool


@dataclass(frozen=True)
class Page:
    """One page of a tracker's answer and the cursor that resumes after it (saved with its cases)."""

    tickets: list[Synced]
    cursor: str | None

    def latest(self) -> list[Synced]:
        """Each ticket once, as the page last gives it (an export may list a ticket twice when it
        changed while being read; two plans for one new ticket would make it twice)."""
        return list({synced.ticket.id: synced for synced in self.tickets}.values())


def escalated_at(ticket: Ticket) -> datetime | None:
    """When a newly seen matching ticket became an escalation: the change in which the sync first
    saw it match (its `updated_at`), never its creation unless it has not changed since."""
    return ticket.escalated_at or ticket.updated_at or ticket.created_at


def plan_synced(synced: Synced, case: Case | None, source: Source, roster: Mapping[str, Person],
                now: datetime) -> TicketPlan | Refusal | None:
    """What one synced ticket does; None for a ticket that neither matches nor is linked."""
    ticket, via = synced.ticket, source.name
    if not synced.matching:
        if case is None:
            return None
        if case.source_seen.get(MATCHING) == "no":
            return TicketPlan(ticket, "unchanged", case_id=case.id)
        seen = case.source_seen | {MATCHING: "no"}
        return TicketPlan(ticket, "dropped", [
            (c.Note(case_id=case.id, text=f"no longer escalated in {via}", via=via), None),
            (c.SeeTicket(case_id=case.id, seen=seen, via=via), None)], [f"no longer escalated in {via}"], case.id)
    if case is None:
        at = escalated_at(ticket)
        return plan_ticket(ticket.model_copy(update={"escalated_at": at and min(at, now)}), None, source, roster, now)
    planned = plan_ticket(ticket, case, source, roster, now)
    if isinstance(planned, Refusal) or case.source_seen.get(MATCHING) != "no":
        return planned
    again: list = [(c.Note(case_id=case.id, text=f"escalated again in {via}", via=via), None)]
    if planned.outcome == "unchanged":
        again.append((c.SeeTicket(case_id=case.id, seen=seen_values(ticket), via=via), None))
    return TicketPlan(ticket, "update", again + planned.commands, [f"escalated again in {via}", *planned.changes],
                      case.id)


@dataclass
class SyncReport:
    """What one pass of one source did: "zd: 3 new, 2 changed, 40 unchanged, 1 no longer escalated"."""

    source: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    dropped: int = 0
    refused: list[Refusal] = field(default_factory=list)
    pages: int = 0
    created_ids: list[str] = field(default_factory=list)

    def count(self, plan: TicketPlan | Refusal) -> None:
        if isinstance(plan, Refusal):
            self.refused.append(plan)
        elif plan.outcome == "create":
            self.new += 1
        elif plan.outcome == "update":
            self.changed += 1
        elif plan.outcome == "dropped":
            self.dropped += 1
        else:
            self.unchanged += 1

    @property
    def changed_anything(self) -> bool:
        return bool(self.new or self.changed or self.dropped or self.refused)

    def line(self, *, dry_run: bool = False) -> str:
        would = "would be " if dry_run else ""
        text = (f"{self.source}: {would}{self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
                f"{self.dropped} no longer escalated")
        if self.refused:
            text += f", {len(self.refused)} refused ({self.refused[0].text()})"
        return text

    def as_json(self, *, dry_run: bool = False) -> dict:
        return {"source": self.source, "dry_run": dry_run, "new": self.new, "changed": self.changed,
                "unchanged": self.unchanged, "no_longer_escalated": self.dropped, "pages": self.pages,
                "refused": [r.text() for r in self.refused], "created_cases": self.created_ids}


@dataclass(frozen=True)
class SourceState:
    """Where a source's sync stands (stored; never a secret)."""

    name: str
    cursor: str | None = None
    last_success: datetime | None = None
    failure: str | None = None
    failing_since: datetime | None = None

    def label(self, now: datetime, zone_time: str | None = None) -> str:
        """`zd ✓ 40s ago`, or `zd ✖ 401 since 14:02` (`zone_time`: when it started failing, as the
        viewer reads it); `zd …` before its first pass."""
        if self.failure is not None:
            return f"{self.name} ✖ {self.failure} since {zone_time or '?'}"
        if self.last_success is None:
            return f"{self.name} …"
        return f"{self.name} ✓ {_ago(now - self.last_success)}"


def _ago(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"


def next_wait(every: timedelta, failures: int) -> timedelta:
    """How long `--follow` waits before its next pass: the interval, doubled per failing pass in a
    row, never more than ten minutes (nor less than the interval)."""
    if failures <= 0:
        return every
    return max(every, min(every * 2 ** min(failures, 16), LONGEST_BACKOFF))
