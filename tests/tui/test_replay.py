"""The board replayed as of an instant (`casewatch --as-of T`): what it showed then, read-only."""

from __future__ import annotations

from datetime import timedelta

from casewatch.core import commands as c
from casewatch.core.models import Status
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from casewatch.tui.screens.board import BoardScreen
from tests.tui.helpers import notifications, settled, shown_ids, table


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
        assert "REPLAY · read-only" in bar and "Fri 27 Nov 14:01:00 UTC" in bar  # the day: a replay may be days back
        pane = table(replay, some.severity.value.lower())
        pane.focus()
        pane.move_cursor(row=pane.get_row_index(some.id))
        await pilot.press("n")
        await pilot.pause()
        assert "This board is a replay of the past: it is read-only." in notifications(replay)
        assert isinstance(replay.screen, BoardScreen)  # no form opened
    assert (await writer.get_case(some.id)).version == some.version + 1  # only the resolve was written


async def test_a_case_opened_in_a_replay_is_the_case_as_it_stood_then(board_db, frozen_clock, writer):
    """From a fresh-eyes run: the replayed board showed a case's clocks as they stood, but its case
    screen showed the case as it is now, with the events since in its timeline."""
    from casewatch.tui.screens.case import CaseScreen

    before = frozen_clock.now
    some = sorted((await writer.open_cases()), key=lambda case: case.id)[0]
    frozen_clock.advance(minutes=30)
    await writer.execute(c.Note(case_id=some.id, text="written after the replayed instant"), "dana")
    late = await writer.execute(c.NewCase(title="Later", customer="ACME", severity=some.severity), "dana")
    replay = CasewatchApp(resolve_target(board_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=False,
                          replay_at=before + timedelta(minutes=1))
    async with replay.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        replay.open_case(some.id)
        await settled(replay, pilot)
        screen = replay.screen
        assert isinstance(screen, CaseScreen) and screen.case == some  # the version it had then
        timeline = screen.query_one("#timeline")
        assert not any("written after" in str(cell) for row in range(timeline.row_count)
                       for cell in timeline.get_row_at(row))
        await pilot.press("escape")
        await settled(replay, pilot)
        assert isinstance(replay.screen, BoardScreen)
        replay.open_case(late.case.id)  # escalated after the instant (the palette offers resolved cases of now)
        await settled(replay, pilot)
        assert isinstance(replay.screen, BoardScreen)
        assert f"{late.case.id} was escalated after" in notifications(replay)
