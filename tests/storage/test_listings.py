"""Case listings kept beside the case rows (storage.listings): what a listing reads is always what
the cases' states say under the policy in force, whether the stored listing is current, missing,
planned under another policy or from an older version of the case."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from casewatch.core import commands as c
from casewatch.core.demo import demo_plan
from casewatch.core.listing import list_case, listing_from_json, planned_under
from casewatch.core.models import Person, Role, Severity, Status
from casewatch.core.policy import DEFAULT_POLICY_TOML
from casewatch.core.projection import replay_cases
from casewatch.storage import convert
from casewatch.storage.listings import LISTED
from casewatch.storage.schema import cases, events
from casewatch.storage.seed import write_demo
from casewatch.storage.store import Store

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")
SLOWER = DEFAULT_POLICY_TOML.replace('owner = "15m"', 'owner = "45m"', 1)


async def seeded(db_target, clock, count: int = 25) -> Store:
    store = await Store.open(db_target, clock=clock, creator=LEAD)
    await write_demo(store, demo_plan(count, seed=5, now=clock.now), "dana")
    return store


async def expected(store: Store, status: Status | None = None, *, every: bool = False) -> dict:
    policy = await store.policy()
    return {case.id: list_case(case, policy) for case in await store.listed_cases(status, every=every)}


async def listed(store: Store, status: Status | None = None, *, every: bool = False) -> dict:
    found = await store.listings(status, every=every)
    assert len(found) == len({listing.id for listing in found})
    return {listing.id: listing for listing in found}


async def stored_rows(db_target) -> dict:
    """Each case's stored listing (or None) and its row version, read past the store."""
    engine = create_async_engine(db_target.url)
    try:
        async with engine.connect() as conn:
            return {row.id: (convert.stored_listing(row.listing), row.version) for row in await conn.execute(LISTED)}
    finally:
        await engine.dispose()


async def sql(db_target, *statements) -> None:
    engine = create_async_engine(db_target.url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(statement)
    finally:
        await engine.dispose()


async def test_every_write_stores_the_listing_a_listing_reads(db_target, frozen_clock):
    async with await seeded(db_target, frozen_clock) as store:
        policy = await store.policy()
        rows = await stored_rows(db_target)
        assert rows and all(planned_under(stored, policy.version, version) for stored, version in rows.values())
        every = await expected(store, every=True)
        assert {cid: listing_from_json(stored) for cid, (stored, _v) in rows.items()} == every
        assert await listed(store) == await expected(store)
        assert await listed(store, every=True) == every
        assert await listed(store, Status.RESOLVED) == await expected(store, Status.RESOLVED)


async def test_a_listing_that_is_missing_or_not_current_is_made_from_the_state(db_target, frozen_clock):
    async with await seeded(db_target, frozen_clock) as store:
        ids = sorted((await expected(store)).keys())
        missing, other_policy, older_case = ids[0], ids[1], ids[2]
        rows = await stored_rows(db_target)
        wrong = {**rows[other_policy][0], "title": "stale", "policy": 99}
        behind = {**rows[older_case][0], "title": "stale", "version": rows[older_case][1] - 1}
        await sql(db_target,
                  update(cases).where(cases.c.id == missing).values(listing=None),
                  update(cases).where(cases.c.id == other_policy).values(listing=wrong),
                  update(cases).where(cases.c.id == older_case).values(listing=behind))
        found = await listed(store)
        assert found == await expected(store)
        assert "stale" not in {listing.title for listing in found.values()}


async def test_a_new_policy_plans_the_open_cases_again(db_target, frozen_clock):
    async with await seeded(db_target, frozen_clock) as store:
        before = await expected(store)
        await store.execute(c.ApplyPolicy(toml=SLOWER), "dana")
        policy = await store.policy()
        rows = await stored_rows(db_target)
        open_ids = set(before)
        assert all(planned_under(rows[cid][0], policy.version, rows[cid][1]) for cid in open_ids)
        now = await listed(store)
        assert now == await expected(store) and now != before  # SEV1 owners who are not named yet: 45m, not 15m
        assert await listed(store, every=True) == await expected(store, every=True)  # resolved: made from state


async def test_a_database_from_before_listings_gets_them_when_it_is_upgraded(db_target, frozen_clock):
    async with await seeded(db_target, frozen_clock) as store:
        want = await expected(store)
    await sql(db_target, update(cases).values(listing=None), text("UPDATE alembic_version SET version_num = '0007'"),
              text("ALTER TABLE cases DROP COLUMN listing"), text("DROP INDEX ux_cases_source"),
              text("ALTER TABLE cases DROP COLUMN source_name"), text("ALTER TABLE cases DROP COLUMN source_id"),
              text("DROP TABLE source_states"))  # as before 0008, 0009 and 0011 (0010 and 0012 rerun in place)
    async with await Store.open(db_target, clock=frozen_clock) as store:
        assert store.migrated
        rows = await stored_rows(db_target)
        policy = await store.policy()
        assert {cid for cid, (stored, version) in rows.items()
                if stored is not None and planned_under(stored, policy.version, version)} == set(want)
        assert await listed(store) == want


async def test_listings_as_of_an_instant_are_a_replay_of_the_log_up_to_it(db_target, frozen_clock):
    async with await seeded(db_target, frozen_clock, count=30) as store:
        await store.execute(c.ApplyPolicy(toml=SLOWER), "dana", at=frozen_clock.now - timedelta(hours=2))
        log, history = await store.all_events(), await store.policy_history()
        now = frozen_clock.now
        for at in (now, now - timedelta(minutes=30), now - timedelta(hours=3), now - timedelta(days=1)):
            found, policy = await store.open_listings_as_of(at), history.at(at)
            replayed = replay_cases(e for e in log if e.occurred_at <= at)
            want = {case.id: list_case(case, policy) for case in replayed.values() if case.is_open}
            assert {listing.id: listing for listing in found} == want, at
            assert len(found) == len(want)


async def test_events_read_back_or_stamped_without_validation_equal_validated_ones(db_target, frozen_clock):
    async with await seeded(db_target, frozen_clock, count=10) as store:
        engine = create_async_engine(db_target.url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(convert.LOGGED)).all()
                full = {row.id: row for row in await conn.execute(select(events))}
        finally:
            await engine.dispose()
        assert rows
        for row in rows:
            trusted, checked = convert.event_from_trusted_row(row), convert.event_from_row(full[row.id])
            assert trusted == checked and trusted.model_fields_set == checked.model_fields_set
            assert trusted.model_dump() == checked.model_dump()
            unstored = checked.model_copy(update={"id": None})
            assert convert.stored_event(unstored, {"id": row.id}) == checked
            assert unstored.id is None  # a copy, not the same event changed
        assert [e.id for e in await store.all_events()] == sorted(row.id for row in rows)


async def test_a_database_from_before_severity_steps_is_refolded_when_upgraded(db_target, frozen_clock):
    """0012: cases that changed severity are folded again (their steps shorten clocks from the raise),
    their listings planned again and their metric facts replayed: `db verify` finds nothing."""
    async with await seeded(db_target, frozen_clock) as store:
        raised = next(case for case in await store.listed_cases() if case.severity.value != "SEV1")
        await store.execute(c.ChangeSeverity(case_id=raised.id, severity=Severity.SEV1, reason="worse"), "dana")
        want, state = await expected(store), (await store.get_case(raised.id)).severity_steps
        assert state and await store.verify() == []
    engine = create_async_engine(db_target.url)
    try:
        async with engine.begin() as conn:
            for row in (await conn.execute(select(cases.c.id, cases.c.state))).all():
                old = {key: value for key, value in row.state.items() if key != "severity_steps"}
                await conn.execute(update(cases).where(cases.c.id == row.id).values(state=old))
            await conn.execute(text("UPDATE alembic_version SET version_num = '0011'"))
    finally:
        await engine.dispose()
    async with await Store.open(db_target, clock=frozen_clock) as store:
        assert store.migrated
        assert (await store.get_case(raised.id)).severity_steps == state
        assert await store.verify() == []
        assert await listed(store) == want


async def test_a_stricter_policy_counts_no_update_miss_before_it_and_old_facts_are_refolded(db_target, frozen_clock):
    """0013: a policy that shortens the update window runs it from the moment it took force (the rule
    a raise follows); the facts kept before that rule are folded again from the log."""
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        cid = (await store.execute(c.NewCase(title="t", customer="ACME", severity=Severity.SEV2), "dana")).changed_case.id
        frozen_clock.advance(minutes=40)  # SEV2: an update every hour; 40 minutes of it gone
        await store.execute(c.ApplyPolicy(toml=DEFAULT_POLICY_TOML.replace(
            'customer_update_every = "1h"', 'customer_update_every = "20m"', 1)), "dana")
        frozen_clock.advance(minutes=10)
        await store.execute(c.Retitle(case_id=cid, title="t2"), "dana")
        assert await store.verify() == []
    engine = create_async_engine(db_target.url)
    try:
        async with engine.begin() as conn:
            row = (await conn.execute(select(cases.c.facts).where(cases.c.id == cid))).one()
            assert row.facts["update_breached"] is False  # due 20 minutes after the policy, not 20 before
            stale = {**row.facts, "update_breached": True}  # as the rule before 0013 kept it
            await conn.execute(update(cases).where(cases.c.id == cid).values(facts=stale))
            await conn.execute(text("UPDATE alembic_version SET version_num = '0012'"))
    finally:
        await engine.dispose()
    async with await Store.open(db_target, clock=frozen_clock) as store:
        assert store.migrated
        assert await store.verify() == []
    engine = create_async_engine(db_target.url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(select(cases.c.facts).where(cases.c.id == cid))).one().facts[
                "update_breached"] is False
    finally:
        await engine.dispose()
