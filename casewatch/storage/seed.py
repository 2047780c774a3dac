"""Write a core DemoPlan through the normal command path, reporting progress."""

from __future__ import annotations

from collections.abc import Callable

from casewatch.core.demo import DemoPlan
from casewatch.core.errors import InvalidInput, NotFound
from casewatch.core.permissions import Action, check
from casewatch.storage.store import Store

Progress = Callable[[int, int], None]


async def write_demo(store: Store, plan: DemoPlan, lead: str, progress: Progress | None = None, *,
                     append: bool = False) -> list[str]:
    """Execute the plan as real commands, one transaction per case; returns the new case ids.
    `lead` must be a lead (on a new database its creator is); demo cases only join real ones on `append`."""
    roster = await store.roster()
    if lead not in roster:
        raise NotFound(f"{lead!r} is not on the roster of {store.target.describe()}: seeding demo data needs a lead")
    check(roster[lead], Action.SEED_DEMO)
    if not append and await store.has_cases():
        raise InvalidInput(f"{store.target.describe()} already has cases: pass --append to add demo cases to them")
    missing = [person for person in plan.people if person.name not in roster]
    if missing:
        await store.execute_many([(person, lead, None) for person in missing])
    ids = []
    for done, script in enumerate(plan.cases, start=1):
        case_id = (await store.execute(script.new, script.actor, at=script.at)).changed_case.id
        if script.steps:
            await store.execute_many([(step.make(case_id), step.actor, step.at) for step in script.steps])
        ids.append(case_id)
        if progress is not None:
            progress(done, len(plan.cases))
    return ids
