"""A lead sees on the board's status line how many events of the log were quarantined."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from casewatch.core.models import Event, EventType
from casewatch.tui.screens.event import event_text
from tests.tui.helpers import workers_done
from tests.tui.test_views import status


def forge(path) -> None:
    """tom, an agent, writes himself onto the roster as a lead, straight into the SQLite file."""
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO events (case_id, type, actor, occurred_at, recorded_at, payload) VALUES "
                   "(NULL, 'person_added', 'tom', '2026-11-27 13:00:00.000000', '2026-11-27 13:00:00.000000', "
                   "'{\"name\": \"tom\", \"role\": \"lead\", \"tz\": \"UTC\", \"before\": null}')")


@pytest.mark.parametrize(("actor", "shown"), [("dana", True), ("tom", False)])
async def test_a_lead_sees_the_quarantined_count(make_app, board_db, actor, shown):
    forge(board_db)
    app = make_app(actor=actor)
    async with app.run_test(size=(200, 60)) as pilot:
        await workers_done(app)
        await pilot.pause()
        assert ("⚠ 1 quarantined (db audit)" in status(app)) is shown, status(app)
        assert app.state.roster["tom"].role.value == "agent"


def test_an_event_at_a_time_the_zone_cannot_reach_is_shown_in_utc():
    """A log's time at the edge of what storage reads (models.READABLE, or year 1 in an older
    build's log) west of UTC: the event screen names the time in UTC instead of crashing."""
    first = datetime(1, 1, 1, tzinfo=UTC)
    event = Event(id=1, case_id="CW-1001", type=EventType.NOTE_ADDED, actor="bob", occurred_at=first,
                  recorded_at=first, payload={"text": "et tu"})
    assert "UTC" in event_text(event, ZoneInfo("America/New_York")).splitlines()[0]
