"""Issue 13's navigation keys on the board and the case screen, through the pilot at 80x24 and 200x60."""

from __future__ import annotations

import pytest

from casewatch.core.clocks import ClockState
from casewatch.core.models import Severity
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from tests.tui.helpers import notifications, table, workers_done
from tests.tui.test_app import help_lines, key_line

SIZES = [(80, 24), (200, 60)]


def late_or_unowned(app) -> list[str]:
    """Breached or unowned cases in board order (panes top to bottom, rows as shown), worked out here."""
    now = app.now()
    found = []
    for severity in Severity:
        for row in table(app, severity.value.lower()).ordered_rows:
            case = app.state.cases[row.key.value]
            breached = any(r.state is ClockState.BREACHED for r in app.state.clocks[case.id].read(now).values())
            if case.internal_owner is None or case.comms_owner is None or breached:
                found.append(case.id)
    return found


def busiest(app):
    return max((table(app, s.value.lower()) for s in Severity), key=lambda t: t.row_count)


@pytest.mark.parametrize("size", SIZES)
async def test_cursor_keys_move_within_the_pane(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        pane = busiest(app)
        assert pane.row_count >= 3
        pane.focus()
        await pilot.pause()
        last = pane.row_count - 1
        for key, row in [("j", 1), ("j", 2), ("k", 1), ("G", last), ("g", 0), ("end", last), ("home", 0)]:
            await pilot.press(key)
            assert (key, pane.cursor_row) == (key, row)
        assert app.focused is pane


@pytest.mark.parametrize("size", SIZES)
async def test_brackets_visit_every_late_or_unowned_case_across_panes(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        found = late_or_unowned(app)
        panes = {app.state.cases[i].severity for i in found}
        assert len(found) >= 2 and len(panes) >= 2  # the demo data has them in several panes
        board = [row.key.value for s in Severity for row in table(app, s.value.lower()).ordered_rows]
        here = board.index(app.screen.selected_case().id)
        after = next((n for n, i in enumerate(found) if board.index(i) > here), 0)
        expected = found[after:] + found[:after]  # from the case under the cursor on, wrapping around
        visited = []
        for _ in expected:
            await pilot.press("right_square_bracket")
            visited.append(app.screen.selected_case().id)
            assert app.focused is table(app, app.state.cases[visited[-1]].severity.value.lower())
        assert visited == expected
        await pilot.press("right_square_bracket")  # wraps around to the first
        assert app.screen.selected_case().id == expected[0]
        backwards = []
        for _ in expected:
            await pilot.press("left_square_bracket")
            backwards.append(app.screen.selected_case().id)
        assert backwards == [*reversed(expected[1:]), expected[0]]


async def test_brackets_say_so_when_nothing_needs_attention(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        app.screen.set_filter("no case has these words")
        await pilot.press("right_square_bracket")
        assert "No breached case and none that needs an owner on the board" in notifications(app)


@pytest.mark.parametrize("size", SIZES)
async def test_y_copies_the_case_id_and_Y_the_last_customer_message(make_app, size):
    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        pane = busiest(app)
        pane.focus()
        await pilot.press("j", "y")
        case_id = pane.selected_id()
        assert app.clipboard == case_id
        await workers_done(app)
        await pilot.pause()
        shown = notifications(app)
        assert f"{case_id} copied to the clipboard" in shown or f"{case_id} sent to the terminal's clipboard" in shown
        with_update = next(i for i, case in app.state.cases.items() if case.last_customer_update_at is not None)
        app.screen.open_case(with_update)
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        await workers_done(app)
        await pilot.pause()
        await pilot.press("y")
        assert app.clipboard == with_update
        await pilot.press("Y")
        message = next(e.payload["message"] for e in reversed(app.screen.events) if "message" in e.payload)
        assert app.clipboard == message != with_update
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_navigation_keys_can_be_remapped_and_help_lists_them(board_db, frozen_clock):
    from casewatch.storage.target import resolve_target
    from casewatch.tui.app import CasewatchApp
    from casewatch.tui.keymap import binding_ids

    new = {"board.down", "board.up", "board.first", "board.last", "board.next_attention",
           "board.previous_attention", "case.copy_id"}
    assert new <= binding_ids()
    app = CasewatchApp(resolve_target(board_db), "dana", clock=frozen_clock, live=False,
                       keymap={"board.down": "x", "case.copy_id": "z"})
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        pane = busiest(app)
        pane.focus()
        await pilot.press("x", "z")
        assert pane.cursor_row == 1
        assert app.clipboard == pane.selected_id()
        await pilot.press("j")
        assert pane.cursor_row == 1  # j is no longer bound to it
        await pilot.press("question_mark")
        await pilot.pause()
        lines = help_lines(app)
        assert key_line(lines, "Down").split()[0] == "x"  # remapped (↓, a key of Textual's, is not listed)
        assert key_line(lines, "Copy id").split()[0] == "z"
        for description, keys in [("Up", {"k"}), ("First", {"g", "home"}), ("Last", {"G", "end"}),
                                  ("Next late/needs owner", {"]"}), ("Previous late/needs owner", {"["})]:
            assert keys <= set(key_line(lines, description).split(" ")), description
