"""The metric facts the store keeps beside each case give exactly the metrics a full replay of the
log gives: on random histories with backfills, pauses, severity changes, reopenings and reviews,
as of instants before, between and after their events, on every backend."""

from __future__ import annotations

import contextlib
import random
from datetime import timedelta

import pytest
from sqlalchemy import null, update

from casewatch.core import commands as c
from casewatch.core import metrics
from casewatch.core.breaches import case_breaches
from casewatch.core.clocks import ClockKind
from casewatch.core.errors import CasewatchError
from casewatch.core.models import Person, Role, Severity, Status
from casewatch.storage.schema import cases
from casewatch.storage.store import Store

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")


def random_command(rng: random.Random, case_id: str) -> c.Command:
    choices = [
        lambda: c.Assign(case_id=case_id, name=rng.choice(["dana", "raj"])),
        lambda: c.AssignComms(case_id=case_id, name="raj"),
        lambda: c.CustomerUpdate(case_id=case_id, known="k", investigating="i", next_milestone="m",
                                 next_update_in=rng.choice([None, "10m", "3h"])),
        lambda: c.ChangeSeverity(case_id=case_id, severity=rng.choice(list(Severity)), reason="r"),
        lambda: c.ChangeStatus(case_id=case_id, status=rng.choice(
            [Status.INVESTIGATING, Status.WAITING_ON_CUSTOMER, Status.RESOLVED])),
        lambda: c.Reopen(case_id=case_id),
        lambda: c.CloseCase(case_id=case_id, final_severity=rng.choice(list(Severity)), avoidable=rng.random() < 0.5),
        lambda: c.Review(case_id=case_id, notes="n"),
    ]
    return rng.choice(choices)()


async def write_random_history(store: Store, rng: random.Random, start, cases_n: int) -> list:
    """Cases escalated over two days from `start`, each with a dozen random steps, some backfilled
    before the case's latest event. Returns the instants used."""
    instants = []
    for _ in range(cases_n):
        escalated = start + timedelta(minutes=rng.randint(0, 48 * 60))
        case_id = (await store.execute(c.NewCase(title="t", customer="ACME", severity=rng.choice(list(Severity))),
                                       "dana", at=escalated)).case.id
        last = escalated
        for _ in range(12):
            if rng.random() < 0.15:
                at = escalated + (last - escalated) * rng.random()  # backfilled inside the history
            else:
                at = last = last + timedelta(minutes=rng.randint(1, 240))
            with contextlib.suppress(CasewatchError):  # refused by the rules (e.g. reopening an open case)
                await store.execute(random_command(rng, case_id), "dana", at=at)
            instants.append(at)
    return instants


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_kept_facts_count_as_a_full_replay(db_target, frozen_clock, seed):
    rng = random.Random(seed)
    start = frozen_clock.now - timedelta(days=20)
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        await store.execute(c.AddPerson(name="raj", role=Role.AGENT, tz="Asia/Kolkata"), "dana", at=start)
        await store.execute(c.StartShift(), "dana", at=start)
        instants = await write_random_history(store, rng, start, 12)
        floor = await store.floor_events()
        policies = await store.policy_history()
        histories = [history async for history in store.case_histories()]
        as_ofs = [frozen_clock.now, *rng.sample(sorted(instants), 4), start + timedelta(days=1)]
        windows = [(None, None), (start + timedelta(hours=12), start + timedelta(days=1, hours=12))]

        async def compare(label: str) -> None:
            for as_of in as_ofs:
                got = await store.metrics(windows, as_of)
                for (since, until), report in zip(windows, got, strict=True):
                    replayed = metrics.report(histories, floor, policies, as_of=as_of, since=since, until=until)
                    assert report.as_dict() == replayed.as_dict(), (label, as_of, since)
                for history in histories:  # the facts' breach is the breach history's (core.breaches)
                    facts = metrics.case_facts(history, policies, as_of)
                    listed = any(b.kind is ClockKind.CUSTOMER_UPDATE for b in case_breaches(history, policies, as_of))
                    assert facts is None or facts.update_breached == listed, (label, as_of, history[0].case_id)

        await compare("kept facts")
        overall = (await store.metrics(windows[:1], frozen_clock.now))[0].overall
        missed = overall.customer_update_miss_rate
        assert missed.denominator == 12 and 0 < missed.numerator < 12  # the histories do breach, not all of them
        assert overall.severity_mismatch_rate.numerator > 0 and overall.avoidable_escalation_rate.denominator > 0
        async with store._writer.begin() as conn:  # rows written before facts were kept: replayed instead
            await conn.execute(update(cases).where(cases.c.id.in_(["CW-1001", "CW-1003"])).values(facts=null()))
        await compare("rows without facts")
