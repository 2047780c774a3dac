"""What the wall display shows: the floor's counts per severity and the next deadlines.

Pure: the wall reads these every second, so they also say when they can next change
(`changes_at_us`): between two clock edges only the countdowns move, and nothing is recounted.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from casewatch.core.clocks import CaseClocks, ClockKind, ClockState
from casewatch.core.models import Case, Severity
from casewatch.core.views import NO_DEADLINE, is_unowned, is_waiting, linked_title

DEADLINES_SHOWN = 10


@dataclass
class Figures:
    """One severity's counts: open cases, those with a breached clock, unowned, waiting on the customer."""

    open: int = 0
    breached: int = 0
    unowned: int = 0
    waiting: int = 0


class Deadline(NamedTuple):
    """One running clock that has not passed its due instant yet."""

    due_us: int
    case_id: str
    severity: Severity
    title: str
    kind: ClockKind
    state: ClockState  # running or warning


@dataclass
class WallView:
    figures: dict[Severity, Figures] = field(default_factory=lambda: {s: Figures() for s in Severity})
    deadlines: list[Deadline] = field(default_factory=list)
    changes_at_us: int = NO_DEADLINE  # the next clock edge: until then only countdowns move

    @property
    def total(self) -> Figures:
        """The whole floor's counts: every severity's added up."""
        every = list(self.figures.values())
        return Figures(open=sum(f.open for f in every), breached=sum(f.breached for f in every),
                       unowned=sum(f.unowned for f in every), waiting=sum(f.waiting for f in every))


def wall_view(cases: Iterable[tuple[Case, CaseClocks]], now_us: int, shown: int = DEADLINES_SHOWN) -> WallView:
    """Counts and the `shown` nearest deadlines of the open cases, as of `now_us`."""
    view = WallView()
    upcoming: list[Deadline] = []
    for case, clocks in cases:
        figures = view.figures[case.severity]
        figures.open += 1
        figures.unowned += is_unowned(case)
        figures.waiting += is_waiting(case)
        breached = False
        for plan in clocks:
            state, _remaining = plan.state_at(now_us)
            breached = breached or state is ClockState.BREACHED
            if not plan.active or plan.due_us is None:
                continue
            for edge in (plan.warn_us, plan.due_us):
                if edge is not None and edge > now_us:
                    view.changes_at_us = min(view.changes_at_us, edge)
            if state is not ClockState.BREACHED:
                upcoming.append(Deadline(plan.due_us, case.id, case.severity,
                                            linked_title(case.source, case.title), plan.kind, state))
        figures.breached += breached
    view.deadlines = heapq.nsmallest(shown, upcoming)
    return view
