"""Imports on a real database: one case per ticket whatever runs at once, and a killed import
that a re-run finishes, exactly."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from casewatch.core import commands as c
from casewatch.core.models import Person, Role, Severity, Status
from casewatch.core.ticket_import import plan_ticket
from casewatch.core.tracker import Source, SourceSettings, Ticket
from casewatch.storage import imports
from casewatch.storage.schema import cases
from casewatch.storage.store import Store
from tests.storage.test_listings import sql

LEAD = Person(name="dana", role=Role.LEAD, tz="UTC")
ZD = Source.of("zd", SourceSettings(kind="zendesk"))


def tickets(count: int, now) -> list[Ticket]:
    return [Ticket(line=n + 2, id=str(48000 + n), title=f"ticket {n}", customer="Acme", priority="high",
                   status="open", created_at=now - timedelta(hours=1)) for n in range(count)]


async def test_two_imports_at_once_make_each_case_exactly_once(db_target, frozen_clock, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_TICKETS", 50)  # several batches, each racing the other import's
    found = tickets(180, frozen_clock.now)
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as first, \
            await Store.open(db_target, clock=frozen_clock) as second:
        roster = await imports.importer(first, "dana")
        reports = await asyncio.gather(*(imports.write_tickets(store, ZD, found, "dana", roster)
                                         for store in (first, second)))
        assert sum(report.created for report in reports) == len(found)
        assert sum(report.unchanged for report in reports) == len(found)
        async with first._reader.connect() as conn:
            linked = Counter((await conn.execute(select(cases.c.source_id))).scalars())
        assert linked == Counter(ticket.id for ticket in found)
        assert not await first.verify()
        again = await imports.write_tickets(first, ZD, found, "dana", roster)
        assert (again.created, again.unchanged, again.updated) == (0, len(found), [])
        assert (await first.linked_cases("zd", ["48000"]))["48000"].status is Status.INVESTIGATING


async def test_a_ticket_linked_meanwhile_is_planned_again_as_known(db_target, frozen_clock):
    """The unique index refuses a second case for a ticket another import linked first; the
    batch is read and planned again, and only then writes."""
    found = tickets(3, frozen_clock.now)
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        roster = await imports.importer(store, "dana")
        await imports.write_tickets(store, ZD, found[:1], "dana", roster)
        plans = []

        def stale(seen):  # plans as if nothing were linked yet, the first time only
            plans.append(dict(seen))
            return [(command, "dana", at) for ticket in found
                    for command, at in plan_ticket(ticket, seen.get(ticket.id) if len(plans) > 1 else None,
                                                   ZD, roster, frozen_clock.now).commands]

        await store.execute_linked("zd", [t.id for t in found], stale)
        assert len(plans) == 2 and list(plans[1]) == ["48000"]
        async with store._reader.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(cases))).scalar() == 3


@pytest.mark.slow
def test_a_killed_import_leaves_whole_cases_and_a_rerun_gives_exactly_the_files(tmp_path):
    rows = 3000
    csv = tmp_path / "export.csv"
    csv.write_text("Id,Subject,Priority,Status,Organization,Assignee,Created at\n" + "".join(
        f"{50000 + n},ticket {n},normal,open,Acme,,2026-11-30 10:{n % 60:02d}\n" for n in range(rows)),
        encoding="utf-8")
    config = tmp_path / "config" / "casewatch" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[sources.zd]\nkind = "zendesk"\n', encoding="utf-8")
    db = tmp_path / "cw.db"
    env = os.environ | {"CASEWATCH_DB": str(db), "CASEWATCH_USER": "dana", "XDG_CONFIG_HOME": str(tmp_path / "config"),
                        "TZ": "UTC"}
    command = [sys.executable, "-m", "casewatch.cli.main", "import", "csv", str(csv), "--source", "zd"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        give_up = time.monotonic() + 60
        while _count(db) == 0:  # the first batch has committed
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < give_up
            time.sleep(0.005)
        assert process.poll() is None, "the import finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    killed_at = _count(db)
    assert 0 < killed_at < rows
    with sqlite3.connect(db) as conn:  # whole cases only: each got its status with it
        assert conn.execute("SELECT DISTINCT status FROM cases").fetchall() == [("investigating",)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr  # no progress bar in a pipe
    assert done.stdout == f"created {rows - killed_at}, updated 0, left {killed_at} unchanged\n"
    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute("SELECT source_id FROM cases")]
    assert sorted(ids) == sorted(str(50000 + n) for n in range(rows))
    verify = subprocess.run([sys.executable, "-m", "casewatch.cli.main", "db", "verify"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _count(db) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


_OLD_STATES = {  # case states as casewatch wrote them before links: without the two keys
    "sqlite": "UPDATE cases SET state = json_remove(state, '$.source', '$.source_seen')",
    "postgresql": "UPDATE cases SET state = (state::jsonb - 'source' - 'source_seen')::json",
}


async def test_a_database_from_before_links_is_upgraded_and_verifies_clean(db_target, frozen_clock):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        await store.execute(c.NewCase(title="typed by hand", customer="Acme", severity=Severity.SEV2), "dana")
    backend = "sqlite" if db_target.is_sqlite else "postgresql"
    await sql(db_target, text("DROP INDEX ux_cases_source"), text("ALTER TABLE cases DROP COLUMN source_name"),
              text("ALTER TABLE cases DROP COLUMN source_id"), text(_OLD_STATES[backend]),
              text("DROP TABLE source_states"),  # as before 0011 too
              text("UPDATE alembic_version SET version_num = '0008'"))
    async with await Store.open(db_target, clock=frozen_clock) as store:
        assert store.migrated and not await store.verify()
        roster = await imports.importer(store, "dana")
        report = await imports.write_tickets(store, ZD, tickets(2, frozen_clock.now), "dana", roster)
        assert report.created == 2 and not await store.verify()


async def test_a_link_moved_with_its_state_never_steers_an_import(db_target, frozen_clock):
    """A member moves the ticket link, and the linked case's whole state with it, onto another case's
    row: the import finds the case by the log, decides from the log's fold of it, updates it (the
    report says so, truly) and unlinks the row that claimed the ticket."""
    found = tickets(1, frozen_clock.now)
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        roster = await imports.importer(store, "dana")
        await imports.write_tickets(store, ZD, found, "dana", roster)
        victim = (await store.execute(c.NewCase(title="Other", customer="Globex", severity=Severity.SEV3),
                                      "dana")).changed_case.id
        await sql(db_target, text("UPDATE cases SET source_name = NULL, source_id = NULL WHERE id = 'CW-1001'"),
                  text("UPDATE cases SET source_name = 'zd', source_id = '48000', "
                       "state = (SELECT state FROM cases WHERE id = 'CW-1001') WHERE id = :victim")
                  .bindparams(victim=victim))
        renamed = [found[0].model_copy(update={"title": "ticket 0, renamed"})]
        report = await imports.write_tickets(store, ZD, renamed, "dana", roster)
        assert [plan.case_id for plan in report.updated] == ["CW-1001"] and report.created == 0
        assert [e.type.value for e in await store.case_events(victim)] == ["case_created"]
        assert (await store.linked_cases("zd", ["48000"]))["48000"].title == "ticket 0, renamed"
        async with store._reader.connect() as conn:
            linked = (await conn.execute(select(cases.c.id).where(cases.c.source_id == "48000"))).scalars().all()
        assert linked == ["CW-1001"]
        assert {d.table for d in await store.verify()} == {"cases"}  # the victim's row still holds the copied state
        await store.rebuild()
        assert not await store.verify()
