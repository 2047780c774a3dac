"""The wall display's screen: its picture on a frozen clock, its counts, and that it writes nothing."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Digits

from casewatch.core import commands as c
from casewatch.core.models import Severity
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from casewatch.tui.wall_app import WallApp

WALL_CELLS = (160, 45)  # 1920×1080 pixels at the wall's default 20px font


@pytest.fixture
def make_wall(board_db, frozen_clock):
    def make(live: bool = False, interactive: bool = False) -> WallApp:
        return WallApp(resolve_target(board_db), "wall", zone="Europe/Berlin", clock=frozen_clock, live=live,
                       interactive=interactive)
    return make


def test_wall_1920x1080(make_wall, snap_compare):
    assert snap_compare(make_wall(), terminal_size=WALL_CELLS)


def test_wall_narrow_puts_deadlines_under_the_digits(make_wall, snap_compare):
    assert snap_compare(make_wall(), terminal_size=(100, 50))


def digits(app: WallApp, figure: str, severity: Severity) -> str:
    return app.screen.query_one(f"#{figure}-{severity.value.lower()}", Digits).value


async def test_counts_match_the_open_cases(make_wall, frozen_clock):
    app = make_wall()
    async with app.run_test(size=WALL_CELLS) as pilot:
        await pilot.pause()
        for severity in Severity:
            cases = [case for case in app.state.cases.values() if case.severity is severity]
            assert digits(app, "open", severity) == str(len(cases))
            assert digits(app, "unowned", severity) == str(sum(
                case.internal_owner is None or case.comms_owner is None for case in cases))
        assert app.screen.query_one("#open-all", Digits).value == str(len(app.state.cases))
        table = app.screen.query_one("#wall-deadlines", DataTable)
        assert table.row_count == 10


async def test_another_writers_case_reaches_the_wall(make_wall, board_db, frozen_clock):
    app = make_wall(live=True)
    async with app.run_test(size=WALL_CELLS) as pilot:
        await pilot.pause()
        before = int(digits(app, "open", Severity.SEV4))
        async with await Store.open(resolve_target(board_db), clock=frozen_clock) as writer:
            await writer.execute(c.NewCase(title="Printer on fire", customer="Initech", severity=Severity.SEV4),
                                 "dana")
        for _ in range(50):
            await pilot.pause(0.1)
            if int(digits(app, "open", Severity.SEV4)) == before + 1:
                break
        assert int(digits(app, "open", Severity.SEV4)) == before + 1


async def test_the_wall_refuses_every_command(make_wall, board_db, frozen_clock):
    app = make_wall()
    async with app.run_test(size=WALL_CELLS) as pilot:
        await pilot.pause()
        case_id = min(app.state.cases)
        version = app.state.cases[case_id].version
        await app.perform(c.Note(case_id=case_id, text="from the wall")).wait()
        for key in ("a", "n", "N", "ctrl+p", "enter", "q"):
            await pilot.press(key)
        await pilot.pause()
        assert app.is_running  # no key quits, opens or writes
        assert type(app.screen).__name__ == "WallScreen"
    async with await Store.open(resolve_target(board_db), clock=frozen_clock) as store:
        assert (await store.get_case(case_id)).version == version


async def test_interactive_read_only_navigates_but_never_writes(make_wall, board_db, frozen_clock):
    """--interactive-read-only: Enter opens the deadline's case; its write keys are refused before any form."""
    from casewatch.tui.screens.case import CaseScreen

    app = make_wall(interactive=True)
    async with app.run_test(size=WALL_CELLS) as pilot:
        await pilot.pause()
        first = app.screen.query_one("#wall-deadlines", DataTable).coordinate_to_cell_key((0, 0)).row_key.value
        case_id = first.split(":")[0]
        version = app.state.cases[case_id].version
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == case_id
        for key in ("n", "a", "t", "u", "N", "C", "s"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, CaseScreen), key  # no form opened
        assert [n.message for n in app._notifications][-1] == "The wall is read-only."
    async with await Store.open(resolve_target(board_db), clock=frozen_clock) as store:
        assert (await store.get_case(case_id)).version == version


async def test_the_lead_and_a_handoff_waiting(make_wall, board_db, frozen_clock):
    from datetime import timedelta

    from textual.widgets import Static

    from tests.tui.test_handoff_screen import lead_and_successor

    async with await Store.open(resolve_target(board_db), clock=frozen_clock) as store:
        await lead_and_successor(store, frozen_clock.now)
        await store.execute(c.PrepareHandoff(to="ken"), "dana", at=frozen_clock.now - timedelta(minutes=20))
    app = make_wall()
    async with app.run_test(size=WALL_CELLS) as pilot:
        await pilot.pause()
        lead = str(app.screen.query_one("#wall-lead", Static).render())
        handoff = app.screen.query_one("#wall-handoff", Static)
        assert lead.startswith("Shift lead dana · 15:00 CET there")
        assert handoff.display
        assert "waiting: dana → ken, not accepted for 20m — overdue" in str(handoff.render())
