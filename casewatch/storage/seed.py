"""Write a core DemoPlan through the normal command path, reporting progress."""

from __future__ import annotations

from collections.abc import Callable

from casewatch.bulk_load import bulk_allocation
from casewatch.core import commands as c
from casewatch.core.demo import CaseScript, DemoPlan
from casewatch.core.errors import InvalidInput, NotFound
from casewatch.core.models import EventType
from casewatch.core.permissions import Action, check
from casewatch.storage.store import BatchItem, Store

Progress = Callable[[int, int], None]
BATCH_CASES = 200  # cases per transaction: big enough to amortise it, small enough to show progress


async def write_demo(store: Store, plan: DemoPlan, lead: str, progress: Progress | None = None, *,
                     append: bool = False) -> list[str]:
    """Execute the plan as real commands, a batch of cases per transaction (the path imports take);
    returns the new case ids. `lead` must be a lead (on a new database its creator is); demo cases
    only join real ones on `append`."""
    roster = await store.roster()
    if lead not in roster:
        raise NotFound(f"{lead!r} is not on the roster of {store.target.describe()}: seeding demo data needs a lead")
    check(roster[lead], Action.SEED_DEMO)
    if not append and await store.has_cases():
        raise InvalidInput(f"{store.target.describe()} already has cases: pass --append to add demo cases to them")
    missing = [person for person in plan.people if person.name not in roster]
    if missing:
        await store.execute_many([(person, lead, None) for person in missing])
    if plan.shift_started is not None and await store.current_shift() is None:
        await store.execute(c.StartShift(), lead, at=plan.shift_started)  # the seeding lead leads the floor
    ids: list[str] = []
    # The collector pauses for the whole write, not batch by batch: it would scan each batch's
    # outcomes as they are returned, only for them to be dropped right after.
    with bulk_allocation(freeze=False):
        for first in range(0, len(plan.cases), BATCH_CASES):
            ids.extend(await _write_cases(store, plan.cases[first:first + BATCH_CASES]))
            if progress is not None:
                progress(len(ids), len(plan.cases))
    return ids


async def _write_cases(store: Store, scripts: list[CaseScript]) -> list[str]:
    """One transaction: the scripts' cases and their histories; returns the new case ids (the
    outcomes go when it returns)."""
    items: list[BatchItem] = []
    for script in scripts:
        items.append((script.new, script.actor, script.at))
        items.extend((step.make, step.actor, step.at) for step in script.steps)
    outcomes = await store.execute_many(items)
    return [o.event.case_id for o in outcomes if o.event.type is EventType.CASE_CREATED and o.event.case_id]
