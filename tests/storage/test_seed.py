"""Batched seeding (the import path) writes exactly what case-by-case commands write."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from casewatch.core import commands as c
from casewatch.core.demo import Step, _update, demo_plan
from casewatch.core.models import EventType, Person, Role, Severity
from casewatch.core.policy import DEFAULT_POLICY_TOML
from casewatch.storage import seed
from casewatch.storage.schema import Base
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from tests.conftest import create_pg_database, drop_pg_database

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")


@pytest.fixture
def other_db_url(db_url, tmp_path):
    """A second database on the same backend as `db_url`."""
    if db_url.startswith("postgresql"):
        url = create_pg_database()
        yield url
        drop_pg_database(url)
    else:
        yield str(tmp_path / "case-by-case.db")


async def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    engine = create_async_engine(resolve_target(url).url)
    try:
        async with engine.connect() as conn:
            return {
                table.name: [tuple(row) for row in await conn.execute(select(table).order_by(*table.primary_key))]
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_batched_seeding_writes_the_same_events_and_projections_as_case_by_case(
        db_url, other_db_url, frozen_clock, monkeypatch):
    plan = demo_plan(40, seed=5, now=frozen_clock.now)
    # A backfilled note lands inside its case's history, so the batch refolds that case too.
    backfilled = plan.cases[30]
    backfilled.steps.append(Step(backfilled.actor, backfilled.at, lambda cid: c.Note(case_id=cid, text="late")))
    monkeypatch.setattr(seed, "BATCH_CASES", 15)  # several batches, the last one partial

    async with await Store.open(resolve_target(db_url), clock=frozen_clock, creator=LEAD) as store:
        batched_ids = await seed.write_demo(store, plan, "dana")
    async with await Store.open(resolve_target(other_db_url), clock=frozen_clock, creator=LEAD) as store:
        for person in plan.people:
            if person.name != LEAD.name:
                await store.execute(person, "dana")
        await store.execute(c.StartShift(), "dana", at=plan.shift_started)  # as the seeder starts one
        one_by_one_ids = []
        for script in plan.cases:
            case_id = (await store.execute(script.new, script.actor, at=script.at)).event.case_id
            for step in script.steps:
                await store.execute(step.make(case_id), step.actor, at=step.at)
            one_by_one_ids.append(case_id)

    assert batched_ids == one_by_one_ids == [f"CW-{1001 + i}" for i in range(40)]
    batched, one_by_one = await dump(db_url), await dump(other_db_url)
    assert len(batched["events"]) > 40 * 5
    assert any(row[-1]["text"] == "late" for row in batched["events"] if row[2] == "note_added")
    for table in batched:
        assert batched[table] == one_by_one[table], table


async def test_a_batch_of_floor_and_case_commands_writes_what_one_command_at_a_time_writes(
        db_url, other_db_url, frozen_clock):
    """Floor commands in a batch: a person added (then renamed) acts and is assigned further on in
    the same batch, and a policy applied in the middle is the one the later cases are decided under."""
    hours = [frozen_clock.now - timedelta(hours=h) for h in range(12, 0, -1)]
    items = [
        (c.AddPerson(name="zoe", role=Role.AGENT, tz="Asia/Tokyo"), "dana", hours[0]),
        (c.NewCase(title="Export fails", customer="ACME", severity=Severity.SEV3), "zoe", hours[1]),
        (lambda cid: c.Assign(case_id=cid, name="zoe"), "dana", hours[2]),
        (c.AddPerson(name="raj", role=Role.LEAD, tz="Asia/Kolkata"), "dana", hours[3]),
        (c.RenamePerson(old="zoe", new="zoey"), "raj", hours[4]),
        (lambda cid: c.Note(case_id=cid, text="renamed, still on it"), "zoey", hours[5]),
        (c.ApplyPolicy(toml=DEFAULT_POLICY_TOML.replace('"15m"', '"10m"'), source_name="p.toml"), "raj", hours[6]),
        (c.NewCase(title="Login fails", customer="Initech", severity=Severity.SEV1), "zoey", hours[7]),
        (lambda cid: c.Assign(case_id=cid, name="zoey"), "raj", hours[9]),
        (c.StartShift(), "raj", hours[10]),
        (lambda cid: c.Review(case_id=cid, notes="On track."), "raj", hours[11]),
    ]
    async with await Store.open(resolve_target(db_url), clock=frozen_clock, creator=LEAD) as store:
        batched = await store.execute_many(items)
    async with await Store.open(resolve_target(other_db_url), clock=frozen_clock, creator=LEAD) as store:
        created, single = None, []
        for command, actor, at in items:
            outcome = await store.execute(command(created) if callable(command) else command, actor, at=at)
            created = outcome.event.case_id if outcome.event.type is EventType.CASE_CREATED else created
            single.append(outcome)

    assert batched == single
    assert batched[-1].changed_case.participants  # the review was decided: the batch went all the way
    assert await dump(db_url) == await dump(other_db_url)


async def test_a_batch_that_fails_half_way_writes_nothing(db_url, frozen_clock):
    async with await Store.open(resolve_target(db_url), clock=frozen_clock, creator=LEAD) as store:
        before = await dump(db_url)
        plan = demo_plan(3, seed=5, now=frozen_clock.now)
        items = [(p, "dana", None) for p in plan.people]
        items += [(plan.cases[0].new, "dana", None), (lambda cid: c.Assign(case_id=cid, name="nobody"), "dana", None)]
        with pytest.raises(Exception):  # noqa: B017 - which refusal is the rules' business; here: nothing written
            await store.execute_many(items)
        assert await dump(db_url) == before



async def test_a_batch_folds_its_cases_with_the_author_the_server_stamped(db_url, frozen_clock):
    """Team mode: PostgreSQL names the author of every event (a mapped login), whatever the batch said."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the server stamps authors on PostgreSQL only")
    from sqlalchemy import text

    from casewatch.core.projection import replay_cases

    async with await Store.open(resolve_target(db_url), clock=frozen_clock, creator=LEAD) as store:
        plan = demo_plan(3, seed=5, now=frozen_clock.now)
        await store.execute_many([(p, "dana", None) for p in plan.people if p.name != "dana"])
        await store.execute(c.AddPerson(name="raj", role=Role.LEAD, tz="Asia/Kolkata"), "dana")
        engine = create_async_engine(resolve_target(db_url).url)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO logins (login, person, last_event_id) VALUES (session_user, 'raj', 0)"))
        await engine.dispose()
        # (no customer update: its message is signed by the person it was decided as, dana here, so
        # stamped as raj's it is not what casewatch renders for raj, and the fold quarantines it)
        items = [(plan.cases[0].new, "dana", None), *((s.make, "dana", None) for s in plan.cases[0].steps
                                                      if s.make is not _update)]
        outcomes = await store.execute_many(items)
        case_id = outcomes[0].event.case_id
        assert {o.event.actor for o in outcomes} == {"raj"}
        stored = await store.get_case(case_id)
        assert stored == outcomes[-1].case == replay_cases(await store.case_events(case_id))[case_id]
        assert stored.updated_by == "raj" and stored.participants[0].name == "raj"


async def test_a_thousand_case_demo_floor_seeds(tmp_path, frozen_clock):
    """The plan never acts on a case after resolving it but for notes (a review after the resolve
    made `seed-demo --cases 1000` fail once resolved cases took no more changes)."""
    async with await Store.open(resolve_target(tmp_path / "big.db"), clock=frozen_clock, creator=LEAD) as store:
        ids = await seed.write_demo(store, demo_plan(1000, seed=42, now=frozen_clock.now), "dana")
        assert len(ids) == 1000
