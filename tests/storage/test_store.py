"""The store on every backend: transactions, versions, conflicts, replay, migrations."""

import shutil
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from casewatch.core import commands as c
from casewatch.core.demo import demo_plan
from casewatch.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casewatch.core.models import Case, EventType, Person, Role, Severity, Status
from casewatch.core.policy import DEFAULT_POLICY_TOML
from casewatch.core.projection import replay_cases
from casewatch.storage.migrate import MIGRATIONS, current_revision, head_revision, known_revisions, revision_chain
from casewatch.storage.seed import write_demo
from casewatch.storage.store import Store

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")


@pytest.fixture
async def store(db_target, frozen_clock):
    opened = await Store.open(db_target, clock=frozen_clock, creator=LEAD)
    await opened.execute(c.AddPerson(name="raj", role=Role.AGENT, tz="Asia/Kolkata"), "dana")
    yield opened
    await opened.close()


async def new_case(store, title="Login fails [prod]", severity=Severity.SEV1) -> str:
    outcome = await store.execute(c.NewCase(title=title, customer="ACME", severity=severity), "raj")
    return outcome.case.id


async def test_new_database_registers_its_creator_as_lead_and_the_default_policy(store):
    roster = await store.roster()
    assert roster["dana"].role is Role.LEAD and roster["dana"].tz == "Europe/Berlin"
    policy = await store.policy()
    assert policy.version == 1 and policy.source == DEFAULT_POLICY_TOML


async def test_every_action_writes_event_and_projection_with_a_version(store, frozen_clock):
    cid = await new_case(store)
    assert cid == "CW-1001"
    frozen_clock.advance(minutes=3)
    outcome = await store.execute(c.Assign(case_id=cid, name="raj"), "dana")
    assert outcome.case.version == 2 and outcome.event.id is not None
    case = await store.get_case(cid)
    assert case.internal_owner == "raj" and case.version == 2
    assert case.owner_named_at == frozen_clock.now
    events = await store.case_events(cid)
    assert [e.type for e in events] == [EventType.CASE_CREATED, EventType.OWNER_ASSIGNED]
    assert events[1].payload == {"before": None, "after": "raj", "role": "agent"}
    assert events[0].occurred_at.tzinfo is not None  # aware UTC on every backend


async def test_case_ids_are_sequential(store):
    assert [await new_case(store) for _ in range(3)] == ["CW-1001", "CW-1002", "CW-1003"]


async def test_stale_version_is_a_conflict_naming_who_and_when(store, frozen_clock):
    cid = await new_case(store)
    seen = (await store.get_case(cid)).version
    frozen_clock.advance(minutes=1)
    await store.execute(c.Note(case_id=cid, text="meanwhile"), "raj")
    with pytest.raises(Conflict, match=r"CW-1001 was changed by raj at 2026-11-27 14:01:00 UTC \(now version 2, you had 1\)"
                                       r": note: meanwhile; nothing was written$"):
        await store.execute(c.Assign(case_id=cid, name="raj", expect_version=seen), "dana")
    assert (await store.get_case(cid)).internal_owner is None  # nothing was written
    assert len(await store.case_events(cid)) == 2


async def test_a_note_made_on_an_older_version_is_written_against_the_newer_one(store):
    """A note does not depend on what changed since the caller looked: no conflict."""
    cid = await new_case(store)
    await store.execute(c.Assign(case_id=cid, name="raj"), "dana")
    outcome = await store.execute(c.Note(case_id=cid, text="seen on v1", expect_version=1), "raj")
    assert outcome.changed_case.version == 3 and outcome.event.payload == {"text": "seen on v1"}


async def test_a_case_is_named_by_its_id_or_its_linked_ticket(store):
    """Both backends: the ticket key as people say it, the bare ticket id, any case; one refusal each."""
    from casewatch.core.errors import InvalidInput
    from casewatch.core.models import SourceLink

    async def linked(name: str, ticket: str) -> str:
        command = c.ImportTicket(title="t", customer="ACME", severity=Severity.SEV3,
                                 source=SourceLink(name=name, kind="csv", id=ticket))
        return (await store.execute(command, "dana")).case.id

    zd, jira, other = await linked("zd", "48220"), await linked("jira", "SUP-42"), await linked("hd", "48220")
    assert [await store.case_id_named(name) for name in ("ZD-48220", "zd-48220", " SUP-42", "sup-42", zd.lower())] \
        == [zd, zd, jira, jira, zd]
    assert await store.case_id_named("HD-48220") == other
    with pytest.raises(InvalidInput, match=f"several cases: {zd}, {other}"):
        await store.case_id_named("48220")
    with pytest.raises(NotFound, match="no case ZD-1 "):
        await store.case_id_named("zd-1")


async def test_denied_and_invalid_actions_write_nothing(store):
    cid = await new_case(store)
    before = await store.high_water()
    with pytest.raises(PermissionDenied):
        await store.execute(c.Assign(case_id=cid, name="raj"), "raj")
    with pytest.raises(NotFound, match="'ghost' is not on the roster"):
        await store.execute(c.Note(case_id=cid, text="x"), "ghost")
    with pytest.raises(NotFound, match="no case CW-9999"):
        await store.execute(c.Note(case_id="CW-9999", text="x"), "dana")
    assert await store.high_water() == before and "mo" not in await store.roster()


async def test_backfill_is_refolded_in_history_order(store, frozen_clock):
    escalated = frozen_clock.now - timedelta(hours=2)
    cid = (await store.execute(c.NewCase(title="t", customer="c", severity=Severity.SEV2), "raj", at=escalated)).case.id
    await store.execute(c.ChangeStatus(case_id=cid, status=Status.WAITING_ON_CUSTOMER), "dana",
                        at=escalated + timedelta(hours=1))
    outcome = await store.execute(c.CustomerUpdate(case_id=cid, known="k", investigating="i", next_milestone="m"),
                                  "dana", at=escalated + timedelta(minutes=30))
    assert outcome.event.backfilled
    case = await store.get_case(cid)
    assert case.last_customer_update_at == escalated + timedelta(minutes=30)
    assert case.status is Status.WAITING_ON_CUSTOMER
    with pytest.raises(InvalidInput, match="in the future"):
        await store.execute(c.Note(case_id=cid, text="x"), "dana", at=frozen_clock.now + timedelta(minutes=1))


async def test_projection_equals_a_replay_of_the_log(store, frozen_clock):
    await write_demo(store, demo_plan(25, seed=3, now=frozen_clock.now), "dana")
    events = await store.all_events()
    replayed = replay_cases(events)
    stored = {case.id: case for case in await store.open_cases()}
    assert stored and set(stored) <= set(replayed)
    for case_id, case in stored.items():
        assert replayed[case_id].model_dump(exclude={"updated_at", "updated_by"}) == \
            case.model_dump(exclude={"updated_at", "updated_by"})


async def test_changes_since_a_mark(store):
    await new_case(store)
    mark, roster_mark = await store.high_water(), await store.roster_mark()
    quiet = await store.changes_since(mark)
    assert quiet.high_water == mark and quiet.cases == []
    second = await new_case(store)
    changes = await store.changes_since(mark)
    assert changes.high_water > mark
    assert second in {case.id for case in changes.cases}
    assert changes.policy_version == 1 and changes.roster_mark == roster_mark
    await store.execute(c.AddPerson(name="mei", role=Role.SPECIALIST, tz="Asia/Singapore"), "dana")
    assert (await store.changes_since(changes.high_water)).roster_mark > roster_mark


async def test_marks_are_every_open_cases_version_and_marks_that_move_on_commit(store):
    first, second = await new_case(store), await new_case(store)
    marks = await store.marks()
    assert marks.cases == {first: 1, second: 1} and marks.policy_version == 1
    assert marks.high_water == await store.high_water() and marks.roster_mark == await store.roster_mark()
    await store.execute(c.ChangeStatus(case_id=first, status=Status.RESOLVED), "dana")
    await store.execute(c.Note(case_id=second, text="x"), "raj")
    await store.execute(c.AddPerson(name="mei", role=Role.SPECIALIST, tz="Asia/Singapore"), "dana")
    after = await store.marks()
    assert after.cases == {second: 2} and after.roster_mark > marks.roster_mark
    assert {case.id: case.is_open for case in await store.cases_by_id({first, second, "CW-9999"})} == \
        {first: False, second: True}


async def test_policy_versions(store):
    await store.execute(c.ApplyPolicy(toml=DEFAULT_POLICY_TOML.replace('"15m"', '"10m"'), source_name="p.toml"), "dana")
    policy = await store.policy()
    assert policy.version == 2 and policy[Severity.SEV1].owner_within == timedelta(minutes=10)
    with pytest.raises(PermissionDenied, match="applying a policy needs a lead"):
        await store.execute(c.ApplyPolicy(toml=DEFAULT_POLICY_TOML), "raj")


async def test_reopening_runs_no_migration_and_keeps_data(db_target, frozen_clock):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as first:
        cid = (await first.execute(c.NewCase(title="t", customer="c", severity=Severity.SEV3), "dana")).case.id
    async with await Store.open(db_target, clock=frozen_clock, creator=Person(name="other", role=Role.LEAD)) as again:
        assert (await again.get_case(cid)).title == "t"
        assert set(await again.roster()) == {"dana"}  # only a new database registers its creator


async def run_sql(target, sql: str) -> None:
    """Change a database behind the store's back, as another tool (or a newer casewatch) would."""
    engine = create_async_engine(target.url)
    async with engine.begin() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


@pytest.mark.parametrize("batched", [False, True], ids=["execute", "execute_many"])
async def test_a_driver_failure_is_one_line_and_writes_nothing(store, db_target, batched):
    """`execute` and `execute_many` (the importers' path) map driver errors the same way."""
    before = await store.high_water()
    await run_sql(db_target, "DROP TABLE counters")  # the next case id cannot be drawn
    command = c.NewCase(title="t", customer="c", severity=Severity.SEV3)
    with pytest.raises(InvalidInput) as info:
        if batched:
            await store.execute_many([(c.AddPerson(name="mo", role=Role.AGENT, tz="UTC"), "dana", None), (command, "raj", None)])
        else:
            await store.execute(command, "raj")
    message = str(info.value)
    assert message.startswith(f"database {db_target.describe()} failed (") and "counters" in message
    assert "nothing was written" in message
    assert "\n" not in message
    assert await store.high_water() == before and "mo" not in await store.roster()


async def test_schema_newer_than_the_code_is_refused(db_target, frozen_clock):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD):
        pass
    await run_sql(db_target, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(InvalidInput, match="has schema 9999, newer than this casewatch knows"):
        await Store.open(db_target, clock=frozen_clock)


@pytest.mark.empty_database
async def test_a_foreign_database_is_refused(db_target, frozen_clock):
    await run_sql(db_target, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(InvalidInput, match="not a casewatch one"):
        await Store.open(db_target, clock=frozen_clock)


SERVER_ONLY = {"ix_events_created_source", "ix_events_created_link", "ix_events_created_number", "ix_events_created_id"}
"""What the PostgreSQL triggers of 0010 and 0016 and the case-number and link reads use (expression
and partial indexes, as the migrations make them, no part of storage.schema)."""


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
async def test_migrations_match_the_schema_module(db_target, frozen_clock):
    """The Alembic migrations build exactly the tables `storage.schema` describes."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from casewatch.storage.schema import Base

    async with await Store.open(db_target, clock=frozen_clock):
        pass
    engine = create_async_engine(db_target.url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync, opts={
            "include_name": lambda name, kind, _: name not in SERVER_ONLY}), Base.metadata))
    await engine.dispose()
    assert diff == []
    engine = create_async_engine(db_target.url)
    async with engine.connect() as conn:
        assert await conn.run_sync(current_revision) == head_revision()
    await engine.dispose()


def test_the_head_is_whatever_the_newest_migration_file_says(tmp_path):
    """No hand-kept constant: a new revision file in the script directory is the head at once."""
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    old_head = head_revision()
    assert old_head in known_revisions() and head_revision(location) == old_head
    (location / "versions" / "9000_next.py").write_text(
        f'revision = "9000"\ndown_revision = "{old_head}"\n\ndef upgrade():\n    pass\n', encoding="utf-8")
    head_revision.cache_clear()  # a process reads the chain once: a new file counts from the next start
    revision_chain.cache_clear()
    assert head_revision(location) == "9000" and known_revisions(location) == known_revisions() | {"9000"}


def test_the_revision_chain_read_without_alembic_is_alembics():
    from alembic.script import ScriptDirectory

    from casewatch.storage.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    assert revision_chain() == {script.revision: script.down_revision for script in scripts.walk_revisions()}
    assert [head_revision()] == scripts.get_heads()


def test_opening_a_current_database_does_not_load_alembic_nor_sqlite_the_postgresql_dialects(tmp_path):
    """Alembic and the migrations load only to migrate: every command and board start would pay for them."""
    path = tmp_path / "current.db"
    probe = ("import asyncio, sys\n"
             "from casewatch.core import commands as c\n"
             "from casewatch.core.models import Person, Role, Severity\n"
             "from casewatch.storage.store import Store\n"
             "from casewatch.storage.target import resolve_target\n"
             "async def main():\n"
             "    lead = Person(name='lead', role=Role.LEAD, tz='UTC')\n"
             "    async with await Store.open(resolve_target(sys.argv[1]), creator=lead) as store:\n"
             "        await store.execute(c.NewCase(title='t', customer='c', severity=Severity.SEV2), 'lead')\n"
             "        print(store.migrated, 'alembic' in sys.modules, 'sqlalchemy.dialects.postgresql' in sys.modules)\n"
             "asyncio.run(main())\n")
    runs = [subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True)
            for _ in range(2)]
    # Nor, once migrated, does a SQLite database load SQLAlchemy's PostgreSQL dialects (a write's upsert included).
    first, second = (run.stdout.split() for run in runs)
    assert first[:2] == ["True", "True"] and second == ["False", "False", "False"]


async def test_cases_read_in_bulk_share_one_record_of_their_fields(store):
    """Memory: 10,000 open cases held 22 MB of identical pydantic field sets."""
    await new_case(store)
    await new_case(store, "Exports slow")
    first, second = await store.open_cases()
    assert first.model_fields_set is second.model_fields_set == set(Case.model_fields)
    changed = first.model_copy(update={"title": "Exports fail"})
    assert changed.model_fields_set is not first.model_fields_set
    assert first.model_fields_set == set(Case.model_fields) and first == await store.get_case(first.id)


async def test_roster_policy_and_shift_lead_equal_a_replay_of_the_log(store, frozen_clock):
    from casewatch.core.projection import replay_floor

    await store.execute(c.StartShift(), "dana")
    await store.execute(c.AddPerson(name="raj", role=Role.SPECIALIST, tz="UTC", team="database"), "dana")
    floor = replay_floor(await store.all_events())
    assert floor.roster == await store.roster()
    assert floor.roster["raj"].role is Role.SPECIALIST
    assert floor.policy_source == (await store.policy()).source
    assert floor.shift_lead == "dana"


async def test_case_histories_stream_one_whole_case_at_a_time(store):
    first, second = await new_case(store), await new_case(store, "Exports slow")
    await store.execute(c.Note(case_id=first, text="later on the first case"), "raj")
    histories = [history async for history in store.case_histories()]
    assert [[e.case_id for e in h] for h in histories] == [[first, first], [second]]
    assert histories[0] == await store.case_events(first)
    assert {e.type for e in await store.floor_events()} >= {EventType.PERSON_ADDED, EventType.POLICY_APPLIED}


def test_sqlite_times_are_written_as_sqlalchemy_s_datetime_text():
    """SQLite's time text is made in one call on the write path: the same text the generic
    TypeDecorator + DATETIME processing makes, read back as the same instant, naive times refused."""
    from datetime import UTC, datetime, timezone
    from zoneinfo import ZoneInfo

    from sqlalchemy.dialects import sqlite
    from sqlalchemy.types import TypeDecorator

    from casewatch.storage.schema import UTCDateTime

    dialect = sqlite.dialect()
    column = UTCDateTime().dialect_impl(dialect)  # as a statement binds it: over SQLite's DATETIME
    ours, generic = column.bind_processor(dialect), TypeDecorator.bind_processor(column, dialect)
    read = column.result_processor(dialect, None)
    for value in (datetime(2026, 11, 27, 14, 0, tzinfo=UTC), datetime(2026, 7, 1, 9, 30, 5, 7, tzinfo=ZoneInfo("Europe/Berlin")),
                  datetime(999, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=-5)))):
        assert ours(value) == generic(value)
        assert read(ours(value)) == value
    assert ours(None) is None and generic(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 11, 27, 14, 0))
