"""Every open case's clock states from one look to the next, and the alerts since the board opened.

The rules are core.alerts'; this keeps what they compare. A tick looks again only at the cases
whose next clock turn has come (a heap keeps the soonest on top), so an idle second costs one
comparison and a turn costs a look at the cases turning, not at the floor. While the board is away
(connecting, reconnecting) turns are not alerted one by one: `back()` hands them over as one batch
for a summary.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import datetime

from casewatch.core.alerts import (
    Alert,
    AlertSettings,
    DeliveryAlert,
    States,
    alerts_for,
    clock_states,
    next_turn_us,
)
from casewatch.core.calendars import to_us
from casewatch.core.clocks import ClockState
from casewatch.tui.state import AppState

HISTORY_LIMIT = 1_000  # alerts `!` lists: a board left open for days keeps the newest, not every one


class AlertWatch:
    def __init__(self, state: AppState, viewer: str, settings: AlertSettings):
        self.state = state
        self.viewer = viewer
        self.settings = settings
        self.states: dict[str, States] = {}
        self.history: list[Alert | DeliveryAlert] = []  # oldest first: the newest HISTORY_LIMIT
        self.dropped = 0  # older alerts, no longer kept
        self._turns: dict[str, int] = {}  # case id -> its next clock turn
        self._heap: list[tuple[int, str]] = []  # (turn, case id); entries no longer in _turns are stale
        self._away_from: dict[str, States] | None = None
        self._late = 0  # cases with a breached clock

    def start(self, now: datetime) -> list[Alert]:
        """The first look: what is late already is 'missed', for the start-up summary."""
        self.states.clear()
        self._turns.clear()
        self._heap.clear()
        self._late = 0
        self._look(self.state.cases, to_us(now))
        return self._record(alerts_for({}, self.states, **self._context(now), since_last_look=True))

    def tick(self, now: datetime) -> tuple[list[Alert], set[str]]:
        """Clocks that turned by themselves since the last tick: (alerts, ids of the cases whose states moved)."""
        now_us = to_us(now)
        heap, turns = self._heap, self._turns
        if not heap or heap[0][0] > now_us:
            return [], set()
        due = set()
        while heap and heap[0][0] <= now_us:
            turn, case_id = heapq.heappop(heap)
            if turns.get(case_id) == turn:
                due.add(case_id)
        return self._compare(due, now)

    def cases_changed(self, ids: Iterable[str], now: datetime) -> tuple[list[Alert], set[str]]:
        """Cases were written (plans may differ): look at them again; closed ones are forgotten, and
        one new to the board (created, imported, reopened) alerts for the clocks already late."""
        return self._compare(ids, now)

    def away(self) -> None:
        """The feed is not live: keep what the viewer last saw, and alert nothing until `back`."""
        if self._away_from is None:
            self._away_from = dict(self.states)

    def back(self, now: datetime) -> list[Alert]:
        """Live again: the clocks that turned meanwhile (cases new since count as having run), for one summary."""
        if self._away_from is None:
            return []
        before, self._away_from = self._away_from, None
        return self._record(alerts_for(before, self.states, **self._context(now), since_last_look=True))

    def late_count(self) -> int:
        """Open cases with a breached clock, as of the last look."""
        return self._late

    def _compare(self, ids: Iterable[str], now: datetime) -> tuple[list[Alert], set[str]]:
        ids = set(ids)
        before = {case_id: self.states[case_id] for case_id in ids if case_id in self.states}
        joined = (ids - before.keys()) & self.state.cases.keys()  # new to the board: late already alerts now
        for case_id in ids - self.state.cases.keys():
            self._late -= ClockState.BREACHED in self.states.pop(case_id, ())
            self._turns.pop(case_id, None)
        self._look(ids & self.state.cases.keys(), to_us(now))
        after = {case_id: self.states[case_id] for case_id in ids if case_id in self.states}
        moved = {case_id for case_id in ids if before.get(case_id) != after.get(case_id)}
        if self._away_from is not None:
            return [], moved
        return self._record(alerts_for(before, after, **self._context(now), joined=joined)), moved

    def _look(self, ids: Iterable[str], now_us: int) -> None:
        clocks, states, turns = self.state.clocks, self.states, self._turns
        for case_id in ids:
            plans = clocks[case_id]
            new = clock_states(plans, now_us)
            self._late += (ClockState.BREACHED in new) - (ClockState.BREACHED in states.get(case_id, ()))
            states[case_id] = new
            turn = next_turn_us(plans, now_us)
            if turn is None:
                turns.pop(case_id, None)
            elif turns.get(case_id) != turn:
                turns[case_id] = turn
                heapq.heappush(self._heap, (turn, case_id))
        if len(self._heap) > 2 * len(turns) + 64:  # mostly stale entries of changed or closed cases
            self._heap = [(turn, case_id) for case_id, turn in turns.items()]
            heapq.heapify(self._heap)

    def _context(self, now: datetime) -> dict:
        shift = self.state.lead.shift
        return {"cases": self.state.cases, "clocks": self.state.clocks, "viewer": self.viewer,
                "shift_lead": shift.lead if shift else None, "settings": self.settings, "now": now}

    @property
    def recorded(self) -> int:
        """Alerts since the board opened; alert number n (from 0) is `history[n - dropped]` while kept."""
        return self.dropped + len(self.history)

    def record(self, alerts: Sequence[DeliveryAlert]) -> None:
        """Updates not delivered to their tickets (the app reads the outbox): listed with the clocks'."""
        self._keep(alerts)

    def _record(self, alerts: list[Alert]) -> list[Alert]:
        self._keep(alerts)
        return alerts

    def _keep(self, alerts: Sequence[Alert | DeliveryAlert]) -> None:
        self.history.extend(alerts)
        excess = len(self.history) - HISTORY_LIMIT
        if excess > 0:
            del self.history[:excess]
            self.dropped += excess
