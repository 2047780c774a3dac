"""Evidence through the store on SQLite and PostgreSQL: two writers, the gate, returns, the demo,
and databases written before item states existed."""

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from casewatch.core import commands as c
from casewatch.core.demo import demo_plan
from casewatch.core.errors import Conflict, InvalidInput
from casewatch.core.evidence import case_checklist, readiness
from casewatch.core.models import EventType, EvidenceState, Person, Role, Severity
from casewatch.core.policy import DEFAULT_POLICY_TOML, default_policy
from casewatch.core.views import describe_event
from casewatch.storage.migrate import alembic_config
from casewatch.storage.schema import cases, events, people, policies
from casewatch.storage.seed import write_demo
from casewatch.storage.store import Store

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")
S = EvidenceState


@pytest.fixture
async def store(db_target, frozen_clock):
    opened = await Store.open(db_target, clock=frozen_clock, creator=LEAD)
    await opened.execute(c.AddPerson(name="tom", role=Role.AGENT, tz="America/Chicago"), "dana")
    await opened.execute(c.AddPerson(name="ravi", role=Role.SPECIALIST, tz="Asia/Kolkata", team="database"), "dana")
    yield opened
    await opened.close()


async def new_case(store, severity=Severity.SEV2) -> str:
    return (await store.execute(c.NewCase(title="Export 502s", customer="ACME", severity=severity), "tom")).case.id


async def fill(store, cid, *keys, state=S.DONE):
    for key in keys:
        await store.execute(c.SetEvidence(case_id=cid, key=key, state=state, value=f"{key}: [b]as typed[/b]"), "tom")


ALL = ("impact", "identifiers", "timeline", "observed", "first_checks", "attachments", "open_question")


async def test_two_writers_on_different_items_both_succeed_on_the_same_item_one_conflicts(store, db_target,
                                                                                         frozen_clock):
    cid = await new_case(store)
    other = await Store.open(db_target, clock=frozen_clock)
    try:
        seen = await store.get_case(cid)  # both editors opened the case at this version
        a = c.SetEvidence(case_id=cid, key="impact", state=S.PARTIAL, value="200 users", expect_item_version=0)
        b = c.SetEvidence(case_id=cid, key="timeline", state=S.DONE, value="09:00 first error", expect_item_version=0)
        await asyncio.gather(store.execute(a, "tom"), other.execute(b, "ravi"))
        case = await store.get_case(cid)
        assert case.version == seen.version + 2
        assert (case.evidence["impact"].value, case.evidence["impact"].by) == ("200 users", "tom")
        assert (case.evidence["timeline"].value, case.evidence["timeline"].by) == ("09:00 first error", "ravi")

        mine = c.SetEvidence(case_id=cid, key="impact", state=S.DONE, value="mine", expect_item_version=1)
        theirs = c.SetEvidence(case_id=cid, key="impact", state=S.DONE, value="theirs", expect_item_version=1)
        results = await asyncio.gather(store.execute(mine, "tom"), other.execute(theirs, "ravi"),
                                       return_exceptions=True)
        conflicts = [r for r in results if isinstance(r, Conflict)]
        assert len(conflicts) == 1 and "evidence impact was changed by" in str(conflicts[0])
        winner = (await store.get_case(cid)).evidence["impact"]
        assert winner.version == 2 and winner.value in ("mine", "theirs")
        assert len([e for e in await store.case_events(cid) if e.type is EventType.EVIDENCE_SET]) == 3
    finally:
        await other.close()


async def test_history_keeps_every_version_of_an_item(store, frozen_clock):
    cid = await new_case(store)
    for text in ("first draft", "second draft", "final"):
        frozen_clock.advance(minutes=1)
        await store.execute(c.SetEvidence(case_id=cid, key="observed", state=S.PARTIAL, value=text), "tom")
    values = [e.payload["value"] for e in await store.case_events(cid) if e.type is EventType.EVIDENCE_SET]
    assert values == ["first draft", "second draft", "final"]
    record = (await store.get_case(cid)).evidence["observed"]
    assert (record.by, record.at, record.version) == ("tom", frozen_clock.now, 3)


async def test_gate_refuses_then_a_lead_override_is_logged_and_counted(store):
    cid = await new_case(store)
    await fill(store, cid, "impact", "identifiers")
    with pytest.raises(InvalidInput, match="required evidence not ready: timeline, observed, first_checks, "
                                           "attachments, open_question"):
        await store.execute(c.ChangeRoute(case_id=cid, route="specialist:database", reason="db"), "dana")
    assert (await store.get_case(cid)).route == "support"  # nothing written
    outcome = await store.execute(c.ChangeRoute(case_id=cid, route="specialist:database", reason="db",
                                                override="exec escalation"), "dana")
    assert outcome.case.route == "specialist:database" and outcome.case.gate_overrides == 1
    assert outcome.event.payload["override"] == "exec escalation"
    assert "evidence gate overridden: exec escalation (missing: timeline" in describe_event(outcome.event)


async def test_incident_is_never_blocked_and_the_case_is_flagged(store):
    from casewatch.core.views import case_flags

    cid = await new_case(store)
    outcome = await store.execute(c.ChangeRoute(case_id=cid, route="incident", reason="spreading"), "dana")
    assert outcome.event.payload["missing"] == list(ALL)
    assert "evidence not ready: impact, identifiers" in case_flags(outcome.case, await store.policy())[-1]


async def test_return_sends_back_clears_the_specialist_owner_and_marks_until_complete(store):
    cid = await new_case(store)
    await fill(store, cid, *ALL)
    await store.execute(c.ChangeRoute(case_id=cid, route="specialist:database", reason="db"), "dana")
    await store.execute(c.Assign(case_id=cid, name="ravi"), "dana")
    outcome = await store.execute(c.ReturnCase(case_id=cid, missing=("timeline", "reproduction"),
                                               reason="no times"), "ravi")
    case = outcome.case
    assert (case.route, case.internal_owner) == ("support", None)
    assert case.returned is not None and case.returned.keys == ("timeline", "observed")
    assert case.evidence["observed"].state is S.MISSING and case.evidence["observed"].reason == "no times"
    assert outcome.event.type is EventType.CASE_RETURNED
    await fill(store, cid, "timeline")
    assert (await store.get_case(cid)).returned is not None  # still one item short
    await fill(store, cid, "observed")
    assert (await store.get_case(cid)).returned is None


async def test_an_agent_not_on_the_case_may_not_return_it(store):
    from casewatch.core.errors import PermissionDenied

    cid = await new_case(store)
    await store.execute(c.ChangeRoute(case_id=cid, route="incident", reason="x"), "dana")
    with pytest.raises(PermissionDenied, match="tom may not return"):
        await store.execute(c.ReturnCase(case_id=cid, missing=("impact",), reason="thin"), "tom")


async def test_demo_fills_evidence_some_complete_some_thin_one_returned(db_target, frozen_clock):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        await write_demo(store, demo_plan(40, 7, frozen_clock.now), "dana")
        opened = await store.open_cases()
        items = (await store.policy()).evidence
        ready = [readiness(case_checklist(case, items)) for case in opened]
        assert sum(r.complete for r in ready) >= 5
        assert sum(not r.complete and r.ready > 0 for r in ready) >= 5
        assert len([case for case in opened if case.returned is not None]) == 1
        assert any(case.gate_overrides for case in opened)
        assert any(r.value.count("\n") >= 2 for case in opened for r in case.evidence.values())


async def _to_0001(target) -> None:
    from alembic import command

    engine = create_async_engine(target.url)
    async with engine.begin() as conn:
        def upgrade(sync) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync
            command.upgrade(config, "0001")
        await conn.run_sync(upgrade)
    await engine.dispose()


@pytest.mark.empty_database
async def test_a_database_from_before_item_states_keeps_its_history(db_target, frozen_clock):
    """Schema 0001 with the first checklist's events: ticked `logs` and `reproduction`, an untick."""
    await _to_0001(db_target)
    t0 = frozen_clock.now - timedelta(hours=2)
    old_list = [{"key": k, "label": k.title(), "done": False}
                for k in ("impact", "timeline", "identifiers", "reproduction", "logs", "first_checks")]
    log = [
        (None, "policy_applied", "casewatch", {"toml": DEFAULT_POLICY_TOML, "source": "default policy"}),
        (None, "person_added", "casewatch", {"name": "dana", "role": "lead", "tz": "UTC", "team": None,
                                             "before": None}),
        ("CW-1001", "case_created", "dana", {"title": "Old case", "customer": "ACME", "summary": "",
                                             "severity": "SEV2", "route": "support", "route_authority": "dana",
                                             "evidence": old_list}),
        ("CW-1001", "evidence_set", "dana", {"key": "logs", "label": "L", "before": False, "after": True}),
        ("CW-1001", "evidence_set", "dana", {"key": "reproduction", "label": "R", "before": False, "after": True}),
        ("CW-1001", "evidence_set", "dana", {"key": "impact", "label": "I", "before": False, "after": True}),
        ("CW-1001", "evidence_set", "dana", {"key": "impact", "label": "I", "before": True, "after": False}),
    ]
    engine = create_async_engine(db_target.url)
    async with engine.begin() as conn:
        for minute, (cid, kind, actor, payload) in enumerate(log):
            at = t0 + timedelta(minutes=minute)
            await conn.execute(sa.insert(events).values(case_id=cid, type=kind, actor=actor, occurred_at=at,
                                                        recorded_at=at, payload=payload))
        await conn.execute(sa.insert(policies).values(version=1, toml=DEFAULT_POLICY_TOML, applied_at=t0,
                                                      applied_by="casewatch", event_id=1))
        await conn.execute(sa.insert(people).values(name="dana", role="lead", tz="UTC", team=None, version=1,
                                                    last_event_id=2))
        old_state = {"id": "CW-1001", "title": "Old case", "customer": "ACME", "severity": "SEV2", "route": "support",
                     "evidence": old_list, "escalated_at": "x"}  # as the old code wrote it; refolded anyway
        await conn.execute(sa.insert(cases).values(id="CW-1001", severity="SEV2", status="new", is_open=True,
                                                   escalated_at=t0, version=5, updated_at=t0, updated_by="dana",
                                                   last_event_id=7, state=old_state))
    await engine.dispose()

    async with await Store.open(db_target, clock=frozen_clock) as store:
        assert store.migrated
        case = await store.get_case("CW-1001")
        assert {k: r.state for k, r in case.evidence.items()} == {"attachments": S.DONE, "observed": S.DONE,
                                                                 "impact": S.MISSING}
        assert case.version == 5
        history = await store.case_events("CW-1001")
        assert [describe_event(e) for e in history[1:]] == [
            "evidence attachments: missing → done", "evidence observed: missing → done",
            "evidence impact: missing → done", "evidence impact: done → missing"]
        assert history[2].payload["key"] == "reproduction"  # the log itself is untouched
        assert str(readiness(case_checklist(case, default_policy().evidence))) == "2/7"
        await store.execute(c.SetEvidence(case_id="CW-1001", key="logs", state=S.PARTIAL, value="link"), "dana")
        assert (await store.get_case("CW-1001")).evidence["attachments"].version == 2
