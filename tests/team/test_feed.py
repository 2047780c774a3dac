"""The change feed on PostgreSQL: no missed commit, bounded lag, an idle cost, reconnects."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from casewatch.core import commands as c
from casewatch.core import write_back as wb
from casewatch.core.errors import InvalidInput
from casewatch.core.listing import list_case
from casewatch.core.models import Person, Role, Severity, Status
from casewatch.core.views import case_summary
from casewatch.storage import outbox
from casewatch.storage.feed import FeedState, NotifyFeed, PollingFeed, feed_for
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from tests.conftest import pg_admin_url
from tests.storage.test_write_back import linked_case, update_on
from tests.team.boards import HeadlessBoard, open_versions

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")
WRITE_BACK = wb.WriteBack(customer_updates=True)


async def admin(sql: str, *args):
    """Run SQL as the test server's administrator, on its maintenance database."""
    url = make_url(pg_admin_url())
    connection = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                       password=url.password, database=url.database)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def new_case(store: Store, title: str, severity=Severity.SEV2) -> str:
    return (await store.execute(c.NewCase(title=title, customer="ACME", severity=severity), "dana")).case.id


async def boards_on(target, count: int, **options) -> list[HeadlessBoard]:
    boards = [HeadlessBoard(await Store.open(target), **options) for _ in range(count)]
    for board in boards:
        await board.start()
    for board in boards:
        assert await board.until(lambda b=board: b.live, 10), board.feed.status
    return boards


async def test_each_backend_gets_its_feed(db_target):
    async with await Store.open(db_target, creator=LEAD) as store:
        feed = feed_for(store, lambda update: None)
        assert isinstance(feed, PollingFeed if db_target.is_sqlite else NotifyFeed)


async def test_shift_changes_and_handoffs_reach_every_board(db_target):
    """The header's facts (who leads, the handoff waiting) follow the feed on both backends."""
    async with await Store.open(db_target, creator=LEAD) as setup:
        await setup.execute(c.AddPerson(name="ken", role=Role.LEAD, tz="Asia/Tokyo"), "dana")
    boards = await boards_on(db_target, 2)
    async with await Store.open(db_target) as writer:
        try:
            assert all(board.lead is not None and board.lead.shift is None for board in boards)
            await writer.execute(c.StartShift(), "dana")
            for board in boards:
                assert await board.until(lambda b=board: b.lead.shift is not None, 5)
                assert (board.lead.shift.lead, board.lead.shift.tz) == ("dana", "Europe/Berlin")
            await writer.execute(c.PrepareHandoff(to="ken"), "dana")
            for board in boards:
                assert await board.until(lambda b=board: b.lead.pending is not None, 5)
                assert board.lead.pending.packet.incoming.name == "ken"
            await writer.execute(c.AcceptHandoff(handoff_id=1), "ken")
            for board in boards:
                assert await board.until(lambda b=board: b.lead.pending is None, 5)
                assert board.lead.shift.lead == "ken"
        finally:
            for board in boards:
                await board.close()


async def test_a_delivery_recorded_by_the_sender_reaches_every_board(db_target):
    """`casewatch deliver` writes no event: the outbox notifies (PostgreSQL) or is polled (SQLite)."""
    async with await Store.open(db_target, creator=LEAD) as setup:
        setup.write_back = {"zd": WRITE_BACK}
        case_id = await linked_case(setup)
        await setup.execute(update_on(case_id), "dana")
    boards = await boards_on(db_target, 2)
    async with await Store.open(db_target) as sender:
        try:
            before = [board.outbox_moves for board in boards]
            [item] = await outbox.claim(sender, ["zd"])
            assert await outbox.start_send(sender, item) == 0
            await outbox.record_failure(sender, item, wb.DEAD, "HTTP 404", sender.clock())
            for board, moves in zip(boards, before, strict=True):
                assert await board.until(lambda b=board, m=moves: b.outbox_moves > m, 5)
        finally:
            for board in boards:
                await board.close()


@pytest.mark.slow
async def test_a_commit_below_every_boards_mark_reaches_every_board_within_2s(pg_url):
    """Writer A inserts and holds its transaction; 300 events by other writers commit; A commits."""
    target = resolve_target(pg_url)
    async with await Store.open(target, creator=LEAD) as setup:
        held_case = await new_case(setup, "held by A")
        others = [await new_case(setup, f"busy {n}") for n in range(3)]
    boards = await boards_on(target, 3)
    writers = [await Store.open(target) for _ in range(3)]
    a = await Store.open(target)
    try:
        async with a._writer.connect() as conn:  # the Store's own write path, with the commit held back
            await conn.begin()
            [outcome] = await a._execute_batch(conn, [(c.Note(case_id=held_case, text="A held this open"), "dana",
                                                        None)])

            async def write(store: Store, worker: int) -> None:
                for n in range(100):
                    await store.execute(c.Note(case_id=others[(worker + n) % 3], text=f"w{worker}-{n}"), "dana")

            await asyncio.gather(*(write(store, n) for n, store in enumerate(writers)))
            assert await writers[0].high_water() >= outcome.event.id + 300  # A's id is far below the rest
            expected = await open_versions(writers[0])
            for board in boards:  # every board is up to date with the 300, and has not seen A
                assert await board.until(lambda b=board: all(b.versions()[cid] == expected[cid] for cid in others), 10)
                assert board.versions()[held_case] == outcome.case.version - 1
            await conn.commit()
            committed = time.monotonic()
        for board in boards:
            assert await board.until(lambda b=board: b.versions()[held_case] == outcome.case.version, 2.0)
            assert board.received_at(held_case, outcome.case.version) - committed < 2.0
    finally:
        for store in (*writers, a):
            await store.close()
        for board in boards:
            await board.close()


@pytest.mark.slow
async def test_ten_boards_follow_five_writers_and_equal_cases_json_once_quiet(pg_url):
    target = resolve_target(pg_url)
    async with await Store.open(target, creator=LEAD) as setup:
        await setup.execute(c.AddPerson(name="ravi", role=Role.AGENT, tz="Asia/Kolkata"), "dana")
        seeded = [await new_case(setup, f"seed {n}", Severity.SEV1 if n % 2 else Severity.SEV3) for n in range(5)]
    boards = await boards_on(target, 10)
    committed: dict[tuple[str, int], float] = {}

    async def writer(worker: int) -> None:
        rng = random.Random(worker)
        own: list[str] = []
        async with await Store.open(target) as store:
            for n in range(100):
                kind, anyone = n % 10, rng.choice(seeded + own)
                if kind == 0:
                    command = c.NewCase(title=f"w{worker} case {n}", customer="Globex", severity=Severity.SEV2)
                elif kind == 9:  # resolve one of its own: the boards must drop it
                    command = c.ChangeStatus(case_id=own.pop(rng.randrange(len(own))), status=Status.RESOLVED)
                elif kind in (3, 6):
                    case = await store.get_case(anyone)
                    command = c.Assign(case_id=anyone, name="ravi" if case.internal_owner == "dana" else "dana")
                else:
                    command = c.Note(case_id=anyone, text=f"w{worker}-{n}")
                try:
                    outcome = await store.execute(command, "dana")
                except InvalidInput:  # another writer assigned the same owner first: note instead
                    outcome = await store.execute(c.Note(case_id=anyone, text=f"w{worker}-{n}"), "dana")
                committed[(outcome.case.id, outcome.case.version)] = time.monotonic()
                if kind == 0:
                    own.append(outcome.case.id)

    try:
        await asyncio.gather(*(writer(w) for w in range(5)))
        async with await Store.open(target) as reader:
            final = await open_versions(reader)
        for board in boards:
            assert await board.until(lambda b=board: b.versions() == final, 10)
        lags = [board.received_at(cid, version) - at for board in boards for (cid, version), at in committed.items()
                if cid in final or board.received_at(cid, version) is not None]
        worst = max(lags)
        print(f"\n{len(committed)} writes, 10 boards: worst lag {worst * 1000:.0f} ms, "
              f"median {sorted(lags)[len(lags) // 2] * 1000:.0f} ms")
        assert worst < 5.0, f"worst lag {worst:.2f} s"

        shown = subprocess.run([sys.executable, "-m", "casewatch.cli.main", "cases", "--json", "--db", pg_url,
                                "--as", "dana"], capture_output=True, text=True, check=True)
        listed = {row["id"]: row for row in json.loads(shown.stdout)}
        policy = await boards[0].store.policy()
        for board in boards:
            assert board.cases.keys() == listed.keys()
            for cid, case in board.cases.items():
                mine, theirs = case_summary(list_case(case, policy), board.store.clock()), listed[cid]
                assert {k: v for k, v in mine.items() if k != "clocks"} == {k: v for k, v in theirs.items()
                                                                           if k != "clocks"}
                assert {k: v["due"] for k, v in mine["clocks"].items()} == \
                    {k: v["due"] for k, v in theirs["clocks"].items()}
    finally:
        for board in boards:
            await board.close()


async def test_a_change_whose_notification_never_came_is_found_by_the_safety_net(pg_url):
    target = resolve_target(pg_url)
    async with await Store.open(target, creator=LEAD) as writer:
        case_id = await new_case(writer, "quiet")
        (board,) = await boards_on(target, 1, safety_net_s=0.5)
        try:
            await admin_on(pg_url, "ALTER TABLE cases DISABLE TRIGGER casewatch_notify_case")
            outcome = await writer.execute(c.Note(case_id=case_id, text="no NOTIFY for this"), "dana")
            assert await board.until(lambda: board.versions()[case_id] == outcome.case.version, 3)
        finally:
            await board.close()


async def test_an_idle_board_queries_at_most_once_per_safety_net_period(pg_url):
    target = resolve_target(pg_url)
    async with await Store.open(target, creator=LEAD) as writer:
        await new_case(writer, "idle")
    (board,) = await boards_on(target, 1, safety_net_s=1.0)
    statements: list[str] = []
    event.listen(board.store._reader.sync_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_rest: statements.append(statement))
    try:
        await asyncio.sleep(3.5)  # the point of the test: a stretch of idleness
        assert 2 <= len(statements) <= 4, statements
        assert all("UNION ALL" in statement for statement in statements)  # each one is the single marks read
    finally:
        await board.close()


async def admin_on(url: str, sql: str) -> None:
    """Run SQL as the administrator on the test's own database."""
    parsed = make_url(url)
    connection = await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                       password=parsed.password, database=parsed.database)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def test_a_killed_listening_connection_reconnects_and_loses_nothing(pg_url):
    target = resolve_target(pg_url)
    database = make_url(pg_url).database
    async with await Store.open(target, creator=LEAD) as writer:
        cases = [await new_case(writer, f"before {n}") for n in range(3)]
        (board,) = await boards_on(target, 1)
        try:
            await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')  # so it cannot come back yet
            await admin("SELECT pg_terminate_backend($1)", board.feed.backend_pid)
            assert await board.until(lambda: board.feed.status.state is FeedState.RECONNECTING, 5)
            for n in range(30):  # written while the board is away (the writer's pooled connection stays up)
                await writer.execute(c.Note(case_id=cases[n % 3], text=f"while away {n}"), "dana")
            cases.append(await new_case(writer, "new while away"))
            await writer.execute(c.ChangeStatus(case_id=cases[0], status=Status.RESOLVED), "dana")
            assert board.feed.status.state is FeedState.RECONNECTING
            await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            assert await board.until(lambda: board.live, 15)
            assert await board.until(lambda: board.versions() == dict(board_truth), 5) if (
                board_truth := await open_versions(writer)) else False
            assert cases[0] not in board.cases and cases[-1] in board.cases
        finally:
            await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            await board.close()
