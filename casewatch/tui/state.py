"""What the board shows, kept in memory: open cases with their clock plans, the roster and policy.

It only caches results of core functions; every rule lives in core.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from casewatch.core.clocks import CaseClocks, plan_clocks
from casewatch.core.handoff import LeadView
from casewatch.core.models import Case, Person
from casewatch.core.policy import Policy


@dataclass
class AppState:
    policy: Policy
    roster: dict[str, Person] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    clocks: dict[str, CaseClocks] = field(default_factory=dict)
    lead: LeadView = field(default_factory=LeadView)  # who leads, and the handoff waiting

    @property
    def shift_lead(self) -> str | None:
        """Who leads the shift now (they fill a case's `lead` role)."""
        return self.lead.shift.lead if self.lead.shift is not None else None

    def put(self, case: Case) -> bool:
        """Take a case as read from storage; True when the board must change."""
        known = self.cases.get(case.id)
        if not case.is_open:
            if known is None:
                return False
            del self.cases[case.id]
            del self.clocks[case.id]
            return True
        if known is not None and known.version >= case.version:
            return False
        self.cases[case.id] = case
        self.clocks[case.id] = plan_clocks(case, self.policy)
        return True

    def drop(self, case_id: str) -> bool:
        """Forget a case whose row is gone; True when the board must change."""
        if self.cases.pop(case_id, None) is None:
            return False
        del self.clocks[case_id]
        return True

    def replan(self, policy: Policy) -> None:
        self.policy = policy
        self.clocks = {cid: plan_clocks(case, policy) for cid, case in self.cases.items()}
