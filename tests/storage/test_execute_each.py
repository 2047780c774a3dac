"""`Store.execute_each`: a bulk action, each case its own event in one transaction, where a case
that refuses is answered in its place and the others are written. Both backends."""

from __future__ import annotations

import pytest

from casewatch.core import commands as c
from casewatch.core.errors import Conflict, InvalidInput, NotFound
from casewatch.core.models import EventType, Person, Role, Severity
from casewatch.storage.store import Store

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")


@pytest.fixture
async def store(db_target, frozen_clock):
    opened = await Store.open(db_target, clock=frozen_clock, creator=LEAD)
    await opened.execute(c.AddPerson(name="raj", role=Role.AGENT, tz="Asia/Kolkata"), "dana")
    yield opened
    await opened.close()


async def test_refusals_are_answered_in_place_and_the_rest_written(store):
    ids = [(await store.execute(c.NewCase(title=f"Case {n}", customer="ACME", severity=Severity.SEV2), "dana"))
           .changed_case.id for n in range(4)]
    seen = {case_id: (await store.get_case(case_id)).version for case_id in ids}
    await store.execute(c.Note(case_id=ids[1], text="someone else was here"), "raj")  # ids[1] moves on
    await store.execute(c.Assign(case_id=ids[2], name="raj"), "dana")
    commands = [c.Assign(case_id=case_id, name="raj", expect_version=seen[case_id]) for case_id in ids]
    results = await store.execute_each([*commands, c.Assign(case_id="CW-9999", name="raj")], "dana")
    assert [type(result).__name__ for result in results] == ["Outcome", "Conflict", "Conflict", "Outcome", "NotFound"]
    assert isinstance(results[1], Conflict) and isinstance(results[4], NotFound)
    assert [(await store.get_case(case_id)).internal_owner for case_id in ids] == ["raj", None, "raj", "raj"]
    written = [e for case_id in ids for e in await store.case_events(case_id) if e.type is EventType.OWNER_ASSIGNED]
    assert sorted(e.case_id for e in written) == [ids[0], ids[2], ids[3]]  # ids[2]: only the earlier one
    assert await store.verify() == []  # the projections agree with the log


async def test_every_refusal_writes_nothing(store):
    case_id = (await store.execute(c.NewCase(title="x", customer="ACME", severity=Severity.SEV3), "dana")).changed_case.id
    before = await store.high_water()
    results = await store.execute_each([c.Assign(case_id=case_id, name="nobody-here")], "dana")
    assert isinstance(results[0], NotFound | InvalidInput) and await store.high_water() == before


async def test_an_undo_puts_nobody_back(store):
    case_id = (await store.execute(c.NewCase(title="x", customer="ACME", severity=Severity.SEV3), "dana")).changed_case.id
    taken = await store.execute(c.Assign(case_id=case_id, name="dana"), "dana")
    undone = await store.execute(c.Assign(case_id=case_id, name=None, expect_version=taken.changed_case.version),
                                 "dana")
    assert undone.changed_case.internal_owner is None
    assert [e.payload for e in await store.case_events(case_id)][-1] == {"before": "dana", "after": None}
    with pytest.raises(InvalidInput):
        await store.execute(c.Assign(case_id=case_id, name=None), "dana")
    assert await store.verify() == []
