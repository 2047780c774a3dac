"""What an imported ticket changes on the board: pure decisions, the store runs them.

The rule of every import: **it never undoes a decision taken on the board.** A linked case keeps
the tracker's values as last seen (`Case.source_seen`); a later import applies only the values
that changed in the tracker since, each as the command a person would give, marked `via` the
source. A value the tracker still holds as before leaves the case as the board left it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from casewatch.core import commands as c
from casewatch.core.models import WEB_ADDRESS, Case, Person, SourceLink, Status
from casewatch.core.rules import EARLIEST
from casewatch.core.text import LIMITS, cut, visible
from casewatch.core.tracker import Refusal, Source, Ticket

FollowUp = Callable[[str], c.Command]  # given the new case's id
Planned = tuple[c.Command | FollowUp, datetime | None]  # a command and when it happened (None: now)
Outcome = Literal["create", "update", "unchanged", "dropped"]  # dropped: a synced ticket stopped matching
SEEN_FIELDS = ("severity", "status", "owner", "title")


@dataclass(frozen=True)
class TicketPlan:
    """What one ticket does: the commands to run, and the changes in words (for the summary)."""

    ticket: Ticket
    outcome: Outcome
    commands: list[Planned] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    case_id: str | None = None


def seen_values(ticket: Ticket) -> dict[str, str]:
    """The tracker's values an import compares with the last import's (the title as it is kept)."""
    return {"severity": ticket.priority, "status": ticket.status, "owner": ticket.assignee,
            "title": _title(ticket)}


def _title(ticket: Ticket) -> str:
    return cut(ticket.title.strip() or f"ticket {ticket.id}", LIMITS["title"])


def _cut_note(what: str, text: str, limit: int) -> str:
    return f"the tracker's {what} was cut to {limit} characters (it has {len(text)})"


def _unmapped(source: Source, user: str) -> str:
    return cut(f"assignee {visible(user)} is not mapped to anyone on the roster (see [sources.{source.name}.people])",
               LIMITS["reason"])


def plan_ticket(ticket: Ticket, case: Case | None, source: Source, roster: Mapping[str, Person],
                now: datetime) -> TicketPlan | Refusal:
    """What importing `ticket` does: a new case when none is linked to it, else only what changed
    in the tracker since the case's last import; a Refusal when it cannot be imported."""
    severity = source.severity(ticket.priority)
    if severity is None and (case is None or ticket.priority != case.source_seen.get("severity")):
        return Refusal(ticket.line, f"priority {visible(ticket.priority)!r} is not mapped and source "
                                    f"{source.name} has no default_severity")
    if case is None:
        return _plan_new(ticket, source, roster, now)
    return _plan_known(ticket, case, source, roster)


def _plan_new(ticket: Ticket, source: Source, roster: Mapping[str, Person], now: datetime) -> TicketPlan | Refusal:
    severity = source.severity(ticket.priority)
    assert severity is not None
    at = ticket.escalated_at or ticket.created_at
    if at is not None and at > now:
        return Refusal(ticket.line, f"its escalation time {at.isoformat()} is in the future")
    if at is not None and at < EARLIEST:
        return Refusal(ticket.line, f"its escalation time {at.isoformat()} is before 2000")
    customer_text = ticket.customer.strip() or "unknown"
    url = ticket.url or source.url(ticket.id)
    link = SourceLink(name=source.name, kind=source.kind, id=ticket.id,
                      url=url if url is not None and WEB_ADDRESS.fullmatch(url) else None)  # never `javascript:`
    commands: list[Planned] = [(c.ImportTicket(
        title=_title(ticket), customer=cut(customer_text, LIMITS["customer"]), severity=severity, source=link,
        seen=seen_values(ticket)), at)]

    def then(make: FollowUp) -> None:
        commands.append((make, at))

    via = source.name
    for what, text, limit in (("subject", ticket.title.strip(), LIMITS["title"]),
                              ("organization", customer_text, LIMITS["customer"])):
        if len(text) > limit:
            then(_noting(_cut_note(what, text, limit), via))
    status = source.status(ticket.status)
    if status is not None and status is not Status.NEW:
        moved: Status = status
        then(lambda case_id: c.ChangeStatus(case_id=case_id, status=moved, via=via))
    if ticket.assignee.strip():
        owner = source.person(ticket.assignee, roster)
        if owner is not None:
            then(lambda case_id: c.Assign(case_id=case_id, name=owner, via=via))
        else:
            then(_noting(_unmapped(source, ticket.assignee), via))
    return TicketPlan(ticket, "create", commands)


def _noting(text: str, via: str) -> FollowUp:
    return lambda case_id: c.Note(case_id=case_id, text=text, via=via)


def _plan_known(ticket: Ticket, case: Case, source: Source, roster: Mapping[str, Person]) -> TicketPlan:
    """Only what the tracker changed since the last import, and only where the case differs."""
    before, seen, via = case.source_seen, seen_values(ticket), source.name
    changed = {name for name in SEEN_FIELDS if seen[name] != before.get(name)}
    if not changed:
        return TicketPlan(ticket, "unchanged", case_id=case.id)
    first: list[c.Command] = []
    middle: list[c.Command] = []
    last: list[c.Command] = []
    words: list[str] = []
    status = source.status(ticket.status) if "status" in changed else None
    reopens = case.status is Status.RESOLVED and status is not None and status is not Status.RESOLVED
    stays_resolved = case.status is Status.RESOLVED and not reopens
    if reopens:
        first.append(c.Reopen(case_id=case.id, via=via))
        words.append("reopened")
        if status not in (Status.NEW, Status.INVESTIGATING):
            last.append(c.ChangeStatus(case_id=case.id, status=status, via=via))
    elif status is not None and status is not Status.NEW and status is not case.status and not stays_resolved:
        last.append(c.ChangeStatus(case_id=case.id, status=status, via=via))
        words.append(f"status {case.status.value} → {status.value}")
    if "severity" in changed and not stays_resolved:
        severity = source.severity(ticket.priority)
        if severity is not None and severity is not case.severity:
            reason = cut(f"{source.name}: priority {visible(before.get('severity', ''))!r} → "
                         f"{visible(ticket.priority)!r}", LIMITS["reason"])
            middle.append(c.ChangeSeverity(case_id=case.id, severity=severity, reason=reason, via=via))
            words.append(f"severity {case.severity.value} → {severity.value}")
    if "owner" in changed and ticket.assignee.strip() and not stays_resolved:
        owner = source.person(ticket.assignee, roster)
        if owner is None:
            middle.append(c.Note(case_id=case.id, text=_unmapped(source, ticket.assignee), via=via))
        elif owner != case.internal_owner:
            middle.append(c.Assign(case_id=case.id, name=owner, via=via))
            words.append(f"owner {case.internal_owner or 'nobody'} → {owner}")
    if "title" in changed and seen["title"] != case.title:
        middle.append(c.Retitle(case_id=case.id, title=seen["title"], via=via))
        words.append("title")
        if len(ticket.title.strip()) > LIMITS["title"]:
            middle.append(c.Note(case_id=case.id, text=_cut_note("subject", ticket.title.strip(), LIMITS["title"]),
                                 via=via))
    last.append(c.SeeTicket(case_id=case.id, seen=seen, via=via))
    return TicketPlan(ticket, "update", [(command, None) for command in first + middle + last], words, case.id)


@dataclass
class ImportReport:
    """What an import did (or, dry, would do): the summary line and `--json` are made from it."""

    created: int = 0
    updated: list[TicketPlan] = field(default_factory=list)
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)
    created_ids: list[str] = field(default_factory=list)

    def count(self, plan: TicketPlan) -> None:
        if plan.outcome == "create":
            self.created += 1
        elif plan.outcome == "update":
            self.updated.append(plan)
        else:
            self.unchanged += 1

    def line(self, *, dry_run: bool, shown: int = 3) -> str:
        """"would create 41, update 3 (CW-1042: severity SEV3 → SEV2), leave 120 unchanged, refuse 2
        (line 17: …)", or the same in the past tense after a real run."""
        verbs = ("would create", "update", "leave", "refuse") if dry_run else ("created", "updated", "left", "refused")
        parts = [f"{verbs[0]} {self.created}", f"{verbs[1]} {len(self.updated)}" + _listed(
            [f"{plan.case_id}: {', '.join(plan.changes) or 'tracker values recorded'}" for plan in self.updated],
            shown), f"{verbs[2]} {self.unchanged} unchanged"]
        if self.refused:
            parts.append(f"{verbs[3]} {len(self.refused)}" + self.refusals(shown))
        return visible(", ".join(parts))

    def refusals(self, shown: int = 3) -> str:
        """" (line 17: no id; line 40: …; 2 more)": the first refused lines, for a line of output."""
        return visible(_listed([r.text() for r in self.refused], shown))

    def as_json(self, *, dry_run: bool) -> dict:
        return {"dry_run": dry_run, "created": self.created, "updated": len(self.updated),
                "unchanged": self.unchanged, "refused": len(self.refused),
                "changes": [{"case": plan.case_id, "changes": plan.changes} for plan in self.updated],
                "refused_lines": [{"line": r.line, "reason": r.reason} for r in self.refused],
                "created_cases": self.created_ids}


def _listed(items: list[str], shown: int) -> str:
    if not items:
        return ""
    more = f"; {len(items) - shown} more" if len(items) > shown else ""
    return f" ({'; '.join(items[:shown])}{more})"
