"""The checked fold of the cases a process writes to, kept between its writes.

Every write decides from the case as the checked fold of the log makes it (never the member-
writable row), and that fold checks each event again: on a case with 500 events, a write folded
500 events before it could add one. A process that writes to a case again (a board, a sync, a
bot) now checks only the events the case gained since. What it kept is used only while it still
describes the log: made under the same checked floor (`Store._floor`, folded again whenever a floor
event or a case creation comes), and the log still holding exactly the events it read up to its
last id (members may only add to the log; one they slipped in below that id, or a row a
PostgreSQL writer committed late, changes the count, and the case is checked from the start)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core import metrics
from casewatch.core.models import Case, Event, EventType
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.projection import apply
from casewatch.core.quarantine import CaseCheck, CheckedFloor
from casewatch.storage import convert
from casewatch.storage.schema import events

KEPT = 2000  # cases a process keeps; the least recently written are let go


@dataclass(frozen=True)
class _Kept:
    check: CaseCheck
    facts: metrics.CaseFacts | None  # the metric facts of check.counted() under `policies`
    policies: PolicyHistory | None


class CaseChecks:
    """The checks of the cases this process folded, newest last (never shared with another)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    async def fold(self, conn: AsyncConnection, case_ids: Sequence[str], floor: CheckedFloor,
                   policies: PolicyHistory) -> dict[str, tuple[Case, metrics.CaseFacts]]:
        """Each named case that exists, as the checked fold of the log makes it, with its facts."""
        kept = {case_id: k for case_id in case_ids
                if (k := self._kept.get(case_id)) is not None and k.check.floor is floor}
        if kept:
            read = (select(events.c.case_id, func.count()).group_by(events.c.case_id)
                    .where(or_(*(and_(events.c.case_id == case_id, events.c.id <= k.check.last_id)
                                 for case_id, k in kept.items()))))
            counts = dict((await conn.execute(read)).tuples().all())
            kept = {case_id: k for case_id, k in kept.items() if counts.get(case_id) == k.check.read}
        fresh = [case_id for case_id in case_ids if case_id not in kept]
        wanted = [and_(events.c.case_id == case_id, events.c.id > k.check.last_id) for case_id, k in kept.items()]
        if fresh:
            wanted.append(events.c.case_id.in_(fresh))
        checks = {case_id: _going_on(k.check) for case_id, k in kept.items()}
        query = convert.LOGGED.where(or_(*wanted)).order_by(events.c.case_id, events.c.id)
        for row in await conn.execute(query):
            event = convert.event_from_trusted_row(row)
            check = checks.get(event.case_id or "")
            if check is None:
                check = checks[event.case_id or ""] = CaseCheck(floor)
            check.extend([event])
        found: dict[str, tuple[Case, metrics.CaseFacts]] = {}
        for case_id, check in checks.items():
            history = check.counted()
            if not history or history[0].type is not EventType.CASE_CREATED or check.written is None:
                continue
            facts = _facts(kept.get(case_id), check, history, policies)
            self._keep(case_id, _Kept(check, facts, policies))
            found[case_id] = (check.written, facts)
        return found

    def _keep(self, case_id: str, kept: _Kept) -> None:
        self._kept[case_id] = kept
        self._kept.move_to_end(case_id)
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)


def _going_on(check: CaseCheck) -> CaseCheck:
    """A copy to extend: the kept one stays as it was for a write that reads it meanwhile."""
    return replace(check, accepted=list(check.accepted), quarantined=list(check.quarantined))


def _facts(kept: _Kept | None, check: CaseCheck, history: list[Event], policies: PolicyHistory) -> metrics.CaseFacts:
    """The facts after `history`: one step per new event when the new events all came after those
    kept (the usual write), else folded from the start (a backfill, another policy history)."""
    if kept is None or kept.facts is None or kept.policies is not policies or kept.check.written is None:
        return metrics.fold_facts(history, policies)[0]
    before = len(kept.check.accepted)  # `check` went on from the kept one: the same events first
    new = history[before:]
    if {id(event) for event in new} != {id(event) for event in check.accepted[before:]}:
        return metrics.fold_facts(history, policies)[0]  # one landed inside the history
    facts, case = kept.facts, kept.check.written
    for event in new:
        facts, case = metrics.next_facts(facts, case, event, policies), apply(case, event)
    return facts
