"""Tracker tickets into linked cases, through the batched write path `seed-demo` takes.

Each batch of tickets is one transaction, planned inside it from the cases already linked to
them (core.ticket_import decides): a killed import leaves whole cases, and running it again
creates only the ones missing and changes nothing the first run already applied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from casewatch.bulk_load import bulk_allocation
from casewatch.core.errors import NotFound
from casewatch.core.models import Case, EventType, Person
from casewatch.core.permissions import Action, check
from casewatch.core.ticket_import import ImportReport, TicketPlan, plan_ticket
from casewatch.core.tracker import Refusal, Source, Ticket
from casewatch.storage.store import BatchItem, Store

Progress = Callable[[int, int], None]
BATCH_TICKETS = 200  # tickets per transaction, as seed-demo's cases
_READ_CHUNK = 500


async def importer(store: Store, actor: str) -> dict[str, Person]:
    """The roster, once `actor` is found on it as someone who may import (a lead)."""
    roster = await store.roster()
    if actor not in roster:
        raise NotFound(f"{actor!r} is not on the roster of {store.target.describe()}: importing needs a lead")
    check(roster[actor], Action.IMPORT)
    return roster


async def plan_import(store: Store, source: Source, tickets: Sequence[Ticket],
                      roster: dict[str, Person]) -> tuple[ImportReport, list[Ticket]]:
    """What importing `tickets` would do now (nothing is written), and the tickets it would import."""
    report, good = ImportReport(), []
    now = store.clock()
    for first in range(0, len(tickets), _READ_CHUNK):
        chunk = tickets[first:first + _READ_CHUNK]
        found = await store.linked_cases(source.name, [t.id for t in chunk])
        for ticket in chunk:
            plan = plan_ticket(ticket, found.get(ticket.id), source, roster, now)
            if isinstance(plan, Refusal):
                report.refused.append(plan)
            else:
                report.count(plan)
                good.append(ticket)
    return report, good


async def write_tickets(store: Store, source: Source, tickets: Sequence[Ticket], actor: str,
                        roster: dict[str, Person], progress: Progress | None = None) -> ImportReport:
    """Import `tickets` as `actor`, a batch per transaction; returns what was done."""
    report = ImportReport()
    with bulk_allocation(freeze=False):
        for first in range(0, len(tickets), BATCH_TICKETS):
            await _write_batch(store, source, tickets[first:first + BATCH_TICKETS], actor, roster, report)
            if progress is not None:
                progress(min(first + BATCH_TICKETS, len(tickets)), len(tickets))
    return report


async def _write_batch(store: Store, source: Source, tickets: Sequence[Ticket], actor: str,
                       roster: dict[str, Person], report: ImportReport) -> None:
    decided: list[TicketPlan | Refusal] = []

    def plan(found: dict[str, Case]) -> list[BatchItem]:
        """Run inside the transaction, again on each retry: only the last attempt's plans count."""
        decided.clear()
        items: list[BatchItem] = []
        now = store.clock()
        for ticket in tickets:
            outcome = plan_ticket(ticket, found.get(ticket.id), source, roster, now)
            decided.append(outcome)
            if not isinstance(outcome, Refusal):
                items.extend((command, actor, at) for command, at in outcome.commands)
        return items

    outcomes = await store.execute_linked(source.name, [t.id for t in tickets], plan)
    for outcome in decided:
        if isinstance(outcome, Refusal):
            report.refused.append(outcome)
        else:
            report.count(outcome)
    report.created_ids.extend(o.event.case_id for o in outcomes
                              if o.event.type is EventType.CASE_CREATED and o.event.case_id)
