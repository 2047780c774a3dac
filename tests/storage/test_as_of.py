"""`open_cases_as_of` (projection rows plus a SQL-filtered refold) equals a full replay of the log."""

from datetime import timedelta

from casewatch.core import commands as c
from casewatch.core.demo import demo_plan
from casewatch.core.models import EventType, Person, Role, Status
from casewatch.core.projection import replay_cases, replay_floor
from casewatch.storage.seed import write_demo
from casewatch.storage.store import Store

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")


async def test_cases_as_of_any_instant_equal_a_replay_of_the_log_up_to_it(db_target, frozen_clock):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        ids = await write_demo(store, demo_plan(30, seed=9, now=frozen_clock.now), "dana")
        first, last = await store.get_case(ids[0]), await store.get_case(ids[-1])
        # A backfilled event inside a history, and a case closed late.
        await store.execute(c.Note(case_id=first.id, text="late"), "dana", at=first.escalated_at + timedelta(minutes=1))
        if last.is_open:
            await store.execute(c.ChangeStatus(case_id=last.id, status=Status.RESOLVED), "dana")
        log = await store.all_events()
        now = frozen_clock.now
        instants = [now, now - timedelta(minutes=20), now - timedelta(hours=3), now - timedelta(days=2),
                    first.escalated_at, first.escalated_at - timedelta(seconds=1), now - timedelta(days=60)]
        for at in instants:
            found, policy = await store.open_cases_as_of(at)
            replayed = replay_cases(e for e in log if e.occurred_at <= at)
            expected = {case.id: case for case in replayed.values() if case.is_open}
            assert {case.id: case for case in found} == expected, at
            assert len(found) == len(expected)
            floor = [e for e in log if e.case_id is None]  # the policy the floor's fold holds at `at`, else the first
            first = next(e.payload["toml"] for e in floor if e.type is EventType.POLICY_APPLIED)
            assert policy.source == (replay_floor(e for e in floor if e.occurred_at <= at).policy_source or first)
        assert len((await store.open_cases_as_of(now))[0]) == len(await store.open_cases())
        assert (await store.open_cases_as_of(now - timedelta(days=60)))[0] == []
