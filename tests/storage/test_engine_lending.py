"""A process that opens the same database again gets the engines it had (their compiled statements
with them), never a pool whose connections belong to another event loop, and nothing stays
connected once its stores closed (storage.engine.borrow_engines)."""

from __future__ import annotations

import asyncio
import threading

from casewatch.core.models import Person, Role
from casewatch.storage.engine import borrow_engines, give_back
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target

LEAD = Person(name="dana", role=Role.LEAD, tz="UTC")


def test_a_store_opened_again_takes_the_engines_back_with_no_connection_left_between(tmp_path):
    target = resolve_target(str(tmp_path / "cw.db"))

    async def use() -> tuple[object, int, int]:
        async with await Store.open(target, creator=LEAD) as store:
            await store.roster()
            engine = store._reader
        return engine, engine.sync_engine.pool.checkedin(), engine.sync_engine.pool.checkedout()

    first, *left_first = asyncio.run(use())
    second, *left_second = asyncio.run(use())  # another event loop, as each CLI command in-process
    assert second is first
    assert left_first == left_second == [0, 0]


def test_engines_in_use_in_one_loop_are_not_lent_to_another(tmp_path):
    target = resolve_target(str(tmp_path / "cw.db"))
    held = threading.Event()
    release = threading.Event()
    seen: dict[str, object] = {}

    async def hold() -> None:
        engines = borrow_engines(target)
        seen["holder"] = engines[0]
        held.set()
        await asyncio.to_thread(release.wait, 30)
        await give_back(engines)

    holder = threading.Thread(target=lambda: asyncio.run(hold()))
    holder.start()
    assert held.wait(30)

    async def borrow() -> None:
        engines = borrow_engines(target)
        seen["other"] = engines[0]
        await give_back(engines)

    asyncio.run(borrow())
    release.set()
    holder.join(30)
    assert seen["other"] is not seen["holder"]


def test_a_bad_postgresql_wait_in_the_environment_does_not_stop_sqlite(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWATCH_LOCK_TIMEOUT", "soon")
    target = resolve_target(str(tmp_path / "cw.db"))

    async def use() -> None:
        async with await Store.open(target, creator=LEAD) as store:
            assert [person.name for person in (await store.roster()).values()] == ["dana"]

    asyncio.run(use())
