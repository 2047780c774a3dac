"""Take it (T) and its undo (u), marks (space, V, Esc) and bulk actions on the marked cases, at
80×24 and 200×50."""

from __future__ import annotations

import pytest

from casewatch.core import commands as c
from casewatch.core.models import EventType
from casewatch.tui.screens.forms import Confirm, UpdateForm
from casewatch.tui.widgets.status_line import StatusLine
from tests.tui.helpers import notifications, rendered_rows, settled, shown_ids, table

SIZES = [(80, 24), (200, 50)]


def status(app) -> str:
    [line] = rendered_rows(app.screen.query_one(StatusLine))
    return line


async def cursor_on(app, pilot, severity: str, owned: bool) -> str:
    """Put the cursor of a pane on a case with (or without) an internal owner other than dana."""
    pane = table(app, severity)
    pane.focus()
    case_id = next(row.value for row in pane.rows
                   if (app.state.cases[row.value].internal_owner not in (None, "dana")) == owned)
    pane.move_cursor(row=pane.get_row_index(case_id))
    await pilot.pause()
    return case_id


@pytest.mark.parametrize("size", SIZES)
async def test_take_it_then_undo_puts_the_previous_owner_back_as_a_new_event(make_app, writer, size):
    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        case_id = await cursor_on(app, pilot, "sev2", owned=True)
        before = app.state.cases[case_id].internal_owner
        await pilot.press("T")
        await settled(app, pilot)
        assert (await writer.get_case(case_id)).internal_owner == "dana"
        assert f"{case_id} is yours now. u puts {before} back" in notifications(app)
        await pilot.press("u")
        await settled(app, pilot)
        assert (await writer.get_case(case_id)).internal_owner == before
        owners = [(e.payload["before"], e.payload["after"]) for e in await writer.case_events(case_id)
                  if e.type is EventType.OWNER_ASSIGNED]
        assert owners[-2:] == [(before, "dana"), ("dana", before)]  # two events; the log is only appended to


@pytest.mark.parametrize("size", SIZES)
async def test_after_ten_seconds_u_is_the_update_form_again(make_app, writer, frozen_clock, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        case_id = await cursor_on(app, pilot, "sev1", owned=False)
        await pilot.press("T")
        await settled(app, pilot)
        assert app.state.cases[case_id].internal_owner == "dana"
        assert "board.undo" in {b.binding.id for b in app.screen.active_bindings.values()}  # listed in ?
        frozen_clock.advance(seconds=10)
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, UpdateForm)
        assert (await writer.get_case(case_id)).internal_owner == "dana"  # not undone


async def test_taking_your_own_case_writes_nothing(make_app, writer):
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        case_id = await cursor_on(app, pilot, "sev1", owned=False)
        await pilot.press("T")
        await settled(app, pilot)
        version = (await writer.get_case(case_id)).version
        await pilot.press("T")
        await settled(app, pilot)
        assert "is already yours" in notifications(app) and (await writer.get_case(case_id)).version == version


@pytest.mark.parametrize("size", SIZES)
async def test_marked_cases_are_assigned_in_one_go_and_a_refusal_stays_marked(make_app, writer, size):
    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        pane = table(app, "sev3")
        pane.focus()
        pane.move_cursor(row=0)
        await pilot.pause()
        ids = [row.value for row in pane.rows][:3]
        await pilot.press("space", "space", "space")  # each mark moves the cursor on
        await pilot.pause()
        assert list(app.screen.marked) == ids and "3 marked" in status(app)
        already = next((i for i in ids if app.state.cases[i].internal_owner == "mei"), None)
        if already is None:  # make one of them refuse: it is mei's already
            already = ids[1]
            await writer.execute(c.Assign(case_id=already, name="mei"), "dana")
            await pilot.pause()
        await pilot.press("a", *"mei", "enter")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert all(case_id in app.screen.question for case_id in ids)
        await pilot.press("y")
        await settled(app, pilot)
        for case_id in ids:
            assert (await writer.get_case(case_id)).internal_owner == "mei"
        assert list(app.screen.marked) == [already]  # refused (already mei's): still marked, the others done
        assert f"{already}: " in notifications(app) and "1 marked" in status(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.marked and "marked" not in status(app)


@pytest.mark.parametrize("size", SIZES)
async def test_v_marks_what_the_filter_shows_and_esc_clears_marks_before_the_filter(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"owner:none", "enter")
        await pilot.pause()
        shown = shown_ids(app)
        await pilot.press("V")
        await pilot.pause()
        assert set(app.screen.marked) == shown and f"{len(shown)} marked" in status(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.marked and shown_ids(app) == shown  # the filter stays
        await pilot.press("escape")
        await pilot.pause()
        assert shown_ids(app) == set(app.state.cases)


async def test_a_bulk_note_and_status_after_one_confirmation(make_app, writer):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"sev:4", "enter", "V")
        await pilot.pause()
        ids = list(app.screen.marked)
        assert ids
        await pilot.press("n", *"end of shift", "ctrl+s")
        await pilot.pause()
        await pilot.press("n")  # the confirmation's no: nothing is written, the marks stay
        await settled(app, pilot)
        assert list(app.screen.marked) == ids
        await pilot.press("n", *"end of shift", "ctrl+s", "y")
        await settled(app, pilot)
        for case_id in ids:
            notes = [e for e in await writer.case_events(case_id) if e.type is EventType.NOTE_ADDED]
            assert [e.payload["text"] for e in notes][-1:] == ["end of shift"]
        assert not app.screen.marked


async def test_the_speed_keys_are_listed_in_help_and_remappable(board_db, frozen_clock, writer):
    from casewatch.storage.target import resolve_target
    from casewatch.tui.app import CasewatchApp
    from casewatch.tui.keymap import binding_ids, keymap_clashes
    from tests.tui.test_app import help_lines, key_line

    speed = {"board.take", "board.undo", "board.mark", "board.mark_shown", "board.clear_marks", "board.jump", "back"}
    assert speed <= binding_ids() and keymap_clashes({}) == []
    app = CasewatchApp(resolve_target(board_db), "dana", clock=frozen_clock, live=False,
                       keymap={"board.take": "f6", "board.mark": "x"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        case_id = await cursor_on(app, pilot, "sev1", owned=False)
        await pilot.press("f6")
        await settled(app, pilot)
        assert (await writer.get_case(case_id)).internal_owner == "dana"
        await pilot.press("x")
        await pilot.pause()
        assert len(app.screen.marked) == 1
        await pilot.press("question_mark")
        await pilot.pause()
        lines = help_lines(app)
        assert [key_line(lines, what).split()[0] for what in ("Take it", "Mark row", "Mark all shown", "Open by id", "Undo")] == [
            "F6", "x", "V", ":", "u"]


def id_cell_style(app, case_id: str):
    """The style the terminal draws a row's id with (the segment holding the id, in the row's line)."""
    pane = table(app, app.state.cases[case_id].severity.value.lower())
    for y in range(pane.size.height):
        for segment in pane.render_line(y):
            if case_id in segment.text:
                return segment.style
    raise AssertionError(f"{case_id} is not drawn")


@pytest.mark.parametrize(("size", "theme"), [((80, 24), "casewatch-dark"), ((200, 50), "casewatch-light")])
async def test_marked_ids_are_drawn_reversed_and_unmarked_ones_are_not(make_app, size, theme):
    app = make_app(theme=theme)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        pane = table(app, "sev3")
        pane.focus()
        pane.move_cursor(row=0)
        await pilot.pause()
        first, second = [row.value for row in pane.rows][:2]
        assert not id_cell_style(app, first).reverse
        await pilot.press("space")  # marks the first; the cursor moves on to the second
        await pilot.pause()
        assert id_cell_style(app, first).reverse and not id_cell_style(app, second).reverse
        await pilot.press("up", "space")  # again: unmarked
        await pilot.pause()
        assert not id_cell_style(app, first).reverse
        # `sev:` does not read: at 80×24 the error's two lines leave this pane one row, and it
        # scrolls to keep the cursor's (the second) in view; `g` brings the first back into view
        await pilot.press("slash", *"sev:3", "enter", "V", "g")
        await pilot.pause()
        assert all(id_cell_style(app, case_id).reverse for case_id in [first, second])


@pytest.mark.parametrize("size", SIZES)
async def test_one_u_undoes_a_bulk_take_except_where_someone_else_changed_the_case(make_app, writer, size):
    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        pane = table(app, "sev3")
        pane.focus()
        pane.move_cursor(row=0)
        await pilot.pause()
        ids = [row.value for row in pane.rows][:3]
        before = {case_id: app.state.cases[case_id].internal_owner for case_id in ids}
        assert "dana" not in before.values()
        await pilot.press("space", "space", "space", "T", "y")
        await settled(app, pilot)
        for case_id in ids:
            assert (await writer.get_case(case_id)).internal_owner == "dana"
        assert "u puts each previous one back" in notifications(app)
        changed = ids[1]  # someone else writes on one of them meanwhile: its undo refuses
        app.take_case((await writer.execute(c.Note(case_id=changed, text="on it"), "ravi")).case)
        await pilot.press("u")
        await settled(app, pilot)
        assert not isinstance(app.screen, UpdateForm)
        for case_id in ids:
            owner = (await writer.get_case(case_id)).internal_owner
            assert owner == ("dana" if case_id == changed else before[case_id])
        assert f"{changed} was changed by ravi" in notifications(app) and "not put back" in notifications(app)
        owners = [(e.payload["before"], e.payload["after"]) for e in await writer.case_events(ids[0])
                  if e.type is EventType.OWNER_ASSIGNED]
        assert owners[-2:] == [(before[ids[0]], "dana"), ("dana", before[ids[0]])]  # a new event put it back
        await pilot.press("u")  # the undo is spent: u is the update form again
        await pilot.pause()
        assert isinstance(app.screen, UpdateForm)
