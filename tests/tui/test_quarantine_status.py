"""A lead sees on the board's status line how many events of the log were quarantined."""

from __future__ import annotations

import sqlite3

import pytest

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
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert ("⚠ 1 quarantined (db audit)" in status(app)) is shown, status(app)
        assert app.state.roster["tom"].role.value == "agent"
