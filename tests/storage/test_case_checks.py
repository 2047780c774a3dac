"""A store that writes to a case again checks only the events the case gained since (storage.case_checks),
and decides from exactly what a store folding the whole log decides from: after backfills and
writes to other cases, and after an event slipped into the log below what it had read."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from casewatch.core import commands as c
from casewatch.core.models import Person, Role, Severity
from casewatch.core.policy import DEFAULT_POLICY_TOML
from casewatch.core.projection import replay_cases
from casewatch.storage.store import Store
from tests.storage.test_listings import sql

LEAD = Person(name="dana", role=Role.LEAD, tz="UTC")


async def _folded_afresh(db_target, frozen_clock, case_id: str):
    async with await Store.open(db_target, clock=frozen_clock) as fresh:
        return replay_cases(await fresh.case_events(case_id))[case_id]


async def test_going_on_decides_as_the_whole_fold_does(db_target, frozen_clock):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        await store.execute(c.AddPerson(name="mei", role=Role.AGENT), "dana")
        first = (await store.execute(c.NewCase(title="Slow", customer="Acme", severity=Severity.SEV2), "dana"))
        other = (await store.execute(c.NewCase(title="Down", customer="Initech", severity=Severity.SEV1), "dana"))
        case_id = first.changed_case.id
        steps = [
            (c.Note(case_id=case_id, text="one"), "mei", None),
            (c.Note(case_id=other.changed_case.id, text="between"), "dana", None),
            (c.Assign(case_id=case_id, name="mei"), "dana", None),
            (c.Note(case_id=case_id, text="backfilled"), "dana", -timedelta(minutes=10)),  # between the two before it
            (c.ChangeSeverity(case_id=case_id, severity=Severity.SEV1, reason="spreading"), "dana", None),
            (c.Note(case_id=case_id, text="last"), "mei", None),
        ]
        for command, actor, back in steps:
            frozen_clock.advance(minutes=7)
            at = None if back is None else frozen_clock() + back
            outcome = await store.execute(command, actor, at=at)
            afresh = await _folded_afresh(db_target, frozen_clock, outcome.changed_case.id)
            assert outcome.changed_case == afresh
        assert afresh.version == 6 and afresh.severity is Severity.SEV1
        assert not await store.verify()  # the metric facts kept step by step are the whole fold's too


async def test_an_event_slipped_in_below_what_was_read_is_folded_before_the_next_write(db_target, frozen_clock):
    """An edited SQLite file, or on PostgreSQL a row committed late under an id drawn early: an event
    of the case appears under an id below the last one the store read (here, in the place of another
    case's event). The count the store checks no longer matches, so it folds the case from the
    start and decides from the event too."""
    target = db_target
    async with await Store.open(target, clock=frozen_clock, creator=LEAD) as store:
        case_id = (await store.execute(c.NewCase(title="Slow", customer="Acme", severity=Severity.SEV2),
                                       "dana")).changed_case.id
        other_id = (await store.execute(c.NewCase(title="Down", customer="Initech", severity=Severity.SEV3),
                                        "dana")).changed_case.id
        other_note = (await store.execute(c.Note(case_id=other_id, text="theirs"), "dana")).event
        note = (await store.execute(c.Note(case_id=case_id, text="mine"), "dana")).event
        await store.execute(c.Note(case_id=case_id, text="mine again"), "dana")  # it read up to "mine"
        assert other_note.id is not None and note.id is not None and other_note.id < note.id
        await sql(target, text("DELETE FROM events WHERE id = :slot").bindparams(slot=other_note.id),
                  text("INSERT INTO events (id, case_id, type, actor, occurred_at, recorded_at, payload) "
                       "SELECT :slot, case_id, type, actor, occurred_at, recorded_at, payload FROM events "
                       "WHERE id = :note").bindparams(slot=other_note.id, note=note.id))
        after = (await store.execute(c.Note(case_id=case_id, text="next"), "dana")).changed_case
    afresh = await _folded_afresh(target, frozen_clock, case_id)
    assert after.version == afresh.version == 5  # created, the slipped-in copy, mine, mine again, next
    assert after == afresh


async def test_writes_that_follow_the_last_event_fold_the_metric_facts_one_step(db_target, frozen_clock, monkeypatch):
    """The kept facts go on by one step per new event; folding them from the case's first event is
    for a backfill or another policy history only (each write used to fold the whole case again)."""
    from casewatch.core import metrics
    from casewatch.storage import case_checks

    whole: list[int] = []
    fold_facts = metrics.fold_facts
    monkeypatch.setattr(case_checks.metrics, "fold_facts", lambda history, *a: whole.append(len(history)) or
                        fold_facts(history, *a))
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        case_id = (await store.execute(c.NewCase(title="Slow", customer="Acme", severity=Severity.SEV2),
                                       "dana")).changed_case.id
        for n in range(5):
            frozen_clock.advance(minutes=3)
            await store.execute(c.Note(case_id=case_id, text=f"note {n}"), "dana")
        assert whole == [1]  # the creation, the one time the case was new to the store
        await store.execute(c.Note(case_id=case_id, text="backfilled"), "dana", at=frozen_clock() - timedelta(minutes=5))
        assert whole == [1, 7]  # it landed inside the history: the 7 events from the first
        await store.execute(c.ApplyPolicy(toml=DEFAULT_POLICY_TOML), "dana")  # a new policy history
        await store.execute(c.Note(case_id=case_id, text="under the new history"), "dana")
        assert whole == [1, 7, 7]  # the same 7 under the new history, before the note
        assert not await store.verify()
