"""The board replayed as of an instant (`casewatch --as-of T`): what it showed then, read-only."""

from __future__ import annotations

from datetime import timedelta

from casewatch.core import commands as c
from casewatch.core.models import Status
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from casewatch.tui.screens.board import BoardScreen
from tests.tui.helpers import notifications, shown_ids, table


async def test_replay_shows_the_board_as_it_stood_and_writes_nothing(board_db, frozen_clock, writer):
    before = frozen_clock.now
    some = sorted((await writer.open_cases()), key=lambda case: case.id)[0]
    frozen_clock.advance(minutes=30)
    await writer.execute(c.ChangeStatus(case_id=some.id, status=Status.RESOLVED), "dana")
    frozen_clock.advance(minutes=30)

    live = CasewatchApp(resolve_target(board_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=False)
    async with live.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert some.id not in shown_ids(live)

    replay = CasewatchApp(resolve_target(board_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=True,
                          replay_at=before + timedelta(minutes=1))
    async with replay.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        assert some.id in shown_ids(replay)
        assert replay.now() == before + timedelta(minutes=1)  # its clock stands at the replayed instant
        bar = str(replay.screen.query_one("#clockbar").render())
        assert "REPLAY · read-only" in bar and "14:01:00 UTC" in bar
        pane = table(replay, some.severity.value.lower())
        pane.focus()
        pane.move_cursor(row=pane.get_row_index(some.id))
        await pilot.press("n")
        await pilot.pause()
        assert "This board is a replay of the past: it is read-only." in notifications(replay)
        assert isinstance(replay.screen, BoardScreen)  # no form opened
    assert (await writer.get_case(some.id)).version == some.version + 1  # only the resolve was written
