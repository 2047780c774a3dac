"""A case keeps the latest change by anyone but its last author (what unread marks read: see
core.unread), stored with its state and folded into databases from before (migration 0017)."""

from __future__ import annotations

from sqlalchemy import text

from casewatch.core import commands as c
from casewatch.core.models import Person, Role, Severity
from casewatch.storage.store import Store
from tests.storage.test_listings import sql

LEAD = Person(name="dana", role=Role.LEAD, tz="UTC")

_OLD_STATES = {  # case states as casewatch wrote them before 0017: without the two keys
    "sqlite": "UPDATE cases SET state = json_remove(state, '$.others_version', '$.others_at')",
    "postgresql": "UPDATE cases SET state = (state::jsonb - 'others_version' - 'others_at')::json",
}


async def test_the_change_before_your_own_is_kept_and_folded_into_an_older_database(db_target, frozen_clock):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        await store.execute(c.AddPerson(name="mei", role=Role.AGENT), "dana")
        case_id = (await store.execute(c.NewCase(title="Slow", customer="Acme", severity=Severity.SEV2),
                                       "dana")).changed_case.id
        frozen_clock.advance(minutes=1)
        by_mei = (await store.execute(c.Note(case_id=case_id, text="seen"), "mei")).changed_case
        frozen_clock.advance(minutes=1)
        for text_ in ("mine", "mine again"):
            case = (await store.execute(c.Note(case_id=case_id, text=text_), "dana")).changed_case
        assert (case.updated_by, case.others_version, case.others_at) == ("dana", by_mei.version, by_mei.updated_at)
        alone = (await store.execute(c.NewCase(title="Quiet", customer="Initech", severity=Severity.SEV4),
                                     "dana")).changed_case
        assert (alone.others_version, alone.others_at) == (0, None)
        assert not await store.verify()
    backend = "sqlite" if db_target.is_sqlite else "postgresql"
    await sql(db_target, text(_OLD_STATES[backend]), text("UPDATE alembic_version SET version_num = '0016'"))
    async with await Store.open(db_target, clock=frozen_clock) as store:
        assert store.migrated and not await store.verify()
        assert await store.get_case(case_id) == case
