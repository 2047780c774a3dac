"""Saved views on F1–F9 and in the palette, `S` sort and `z` zoom (issue 26 items 1 and 2), through
the pilot at 80×24 and 200×50: few tests, each checking a lot."""

from __future__ import annotations

import pytest

from casewatch.core.board_sort import Sort
from casewatch.core.calendars import to_us
from casewatch.core.saved_views import saved_views
from casewatch.tui.widgets.case_table import SeverityPane
from casewatch.tui.widgets.status_line import StatusLine
from tests.tui.helpers import focus_pane, palette_hits, rendered_rows, settled, shown_ids, table
from tests.tui.test_app import help_lines, key_line
from tests.tui.test_field_filter import matching

VIEWS = saved_views({"triage": "sev:1,2 is:unowned", "[b]acme": "customer:acme", "waiting": "status:waiting"})


def status(app) -> str:
    [line] = rendered_rows(app.screen.query_one(StatusLine))
    return line


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_saved_views_are_on_function_keys_in_help_and_the_palette(make_app, size):
    app = make_app(views=VIEWS)
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        everything = shown_ids(app)
        await pilot.press("f1")
        await settled(app, pilot)
        triage = matching(app, "sev:1,2 is:unowned")
        assert triage and shown_ids(app) == triage != everything
        assert status(app).startswith(" view triage · ") and len(status(app)) == size[0]
        await pilot.press("o")  # a one-key view narrows the saved view further; the line names both
        await settled(app, pilot)
        assert status(app).startswith(" need owners · view triage · ") and shown_ids(app) == triage
        await pilot.press("o")
        await settled(app, pilot)
        await pilot.press("f2")  # another view replaces it; its name is shown literally
        await settled(app, pilot)
        assert shown_ids(app) == matching(app, "customer:acme")
        assert status(app).startswith(" view [b]acme · ")
        await pilot.press("slash")  # the bar holds the view's query, to edit; F1 there shows its own
        await settled(app, pilot)
        assert app.focused.value == "customer:acme"
        await pilot.press("f1")
        await settled(app, pilot)
        assert app.focused.value == "sev:1,2 is:unowned" and shown_ids(app) == triage
        await pilot.press(*" sev:1", "enter")  # edited, it is a filter of its own, no longer the view
        await settled(app, pilot)
        assert app.screen.filter_text == "sev:1,2 is:unowned sev:1", app.screen.filter_text
        assert shown_ids(app) == matching(app, "sev:1 is:unowned") and status(app).startswith(" all cases · “sev:1,2")
        await pilot.press("f2", "f2")  # a view, and the same key again: every case
        await settled(app, pilot)
        assert shown_ids(app) == everything and status(app).startswith(" all cases ")
        await pilot.press("f4")  # no fourth view: nothing happens
        await settled(app, pilot)
        assert shown_ids(app) == everything
        await pilot.press("question_mark")
        await settled(app, pilot)
        lines = help_lines(app)
        assert key_line(lines, "View: triage").split()[0] == "F1"  # as the key is printed
        assert "sev:1,2 is:unowned" in key_line(lines, "View: triage")
        assert key_line(lines, "View: [b]acme").split()[0] == "F2"
        assert not any("View 4" in line for line in lines)
        await pilot.press("escape")
        await settled(app, pilot)
        hits = await palette_hits(app, pilot, "View: wait")
        assert hits[0] == "View: waiting"
        await pilot.press("enter")
        await settled(app, pilot)
        assert shown_ids(app) == matching(app, "status:waiting") and status(app).startswith(" view waiting")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_sort_cycles_a_pane_with_the_cursor_kept_and_zoom_fills_the_board(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        pane = max(app.screen.query(SeverityPane), key=lambda p: p.table.row_count)
        name = pane.severity.value.lower()
        await focus_pane(app, pilot, name)
        rows = table(app, name)
        rows.move_cursor(row=rows.row_count - 1, animate=False)
        await pilot.pause()
        chosen = rows.selected_id()
        cases = app.state.cases

        def order() -> list[str]:
            return [row.key.value for row in rows.ordered_rows]

        expected = {
            Sort.ESCALATED: lambda i: (cases[i].escalated_at, i),
            Sort.CHANGED: lambda i: (-to_us(cases[i].updated_at), i),
            Sort.CUSTOMER: lambda i: (cases[i].customer.casefold(), i),
        }
        deadline_first = order()
        for sort, key in expected.items():
            await pilot.press("S")
            await pilot.pause()
            assert order() == sorted(order(), key=key), sort
            assert rows.selected_id() == chosen  # the cursor stays on its case, wherever it went
            assert f"⇅ {sort.label}" in str(pane.border_title)
        assert order() != deadline_first  # the demo floor's customers are not in deadline order
        await pilot.press("S")  # back to the nearest deadline, unmarked
        await pilot.pause()
        assert order() == deadline_first and "⇅" not in str(pane.border_title)
        others = [p for p in app.screen.query(SeverityPane) if p is not pane]
        await pilot.press("z")
        await settled(app, pilot)
        assert all(not p.display for p in others) and pane.display
        assert pane.outer_size.height == app.screen.query_one("#panes").size.height
        assert "zoomed" in str(pane.border_title)
        await pilot.press("G", "j")  # past the last row: a zoomed pane keeps the cursor
        await pilot.pause()
        assert app.focused is rows
        other = next(p for p in others if p.table.row_count)
        await pilot.press(other.severity.value[-1])  # a pane's number key: that pane is zoomed instead
        await settled(app, pilot)
        assert app.focused is other.table and other.display and not pane.display
        assert app.screen.zoomed is other.severity and "zoomed" in str(other.border_title)
        await pilot.press(pane.severity.value[-1])
        await settled(app, pilot)
        assert app.focused is rows and pane.display and not other.display
        await pilot.press("z")
        await settled(app, pilot)
        assert all(p.display for p in app.screen.query(SeverityPane)) and "zoomed" not in str(pane.border_title)
        assert app.focused is rows and rows.selected_id() is not None


async def test_sort_zoom_and_views_are_remappable(make_app):
    app = make_app(views=VIEWS)
    app.set_keymap({"board.sort": "O", "board.zoom": "Z", "board.view_1": "f9"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, pilot)
        await focus_pane(app, pilot, "sev3")
        pane = app.screen.query_one("#pane-sev3", SeverityPane)
        await pilot.press("O", "Z")
        await settled(app, pilot)
        assert "zoomed (Z: all panes)" in str(pane.border_title)  # the key that unzooms now
        await pilot.press("f9")
        await settled(app, pilot)
        assert "⇅ escalated first" in str(pane.border_title) and app.screen.zoomed is not None
        assert status(app).startswith(" view triage")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_after_unzooming_the_cursor_row_is_in_view(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        pane = max(app.screen.query(SeverityPane), key=lambda p: p.table.row_count)
        rows = pane.table
        await focus_pane(app, pilot, pane.severity.value.lower())
        await pilot.press("z", "G")  # zoomed, the last row is in view
        await settled(app, pilot)
        last = rows.selected_id()
        assert any(last in line for line in rendered_rows(rows))
        await pilot.press("z")  # back among the other panes, smaller: the cursor row stays in view
        await settled(app, pilot)
        assert rows.selected_id() == last and any(last in line for line in rendered_rows(rows))


def test_the_status_line_keeps_its_parts_apart_at_every_width():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from casewatch.core.views import View
    from casewatch.tui.widgets.status_line import Status, status_text

    for view, saved in ((View.ALL, None), (View.MINE, "triage")):
        status = Status(view=view, filter_text="", shown=59, open=59, late=3, unowned=12,
                        refreshed_at=datetime(2026, 12, 7, 8, tzinfo=UTC), connection=None, saved=saved,
                        sources=(("zd ✓ 40s ago", False),))
        for width in range(30, 201):
            line = status_text(status, ZoneInfo("Europe/Berlin"), {}, width).plain
            assert len(line) == width and "mine view" not in line
            left, _, _ = line.partition(" 59 open" if " 59 open" in line else " 3 late")
            assert left.endswith("  ") or left.rstrip().endswith(" ·"), (width, line)  # never "all cases 59 open"
        assert line.startswith(" mine · view triage" if saved else " all cases")
