"""The shift lead's acknowledgement as an event, on both backends: written for the shift lead only,
accepted by the server's vet on PostgreSQL (migration 0014), read back by the checked fold; an
acknowledgement the fold would refuse is kept in the log and changes nothing."""

from __future__ import annotations

import pytest

from casewatch.core import commands as c
from casewatch.core.clocks import ClockKind
from casewatch.core.errors import PermissionDenied
from casewatch.core.models import EventType, Person, Role, Severity
from casewatch.core.views import describe_event
from casewatch.storage.store import Store

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")
ACK = {"clock": ClockKind.OWNER, "state": "breached"}


@pytest.fixture
async def store(db_target, frozen_clock):
    opened = await Store.open(db_target, clock=frozen_clock, creator=LEAD)
    await opened.execute(c.AddPerson(name="lee", role=Role.LEAD, tz="UTC"), "dana")
    await opened.execute(c.AddPerson(name="raj", role=Role.AGENT, tz="Asia/Kolkata"), "dana")
    yield opened
    await opened.close()


async def test_the_shift_leads_ack_is_a_timeline_line_and_nobody_elses_is_written(store):
    case_id = (await store.execute(c.NewCase(title="x", customer="ACME", severity=Severity.SEV2), "raj")).case.id
    for who in ("dana", "raj"):  # nobody leads yet; then an agent
        with pytest.raises(PermissionDenied):
            await store.execute(c.AcknowledgeAlert(case_id=case_id, **ACK), who)
    await store.execute(c.StartShift(), "dana")
    version = (await store.get_case(case_id)).version
    with pytest.raises(PermissionDenied, match="dana leads the shift"):
        await store.execute(c.AcknowledgeAlert(case_id=case_id, **ACK), "lee")  # a lead, not the shift lead
    await store.execute(c.AcknowledgeAlert(case_id=case_id, expect_version=version - 1, **ACK), "dana")
    [ack] = [e for e in await store.case_events(case_id) if e.type is EventType.ALERT_ACKNOWLEDGED]
    assert ack.actor == "dana" and describe_event(ack) == "ack by dana: owner clock breached"
    assert (await store.get_case(case_id)).version == version + 1
    assert await store.audit() == [] and await store.verify() == []


async def test_undo_of_c_puts_nobody_back_on_both_backends(store):
    case_id = (await store.execute(c.NewCase(title="x", customer="ACME", severity=Severity.SEV3), "dana")).case.id
    named = await store.execute(c.AssignComms(case_id=case_id, name="raj"), "dana")
    undone = await store.execute(c.AssignComms(case_id=case_id, name=None, expect_version=named.case.version), "dana")
    assert undone.case.comms_owner is None and await store.audit() == [] and await store.verify() == []
