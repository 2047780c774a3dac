"""The change feed a live board subscribes to: every committed change reaches it, once it is committed.

Why not "the events after the newest id I saw": PostgreSQL hands out event ids at insert time, but a
row only becomes visible when its transaction commits, and transactions commit in any order. A writer
that held its transaction open commits an id *below* a board's mark, and would be missed for good.

So the catch-up is keyed on per-case versions, which only move on commit. The feed knows the version
of every open case its subscriber holds; `Store.marks()` reads every open case's current version (and
the policy version and roster mark) in one statement; whatever differs (newer, newly open, no longer
open) is read in full. A read sees every transaction committed before it, whatever ids it took, so
nothing committed can be missed: what commits later is in the next notification or catch-up.

- PostgreSQL (`NotifyFeed`): one listening connection per board. The server's triggers (migration
  0002) NOTIFY each changed case's id and new version, delivered only on commit; the board reads just
  those rows. The catch-up runs once LISTEN is in place (at start and after every reconnect, so
  nothing falls in between) and as a slow safety net: every `SAFETY_NET_S`, the only query an idle
  board makes.
- SQLite (`PollingFeed`): one writer at a time, so ids do commit in order; it polls for events after
  the newest id it has seen, once a second, and the outbox's mark (a write-back sender writes no
  event; PostgreSQL's outbox notifies, migration 0018).

Any failure (the server went away, the connection was killed) turns the status to RECONNECTING; the
feed retries with a growing pause and, once back, catches up before it reports LIVE again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy.engine import URL

from casewatch.core.handoff import LeadView
from casewatch.core.models import Case, Person
from casewatch.core.policy import Policy
from casewatch.core.quarantine import CASE_ID
from casewatch.storage import outbox as outbox_rows
from casewatch.storage.failures import reason
from casewatch.storage.store import Store

CHANNEL = "casewatch"  # the triggers' NOTIFY channel
SAFETY_NET_S = 30.0
POLL_S = 1.0
CONNECT_TIMEOUT_S = 5.0
RETRY_PAUSES_S = (0.2, 0.5, 1.0, 2.0, 5.0)  # after the 1st, 2nd, … failure in a row
MAX_NAMED = 1000  # cases named since the last read, beyond which one catch-up reads what differs instead
MAX_VERSION = 2**31 - 1  # cases.version is an INTEGER column
TABLES = frozenset({"policies", "people", "shifts", "handoffs", "outbox"})  # what a table's note may name


class FeedState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


_LABELS = {FeedState.CONNECTING: "connecting…", FeedState.LIVE: "live",
           FeedState.RECONNECTING: "reconnecting…", FeedState.STOPPED: "not following changes"}


@dataclass(frozen=True)
class FeedStatus:
    """The connection state a status line shows, and why when it is not live."""

    state: FeedState
    reason: str = ""

    @property
    def label(self) -> str:
        return _LABELS[self.state]


@dataclass(frozen=True)
class Update:
    """What changed: cases as stored now (closed ones are to be dropped), held cases whose rows are
    gone, and the policy, roster or shift lead when they changed."""

    cases: list[Case]
    gone: frozenset[str] = frozenset()
    policy: Policy | None = None
    roster: dict[str, Person] | None = None
    lead: LeadView | None = None  # who leads and the handoff waiting, when either changed
    outbox: bool = False  # a write-back delivery moved on (queued, sent, failed, refused): read it again

    def __bool__(self) -> bool:
        return bool(self.cases or self.gone or self.policy is not None or self.roster is not None
                    or self.lead is not None or self.outbox)


OnUpdate = Callable[[Update], None]
OnStatus = Callable[[FeedStatus], None]


class ChangeFeed:
    """What the feed knows its subscriber holds, the catch-up, and the reconnect loop.
    Subclasses say how to connect and how to follow changes once connected."""

    def __init__(self, store: Store, on_update: OnUpdate, on_status: OnStatus | None = None, *,
                 safety_net_s: float = SAFETY_NET_S):
        self.store = store
        self.safety_net_s = safety_net_s
        self.status = FeedStatus(FeedState.STOPPED)
        self._on_update = on_update
        self._on_status = on_status
        self._held: dict[str, int] = {}  # open case id -> version the subscriber has
        self._policy_version = 0
        self._roster_mark = -1  # unknown: the first catch-up reads the roster
        self._shift_mark = -1  # likewise the shift lead and any handoff waiting
        self._task: asyncio.Task | None = None
        self.checked_at: datetime | None = None  # the last time the feed had the database's word (store clock)

    def start(self, held: Mapping[str, int], policy_version: int) -> None:
        """Follow changes from what the subscriber holds: open case id -> version, and its policy."""
        self._held, self._policy_version = dict(held), policy_version
        self._set_status(FeedStatus(FeedState.CONNECTING))
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"{type(self).__name__}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect()
        self._set_status(FeedStatus(FeedState.STOPPED))

    def saw(self, case: Case) -> None:
        """The subscriber wrote this version itself: it need not be read back."""
        if not case.is_open:
            self._held.pop(case.id, None)
        elif self._held.get(case.id, 0) < case.version:
            self._held[case.id] = case.version

    async def catch_up(self) -> None:
        """Read what differs from what the subscriber holds (see the module docstring)."""
        marks = await self.store.marks()
        self.checked_at = self.store.clock()
        self._caught_up_to(marks.high_water)
        stale = {cid for cid, version in marks.cases.items() if self._held.get(cid) != version}
        stale |= self._held.keys() - marks.cases.keys()
        roster_mark = marks.roster_mark if marks.roster_mark != self._roster_mark else None
        shift_mark = marks.shift_mark if marks.shift_mark != self._shift_mark else None
        await self._read(stale, policy=marks.policy_version != self._policy_version, roster_mark=roster_mark,
                         shift_mark=shift_mark)

    def _caught_up_to(self, high_water: int) -> None:
        """Where a subclass follows event ids, the catch-up tells it how far it got."""

    async def _read(self, ids: set[str], *, policy: bool, roster_mark: int | None, shift_mark: int | None,
                    outbox: bool = False) -> None:
        cases = await self.store.cases_by_id(ids)
        gone = frozenset(ids & self._held.keys()) - {case.id for case in cases}  # (a name never held is no news)
        await self._deliver(cases, gone, policy=policy, roster_mark=roster_mark, shift_mark=shift_mark, outbox=outbox)

    async def _deliver(self, cases: list[Case], gone: frozenset[str] = frozenset(), *, policy: bool,
                       roster_mark: int | None, shift_mark: int | None, outbox: bool = False) -> None:
        new_policy = await self.store.policy() if policy else None
        new_roster = await self.store.roster() if roster_mark is not None else None
        new_lead = await self.store.lead_view() if shift_mark is not None else None
        for case in cases:
            self.saw(case)
        for case_id in gone:
            self._held.pop(case_id, None)
        if new_policy is not None:
            self._policy_version = new_policy.version
        if roster_mark is not None:
            self._roster_mark = roster_mark
        if shift_mark is not None:
            self._shift_mark = shift_mark
        update = Update(cases=cases, gone=gone, policy=new_policy, roster=new_roster, lead=new_lead, outbox=outbox)
        if update:
            self._on_update(update)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect()
                await self.catch_up()
                failures = 0
                self._set_status(FeedStatus(FeedState.LIVE))
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - whatever broke, the cure is to reconnect
                await self._disconnect()
                self._set_status(FeedStatus(FeedState.RECONNECTING, reason(exc)))
                await asyncio.sleep(RETRY_PAUSES_S[min(failures, len(RETRY_PAUSES_S) - 1)])
                failures += 1

    def _set_status(self, status: FeedStatus) -> None:
        if status != self.status:
            self.status = status
            if self._on_status is not None:
                self._on_status(status)

    async def _connect(self) -> None:
        raise NotImplementedError

    async def _follow(self) -> None:
        """Deliver changes until something fails (then raise)."""
        raise NotImplementedError

    async def _disconnect(self) -> None:
        raise NotImplementedError


class PollingFeed(ChangeFeed):
    """SQLite: writers take the database lock before they take an id, so ids commit in order and
    "events after the newest id seen" misses nothing."""

    poll_s = POLL_S

    def __init__(self, store: Store, on_update: OnUpdate, on_status: OnStatus | None = None, *,
                 safety_net_s: float = SAFETY_NET_S):
        super().__init__(store, on_update, on_status, safety_net_s=safety_net_s)
        self._high_water = 0
        self._outbox_mark: tuple = ()  # the deliveries still moving, as last read (outbox.poll_marks)

    def _caught_up_to(self, high_water: int) -> None:
        self._high_water = high_water

    async def catch_up(self) -> None:
        self._outbox_mark = (await outbox_rows.poll_marks(self.store))[1]  # before: what moves after is seen
        await super().catch_up()

    async def _connect(self) -> None:
        return None

    async def _disconnect(self) -> None:
        return None

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            high, mark = await outbox_rows.poll_marks(self.store)  # one read when nothing happened
            self.checked_at = self.store.clock()
            moved, self._outbox_mark = mark != self._outbox_mark, mark
            if high <= self._high_water:
                if moved:
                    await self._deliver([], policy=False, roster_mark=None, shift_mark=None, outbox=True)
                continue
            changes = await self.store.changes_since(self._high_water)
            self._high_water = changes.high_water
            cases = [case for case in changes.cases
                     if self._held.get(case.id) != case.version and (case.is_open or case.id in self._held)]
            roster_mark = changes.roster_mark if changes.roster_mark != self._roster_mark else None
            shift_mark = changes.shift_mark if changes.shift_mark != self._shift_mark else None
            await self._deliver(cases, policy=changes.policy_version != self._policy_version, roster_mark=roster_mark,
                                shift_mark=shift_mark, outbox=moved)


class NotifyFeed(ChangeFeed):
    """PostgreSQL: LISTEN on one connection of its own; read only the rows a notification names."""

    def __init__(self, store: Store, on_update: OnUpdate, on_status: OnStatus | None = None, *,
                 safety_net_s: float = SAFETY_NET_S):
        super().__init__(store, on_update, on_status, safety_net_s=safety_net_s)
        self._connection: Any = None  # an asyncpg connection
        self._wake = asyncio.Event()
        self._pending: dict[str, int] = {}  # case id -> newest version notified
        self._tables: set[str] = set()
        self._everything = False  # more cases were named than are read one by one: catch up instead
        self._lost = False

    @property
    def backend_pid(self) -> int | None:
        """The server process of the listening connection (what `pg_terminate_backend` takes)."""
        return self._connection.get_server_pid() if self._connection is not None else None

    async def _connect(self) -> None:
        import asyncpg  # type: ignore[import-untyped]  # only PostgreSQL boards use the driver directly

        self._lost, self._pending, self._tables, self._everything = False, {}, set(), False
        self._wake.clear()
        self._connection = await asyncpg.connect(**_connect_args(self.store.target.url), timeout=CONNECT_TIMEOUT_S,
                                                 server_settings={"application_name": "casewatch-feed"})
        self._connection.add_termination_listener(self._on_closed)
        await self._connection.add_listener(CHANNEL, self._on_notify)

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()  # close() would wait on a server that may be gone

    def _on_closed(self, connection) -> None:
        if connection is self._connection:
            self._lost = True
            self._wake.set()

    def _on_notify(self, _connection, _pid: int, _channel: str, payload: str) -> None:
        """Any member may NOTIFY this channel: a payload that is not one of the triggers' (say a
        number past the float range, or nested 3,000 deep) is ignored, never an exception, and a
        flood naming more cases than `MAX_NAMED` becomes one catch-up."""
        note = _note(payload)
        if note is None:
            return  # not one of ours; the safety net still covers everything
        if isinstance(note, str):
            self._tables.add(note)
        elif not self._everything:
            case_id, version, is_open = note
            held = self._held.get(case_id)
            if held == version or (held is None and not is_open):
                return  # already held, or closed and never shown
            self._pending[case_id] = max(version, self._pending.get(case_id, 0))
            if len(self._pending) > MAX_NAMED:
                self._everything, self._pending = True, {}
        self._wake.set()

    async def _follow(self) -> None:
        loop = asyncio.get_running_loop()
        safety_net_at = loop.time() + self.safety_net_s
        while True:
            try:  # not wait_for: on 3.11 it can swallow a cancel that lands as the wake comes, and stop() hangs
                async with asyncio.timeout(max(0.0, safety_net_at - loop.time())):
                    await self._wake.wait()
            except TimeoutError:
                if self._connection is None or self._connection.is_closed():
                    raise ConnectionError("the listening connection was closed") from None
                await self.catch_up()
                safety_net_at = loop.time() + self.safety_net_s
                continue
            self._wake.clear()
            if self._lost:
                raise ConnectionError("the listening connection was closed")
            pending, self._pending = self._pending, {}
            tables, self._tables = self._tables, set()
            if self._everything:  # every case that differs from what the board holds, named or not
                self._everything, pending = False, {}
                await self.catch_up()
            stale = {cid for cid, version in pending.items() if self._held.get(cid) != version}
            self.checked_at = self.store.clock()
            await self._read(stale, policy="policies" in tables, roster_mark=-1 if "people" in tables else None,
                             shift_mark=-1 if tables & {"shifts", "handoffs"} else None, outbox="outbox" in tables)


def _note(payload: str) -> tuple[str, int, bool] | str | None:
    """A notification as the triggers send it: (case id, version, open) or a table's name; None
    for anything else."""
    try:
        note = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(note, dict):
        return None
    if "case" in note:
        case_id, version, is_open = note["case"], note.get("version"), note.get("open")
        if (isinstance(case_id, str) and CASE_ID.fullmatch(case_id) and type(version) is int
                and 0 <= version <= MAX_VERSION and type(is_open) is bool):
            return case_id, version, is_open
        return None
    table = note.get("table")
    return table if isinstance(table, str) and table in TABLES else None


def _connect_args(url: URL) -> dict:
    return url.translate_connect_args(username="user")


def feed_for(store: Store, on_update: OnUpdate, on_status: OnStatus | None = None, *,
             safety_net_s: float = SAFETY_NET_S) -> ChangeFeed:
    """The feed for the store's backend: notifications on PostgreSQL, polling on SQLite."""
    feed_class: type[ChangeFeed] = PollingFeed if store.target.is_sqlite else NotifyFeed
    return feed_class(store, on_update, on_status, safety_net_s=safety_net_s)
