"""`:` opens a case by id or ticket key; ctrl+o goes back through the cases opened. 80×24 and 200×50."""

from __future__ import annotations

import pytest

from casewatch.tui.app import OPENED_KEPT
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.screens.forms import TextPrompt
from tests.tui.helpers import notifications, settled

SIZES = [(80, 24), (200, 50)]


async def jump(app, pilot, typed: str) -> None:
    await pilot.press("colon", *typed, "enter")
    await settled(app, pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_colon_opens_the_case_named_and_moves_the_cursor_to_it(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        target = sorted(app.state.cases)[-1]
        await jump(app, pilot, target.lower())
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == target
        await pilot.press("escape")
        await pilot.pause()
        board = app.screen
        assert isinstance(board, BoardScreen) and board.selected_case().id == target


@pytest.mark.parametrize("size", SIZES)
async def test_an_ambiguous_beginning_is_refused_inline_and_more_typing_opens_it(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"CW-101", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        assert "could be CW-1010" in str(app.screen.query_one("#form-error").render())
        await pilot.press("5", "enter")
        await settled(app, pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == "CW-1015"


async def test_ctrl_o_goes_back_through_the_cases_opened(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        for case_id in ("CW-1003", "CW-1007"):
            await jump(app, pilot, case_id)
            await pilot.press("escape")
        await jump(app, pilot, "CW-1020")
        seen = []
        for _ in range(2):
            await pilot.press("ctrl+o")
            await settled(app, pilot)
            seen.append(app.screen.case_id)
        assert seen == ["CW-1007", "CW-1003"]
        assert len(app.screen_stack) == 3  # each in the place of the one before: the board, the case (and the default)
        await pilot.press("ctrl+o")
        await settled(app, pilot)
        assert app.screen.case_id == "CW-1003" and "No case opened before this one" in notifications(app)
        await pilot.press("escape")
        await pilot.press("ctrl+o")  # from the board: the case opened last
        await settled(app, pilot)
        assert app.screen.case_id == "CW-1003"


async def test_the_stack_keeps_the_last_twenty(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        ids = sorted(app.state.cases)
        app.opened = ids[:OPENED_KEPT]
        app.open_case(ids[OPENED_KEPT])
        await pilot.pause()
        assert app.opened == ids[1:OPENED_KEPT + 1]
