"""Shifts and handoffs through the store, on every backend: prepare, accept, the rules, what changed
since, the default route authority, and the migration that brings shifts from older databases."""

import json

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from casewatch.core import commands as c
from casewatch.core.errors import InvalidInput, NotFound, PermissionDenied
from casewatch.core.handoff import HandoffStatus
from casewatch.core.models import EventType, Person, Role, Severity
from casewatch.core.projection import replay_floor
from casewatch.storage.migrate import alembic_config
from casewatch.storage.store import Store

DANA = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")


@pytest.fixture
async def store(db_target, frozen_clock):
    opened = await Store.open(db_target, clock=frozen_clock, creator=DANA)
    await opened.execute(c.AddPerson(name="ken", role=Role.LEAD, tz="Asia/Tokyo"), "dana")
    await opened.execute(c.AddPerson(name="ada", role=Role.LEAD, tz="America/Los_Angeles"), "dana")
    await opened.execute(c.AddPerson(name="raj", role=Role.AGENT, tz="Asia/Kolkata"), "dana")
    await opened.execute(c.StartShift(), "dana")
    yield opened
    await opened.close()


async def new_case(store, title="Login fails", severity=Severity.SEV1) -> str:
    return (await store.execute(c.NewCase(title=title, customer="ACME", severity=severity), "raj")).case.id


async def test_shift_start_records_the_lead_and_their_zone(store, frozen_clock):
    shift = await store.current_shift()
    assert (shift.lead, shift.tz, shift.started_at) == ("dana", "Europe/Berlin", frozen_clock.now)
    frozen_clock.advance(hours=1)
    await store.execute(c.StartShift(tz="Europe/Lisbon"), "ada")  # travelling: her zone for this shift
    shift = await store.current_shift()
    assert (shift.lead, shift.tz, shift.started_at) == ("ada", "Europe/Lisbon", frozen_clock.now)


async def test_prepare_then_accept_hands_the_shift_over(store, frozen_clock):
    first = await new_case(store, "Checkout down")
    await new_case(store, "Reports slow", Severity.SEV3)
    frozen_clock.advance(minutes=30)
    outcome = await store.execute(c.PrepareHandoff(to="ken", note="Watch checkout", case_notes={first: "rollback"}),
                                  "dana")
    assert outcome.event.type is EventType.HANDOFF_PREPARED and outcome.event.payload["id"] == 1
    handoff = await store.handoff(1)
    assert handoff.status is HandoffStatus.PENDING and (await store.lead_view()).pending == handoff
    packet = handoff.packet
    assert [case.id for case in packet.cases] == [first, "CW-1002"]  # the SEV1 has breached clocks
    assert packet.cases[0].note == "rollback" and packet.note == "Watch checkout"
    assert (packet.outgoing.name, packet.outgoing.tz, packet.incoming.name, packet.incoming.tz) == (
        "dana", "Europe/Berlin", "ken", "Asia/Tokyo")
    assert packet.summary.opened == [first, "CW-1002"]

    frozen_clock.advance(minutes=5)
    accepted = await store.execute(c.AcceptHandoff(handoff_id=1), "ken")
    assert accepted.event.payload["changes_since"] == {
        "new_cases": [], "closed": [], "severity_changes": [], "breaches": []}
    shift = await store.current_shift()
    assert (shift.lead, shift.tz, shift.started_at) == ("ken", "Asia/Tokyo", frozen_clock.now)
    assert (await store.handoff(1)).status is HandoffStatus.ACCEPTED
    assert (await store.lead_view()).pending is None
    assert replay_floor(await store.all_events()).shift_lead == "ken"


async def test_the_accept_rules_hold_through_the_store(store):
    await store.execute(c.PrepareHandoff(to="ken"), "dana")
    with pytest.raises(PermissionDenied, match="addressed to ken; ada may not accept it"):
        await store.execute(c.AcceptHandoff(handoff_id=1), "ada")
    with pytest.raises(PermissionDenied, match="dana prepared handoff 1 and cannot accept it"):
        await store.execute(c.AcceptHandoff(handoff_id=1), "dana")
    with pytest.raises(NotFound, match="no handoff 7"):
        await store.execute(c.AcceptHandoff(handoff_id=7), "ken")
    await store.execute(c.AcceptHandoff(handoff_id=1), "ken")
    with pytest.raises(InvalidInput, match="already accepted by ken"):
        await store.execute(c.AcceptHandoff(handoff_id=1), "ken")
    assert [h.id for h in await store.handoffs()] == [1]


async def test_only_the_shift_lead_prepares_and_only_for_a_lead(store):
    with pytest.raises(PermissionDenied, match="ada is not the shift lead"):
        await store.execute(c.PrepareHandoff(to="ken"), "ada")
    with pytest.raises(InvalidInput, match="raj is an agent: the incoming shift lead must be a lead"):
        await store.execute(c.PrepareHandoff(to="raj"), "dana")
    with pytest.raises(NotFound, match="no person named 'zed'"):
        await store.execute(c.PrepareHandoff(to="zed"), "dana")
    assert await store.handoffs() == []


async def test_a_new_packet_replaces_the_unaccepted_one(store):
    await store.execute(c.PrepareHandoff(to="ken"), "dana")
    await store.execute(c.PrepareHandoff(to="ada", note="ken is ill"), "dana")
    assert [(h.id, h.status) for h in await store.handoffs()] == [
        (2, HandoffStatus.PENDING), (1, HandoffStatus.SUPERSEDED)]
    with pytest.raises(InvalidInput, match="replaced by handoff 2"):
        await store.execute(c.AcceptHandoff(handoff_id=1), "ken")
    await store.execute(c.AcceptHandoff(handoff_id=2), "ada")


async def test_a_handoff_goes_stale_when_someone_else_takes_the_shift(store):
    await store.execute(c.PrepareHandoff(to="ken"), "dana")
    await store.execute(c.StartShift(), "ada")
    assert (await store.lead_view()).pending is None  # no banner for it any more
    with pytest.raises(InvalidInput, match="out of date: ada has led the shift since dana prepared it"):
        await store.execute(c.AcceptHandoff(handoff_id=1), "ken")


async def test_accept_keeps_what_changed_since_the_packet(store, frozen_clock):
    first = await new_case(store, "Checkout down", Severity.SEV2)
    await store.execute(c.PrepareHandoff(to="ken"), "dana")
    frozen_clock.advance(minutes=10)
    later = await new_case(store, "Webhooks late", Severity.SEV1)
    await store.execute(c.ChangeSeverity(case_id=first, severity=Severity.SEV1, reason="all EU"), "dana")
    frozen_clock.advance(minutes=20)
    changes = await store.handoff_changes(await store.handoff(1))
    assert [x.id for x in changes.new_cases] == [later]
    assert [(x.case_id, x.before, x.after) for x in changes.severity_changes] == [
        (first, Severity.SEV2, Severity.SEV1)]
    assert {(b.case_id, b.kind.value) for b in changes.breaches} >= {(later, "owner"), (first, "owner")}
    outcome = await store.execute(c.AcceptHandoff(handoff_id=1), "ken")
    assert outcome.event.payload["changes_since"] == json.loads(changes.model_dump_json())


async def test_the_shift_lead_is_the_default_route_authority(store):
    cid = await new_case(store)
    assert (await store.get_case(cid)).route_authority is None  # the case names none: the lead of the day
    await store.execute(c.PrepareHandoff(to="ken"), "dana")
    await store.execute(c.AcceptHandoff(handoff_id=1), "ken")
    assert (await store.current_shift()).lead == "ken"


async def test_preview_writes_nothing(store, frozen_clock):
    await new_case(store)
    packet = await store.handoff_preview("dana", "ken", note="draft")
    assert packet.prepared_at == frozen_clock.now and packet.note == "draft" and len(packet.cases) == 1
    assert await store.handoffs() == []
    with pytest.raises(NotFound, match="no person named 'zed'"):
        await store.handoff_preview("dana", "zed")


@pytest.mark.empty_database
async def test_migration_brings_the_shifts_of_an_older_database(db_target, frozen_clock):
    """A database from before handoffs (at 0003) whose log has shift starts gets them as shifts, in each lead's roster zone."""
    from alembic import command

    engine = create_async_engine(db_target.url)
    async with engine.begin() as conn:
        def before_handoffs(sync) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync
            command.upgrade(config, "0003")

        await conn.run_sync(before_handoffs)
        await conn.execute(text("INSERT INTO people (name, role, tz, team, version, last_event_id) "
                                "VALUES ('dana', 'lead', 'Europe/Berlin', NULL, 1, 1)"))
        await conn.execute(text(
            "INSERT INTO events (type, actor, occurred_at, recorded_at, payload) VALUES "
            "('person_added', 'casewatch', '2026-11-27 08:00:00', '2026-11-27 08:00:00', "
            "'{\"name\": \"dana\", \"role\": \"lead\", \"tz\": \"Europe/Berlin\", \"team\": null, \"before\": null}'),"
            "('shift_started', 'dana', '2026-11-27 09:00:00', '2026-11-27 09:00:00', "
            "'{\"lead\": \"dana\", \"before\": null}')"))
        await conn.execute(text("INSERT INTO settings (key, value, last_event_id) VALUES ('shift_lead', 'dana', 2)"))
    await engine.dispose()
    async with await Store.open(db_target, clock=frozen_clock) as store:
        assert store.migrated
        shift = await store.current_shift()
        assert (shift.lead, shift.tz, shift.started_at.isoformat()) == ("dana", "Europe/Berlin",
                                                                          "2026-11-27T09:00:00+00:00")
