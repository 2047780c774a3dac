"""Headless boards: what a board holds (its open cases), fed by the real change feed, no screen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from casewatch.core.handoff import LeadView
from casewatch.core.models import Case
from casewatch.storage.feed import FeedState, FeedStatus, Update, feed_for
from casewatch.storage.store import Store


class HeadlessBoard:
    def __init__(self, store: Store, **feed_options):
        self.store = store
        self.cases: dict[str, Case] = {}
        self.lead: LeadView | None = None  # who leads and the handoff waiting, as last delivered
        self.arrivals: dict[str, list[tuple[int, float]]] = {}  # case id -> (version, monotonic time) as received
        self.states: list[FeedState] = []
        self.outbox_moves = 0  # updates saying a write-back delivery moved on
        self._changed = asyncio.Event()
        self.feed = feed_for(store, self._take, self._status, **feed_options)

    async def start(self) -> None:
        self.cases = {case.id: case for case in await self.store.open_cases()}
        self.feed.start({cid: case.version for cid, case in self.cases.items()}, (await self.store.policy()).version)

    async def close(self) -> None:
        await self.feed.stop()
        await self.store.close()

    def _take(self, update: Update) -> None:
        now = time.monotonic()
        for case in update.cases:
            self.arrivals.setdefault(case.id, []).append((case.version, now))
            known = self.cases.get(case.id)
            if not case.is_open:
                self.cases.pop(case.id, None)
            elif known is None or known.version < case.version:
                self.cases[case.id] = case
        for case_id in update.gone:
            self.cases.pop(case_id, None)
        if update.lead is not None:
            self.lead = update.lead
        self.outbox_moves += update.outbox
        self._changed.set()

    def _status(self, status: FeedStatus) -> None:
        self.states.append(status.state)
        self._changed.set()

    @property
    def live(self) -> bool:
        return self.feed.status.state is FeedState.LIVE

    def versions(self) -> dict[str, int]:
        return {cid: case.version for cid, case in self.cases.items()}

    def received_at(self, case_id: str, version: int) -> float | None:
        """When this board first held `version` of the case, or a later one."""
        return min((at for seen, at in self.arrivals.get(case_id, []) if seen >= version), default=None)

    async def until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until `predicate()` holds, re-checking after every update or status change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


async def open_versions(store: Store) -> dict[str, int]:
    return {case.id: case.version for case in await store.open_cases()}
