"""Issue 26 items 3, 6 and 7 through the pilot, at 80×24 and 200×50: the undo of `a` and `c` (and
its refusal after someone else's change), unread marks (● , is:unread, opening, ctrl+r), and the
alert history's acknowledge (a) and snooze (z)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from textual.widgets._footer import FooterKey

from casewatch import paths
from casewatch.core import commands as c
from casewatch.core.models import EventType, Severity
from casewatch.tui.screens.alerts import AlertHistoryScreen, SnoozePicker
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.screens.help import HelpScreen, key_rows
from casewatch.tui.widgets.cells import UNREAD
from tests.tui.helpers import notifications, rendered_rows, settled, shown_ids, table
from tests.tui.test_alerts import board_app, count_bells, next_turn

SIZES = [(80, 24), (200, 50)]


def title(app, case_id: str) -> str:
    return app.screen.table_for(app.state.cases[case_id].severity).get_cell(case_id, "title").plain


async def on_case(app, pilot, severity: str, row: int = 0) -> str:
    pane = table(app, severity)
    pane.focus()
    pane.move_cursor(row=row)
    await pilot.pause()
    return pane.selected_id()


@pytest.mark.parametrize("size", SIZES)
async def test_a_and_c_offer_an_undo_refused_once_someone_else_changed_the_case(make_app, writer, size):
    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        case_id = await on_case(app, pilot, "sev3")
        before = app.state.cases[case_id].comms_owner
        await pilot.press("c", *"mei", "enter")
        await settled(app, pilot)
        assert (await writer.get_case(case_id)).comms_owner == "mei"
        assert f"{case_id}: comms owner mei. u puts {before or 'nobody'} back (for 10 s)" in notifications(app)
        assert "case.update" not in {b.binding.id for b in app.screen.active_bindings.values() if b.enabled}
        await pilot.press("u")
        await settled(app, pilot)
        assert (await writer.get_case(case_id)).comms_owner == before  # a new event put it back
        comms = [(e.payload["before"], e.payload["after"]) for e in await writer.case_events(case_id)
                 if e.type is EventType.COMMS_ASSIGNED]
        assert comms[-2:] == [(before, "mei"), ("mei", before)]
        # on the case screen: a, then someone else's note, then u: refused with who changed what
        await pilot.press("enter")
        await settled(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        owner = app.state.cases[case_id].internal_owner
        name = "tom" if owner != "tom" else "mei"
        await pilot.press("a", *name, "enter")
        await settled(app, pilot)
        assert (await writer.get_case(case_id)).internal_owner == name
        app.take_case((await writer.execute(c.Note(case_id=case_id, text="I have it"), "ravi")).case)
        await pilot.press("u")
        await settled(app, pilot)
        assert (await writer.get_case(case_id)).internal_owner == name  # not undone blindly
        assert f"{case_id} was changed by ravi" in notifications(app)
        await pilot.press("u")  # the undo is spent: u is the update form again
        await pilot.pause()
        assert type(app.screen).__name__ == "UpdateForm"


def footer_keys(app) -> list[str]:
    """The footer's keys that are in view (a footer too long for the screen is cut on the right)."""
    return [f"{key.key_display} {key.description}" for key in app.screen.query(FooterKey)
            if key.region.width and key.region.right <= app.size.width]


def help_rows(app) -> dict[str, str]:
    """What the help screen in front lists: what each key does, and its tooltip."""
    assert isinstance(app.screen, HelpScreen)
    return {what: tooltip for _keys, what, tooltip in key_rows(app.screen.bindings, app.get_key_display)}


@pytest.mark.parametrize("size", SIZES)
async def test_the_footer_shows_u_undo_while_an_undo_is_offered_and_help_mentions_it(make_app, frozen_clock, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await on_case(app, pilot, "sev3")
        assert "u Undo" not in footer_keys(app)
        await pilot.press("T")
        await settled(app, pilot)
        assert "u Undo" in footer_keys(app)  # in view at 80 columns too
        frozen_clock.advance(seconds=10)
        app.tick(frozen_clock.now)
        await settled(app, pilot)
        assert "u Undo" not in footer_keys(app)  # the offer ran out: u logs an update again

        await pilot.press("enter")
        await settled(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("question_mark")
        await settled(app, pilot)
        assert "u is Undo" in help_rows(app)["Update"]  # the case screen's help tells of the undo
        await pilot.press("escape")
        await settled(app, pilot)
        owner = app.state.cases[app.screen.case_id].internal_owner
        await pilot.press("a", *("tom" if owner != "tom" else "mei"), "enter")
        await settled(app, pilot)
        assert "u Undo" in footer_keys(app) and "u Update" not in footer_keys(app)
        await pilot.press("question_mark")
        await settled(app, pilot)
        assert "Within 10 s of naming an owner" in help_rows(app)["Undo"]


@pytest.mark.parametrize("size", SIZES)
async def test_unread_marks_show_filter_clear_on_open_and_on_ctrl_r(make_app, writer, frozen_clock, size):
    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        assert not any(title(app, case_id).startswith(UNREAD) for case_id in shown_ids(app))  # first start: read
        marks = json.loads(paths.marks_path("dana").read_text())
        assert list(marks["databases"].values())[0]["seen"] == {}
        x = await on_case(app, pilot, "sev2")
        y = await on_case(app, pilot, "sev3", row=1)
        frozen_clock.advance(seconds=30)
        for case_id in (x, y):
            app.take_case((await writer.execute(c.Note(case_id=case_id, text="[b]news"), "ravi")).case)
        app.take_case((await writer.execute(c.Note(case_id=(own := await on_case(app, pilot, "sev4")),
                                                          text="mine"), "dana")).case)
        await pilot.pause()
        assert title(app, x).startswith(f"{UNREAD} ") and title(app, y).startswith(f"{UNREAD} ")
        assert not title(app, own).startswith(UNREAD)  # dana's own change
        line = next(line for line in rendered_rows(table(app, "sev3")) if y in line)
        assert UNREAD in line and len(line) <= size[0]
        await pilot.press("slash", *"is:unread", "enter")
        await pilot.pause()
        assert shown_ids(app) == {x, y}
        await pilot.press("escape")
        await pilot.pause()
        await on_case(app, pilot, "sev3", row=table(app, "sev3").get_row_index(y))
        name = "tom" if app.state.cases[y].comms_owner != "tom" else "mei"
        await pilot.press("space", "c", *name, "enter", "y")  # a bulk c of dana's own on y
        await settled(app, pilot)
        assert app.state.cases[y].updated_by == "dana" and title(app, y).startswith(f"{UNREAD} ")  # still unread
        await on_case(app, pilot, "sev2", row=table(app, "sev2").get_row_index(x))
        await pilot.press("enter")
        await settled(app, pilot)
        app.take_case((await writer.execute(c.Note(case_id=x, text="while open"), "ravi")).case)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen) and not title(app, x).startswith(UNREAD)  # opened: read
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not title(app, y).startswith(UNREAD) and "1 case marked read" in notifications(app)
        kept = list(json.loads(paths.marks_path("dana").read_text())["databases"].values())[0]["seen"]
        assert kept[x] == app.state.cases[x].version and kept[y] == app.state.cases[y].version


@pytest.mark.parametrize("size", SIZES)
async def test_alerts_are_acknowledged_grey_and_a_snoozed_case_does_not_ring_until_its_severity_rises(
        board_db, frozen_clock, writer, size):
    await writer.execute(c.StartShift(), "dana")
    app = board_app(board_db, frozen_clock)
    rung = count_bells(app)
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        at, _turning = next_turn(app)
        frozen_clock.now = at
        app.tick(at)
        await pilot.pause()
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert isinstance(app.screen, AlertHistoryScreen)
        history = app.alert_watch.history
        newest = history[-1]
        await pilot.press("a")
        await pilot.pause()
        grid = app.screen.query_one("#alert-table")
        key = str(len(history) - 1)
        assert all(grid.get_cell(key, column).style == "dim" for column in ("case", "state", "title"))
        assert app.marks.acknowledged(newest)
        assert not any(e.type is EventType.ALERT_ACKNOWLEDGED for e in await writer.case_events(newest.case_id))
        await pilot.press("z")
        await pilot.pause()
        assert isinstance(app.screen, SnoozePicker)
        await pilot.press("down", "enter")  # 30 m
        await pilot.pause()
        assert isinstance(app.screen, AlertHistoryScreen) and "snoozed until" in notifications(app)
        assert grid.get_cell(key, "title").plain.startswith("snoozed until ")
        assert grid.get_cell(key, "title").style == "dim"  # still acknowledged
        await pilot.press("escape")
        await pilot.pause()
        app.clear_notifications()
        bells = len(rung)
        again = replace(newest, at=app.now(), missed=False)
        app._alert([again])  # its clock turns again while snoozed: listed, no toast, no bell
        await pilot.pause()
        assert len(rung) == bells and "Clock" not in notifications(app)
        case = app.state.cases[newest.case_id]
        if case.severity is not Severity.SEV1:  # a rise ends the snooze early
            raised = Severity(f"SEV{int(case.severity.value[-1]) - 1}")
            app.take_case((await writer.execute(c.ChangeSeverity(case_id=case.id, severity=raised, reason="worse"),
                                                "dana")).case)
            app._alert([replace(again, severity=raised)])
            await pilot.pause()
            assert len(rung) == bells + 1 and f"Clock {newest.state.value}" in notifications(app)
        kept = list(json.loads(paths.marks_path("dana").read_text())["databases"].values())[0]
        assert any(k.startswith(newest.case_id) for k in kept["acknowledged"])


async def test_a_damaged_marks_file_is_ignored_with_a_notice_and_written_anew(make_app):
    path = paths.marks_path("dana")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\x00[b]not json", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert "could not be read" in notifications(app) and "unread marks start again from now" in notifications(app)
        assert isinstance(app.screen, BoardScreen)
        assert json.loads(path.read_text())["format"] == 1  # replaced, whole
