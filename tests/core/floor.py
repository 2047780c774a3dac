"""A tiny in-memory support floor for core tests: commands go through decide + apply, no storage."""

from __future__ import annotations

from datetime import datetime

from casewatch.core import commands as c
from casewatch.core.models import Case, Event, Person, Role
from casewatch.core.policy import Policy, default_policy
from casewatch.core.projection import apply, replay_cases
from casewatch.core.rules import Context, decide

ROSTER = {
    p.name: p for p in (
        Person(name="lead", role=Role.LEAD, tz="Europe/Berlin"),
        Person(name="agent", role=Role.AGENT, tz="America/New_York"),
        Person(name="spec", role=Role.SPECIALIST, tz="Asia/Kolkata", team="database"),
        Person(name="viewer", role=Role.VIEWER),
    )
}


class Floor:
    def __init__(self, policy: Policy | None = None):
        self.policy = policy or default_policy()
        self.cases: dict[str, Case] = {}
        self.log: list[Event] = []
        self._next = 1

    def do(self, command, actor: str = "lead", *, at: datetime, recorded: datetime | None = None) -> Case:
        case = self.cases.get(getattr(command, "case_id", None))
        ctx = Context(actor=ROSTER[actor], roster=ROSTER, policy=self.policy, occurred_at=at,
                      recorded_at=recorded or at)
        new_id = None
        if isinstance(command, c.OPENS_CASE):
            new_id, self._next = f"CW-{self._next}", self._next + 1
        event = decide(command, case, ctx, new_case_id=new_id).model_copy(update={"id": len(self.log) + 1})
        self.log.append(event)
        self.cases[event.case_id] = apply(case, event)
        return self.cases[event.case_id]

    def replayed(self) -> dict[str, Case]:
        return replay_cases(self.log)
