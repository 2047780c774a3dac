"""Keys, forms and background work through Textual's pilot: help and palette follow the real
bindings, forms check each value once, and a failing worker is never silent."""

from __future__ import annotations

import logging

import pytest

from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from casewatch.tui.keymap import binding_ids
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.screens.forms import PersonPrompt, TextPrompt
from casewatch.tui.screens.help import HelpScreen
from tests.tui.helpers import notifications, palette_hits, rendered_rows, table, workers_done


def help_lines(app) -> list[str]:
    assert isinstance(app.screen, HelpScreen)
    return [line for static in app.screen.query("Static") for line in rendered_rows(static)]


def key_line(lines: list[str], description: str) -> str:
    return next(line for line in lines if f" {description} " in f" {line} ")


async def test_help_lists_the_bindings_of_the_screen_below_with_remapped_keys(board_db, frozen_clock):
    app = CasewatchApp(resolve_target(board_db), "dana", clock=frozen_clock, live=False,
                       keymap={"case.assign": "o", "help": "f1"})
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        lines = help_lines(app)
        assert key_line(lines, "Owner").split()[0] == "o"  # remapped, not the default "a"
        assert key_line(lines, "Help").split()[0] == "F1"
        assert key_line(lines, "Filter").split()[0] == "/"  # a board key
        assert not any("Copy update" in line for line in lines)  # a case-screen key
        await pilot.press("escape", "enter")  # close help; open the selected case
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("f1")
        await pilot.pause()
        lines = help_lines(app)
        assert key_line(lines, "Copy update").split()[0] == "Y" and key_line(lines, "Back").split()[0] == "esc"
        assert key_line(lines, "Owner").split()[0] == "o"
        assert not any("Filter" in line for line in lines)


def test_keymap_ids_come_from_the_screens():
    ids = binding_ids()
    assert {"quit", "help", "board.filter", "case.assign", "case.evidence", "help.close", "policy.close",
            "form.cancel", "form.submit"} <= ids


async def test_palette_runs_the_screens_bindings(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        sev1 = table(app, "sev1")
        sev1.focus()
        case_id = sev1.selected_id()
        await pilot.press("ctrl+p", *"assign the internal")
        await workers_done(app)  # the palette searches in a worker
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PersonPrompt) and app.screen.form_title == f"Internal owner of {case_id}"


async def test_the_palette_offers_a_binding_with_two_keys_once(make_app):
    """g and Home both jump to the pane's first case: the palette listed that action twice."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        table(app, "sev1").focus()
        hits = await palette_hits(app, pilot, "jump to the first case")
        assert hits.count("Jump to the first case of the pane") == 1, hits


async def test_the_palette_names_the_case_an_action_acts_on_and_no_other(make_app):
    """"Escalate a new case (CW-1010)" read as if it acted on the case under the cursor."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        sev1 = table(app, "sev1")
        sev1.focus()
        case_id = sev1.selected_id()
        for query, offered in (("escalate a new", "Escalate a new case"),
                               ("add a note", f"Add a note to the timeline ({case_id})")):
            hits = await palette_hits(app, pilot, query)
            assert hits[0] == offered, hits
            await pilot.press("escape")
            await pilot.pause()


async def test_an_unexpected_worker_error_is_shown_and_logged(make_app, monkeypatch, caplog):
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()

        async def broken(case_id: str):
            raise RuntimeError("the disk is on fire")

        monkeypatch.setattr(app.store, "case_events", broken)
        with caplog.at_level(logging.ERROR, logger="casewatch.tui.app"):
            await pilot.press("enter")  # open the case: its load fails
            await workers_done(app)
            await pilot.pause()
        shown = notifications(app)
        assert "Load case failed" in shown and "RuntimeError: the disk is on fire" in shown
        assert any(r.message == "Load case failed" and r.exc_info for r in caplog.records)
        assert app.is_running


@pytest.mark.slow
async def test_the_route_is_checked_inline_by_its_parser(make_app, writer):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        sev3 = table(app, "sev3")
        sev3.focus()
        case_id = sev3.selected_id()
        await pilot.press("r", *"nowhere", "enter")  # checked when the field is left, not per keystroke
        await pilot.pause()
        assert "unknown route 'nowhere'" in str(app.screen.query_one("#form-error").render())
        await pilot.press(*["backspace"] * 7, *"Incident", "enter", *"customer-wide outage", "enter",
                          *"the outage cannot wait for the packet", "enter")  # the lead's override
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert (await writer.get_case(case_id)).route == "incident"


async def test_a_multi_line_note_keeps_its_lines_and_submits_with_ctrl_s(make_app, writer):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        sev1 = table(app, "sev1")
        sev1.focus()
        case_id = sev1.selected_id()
        await pilot.press("n", *"first line", "enter", *"second line")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)  # Enter started a new line
        await pilot.press("ctrl+s")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        last = (await writer.case_events(case_id))[-1]
        assert last.payload["text"] == "first line\nsecond line"
        await pilot.press("enter")  # the case screen's timeline shows both lines
        await workers_done(app)
        await pilot.pause()
        timeline = rendered_rows(app.screen.query_one("#timeline"))
        at = next(i for i, line in enumerate(timeline) if "note: first line" in line)
        assert "second line" in timeline[at + 1]


async def test_a_required_field_left_blank_is_refused(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        table(app, "sev1").focus()
        await pilot.press("N", "enter", "enter")  # title and customer left blank
        await pilot.press(*"SEV2", "enter", "ctrl+s")  # the summary is multi-line: ctrl+s submits
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        assert "Title is required" in str(app.screen.query_one("#form-error").render())
        assert app.screen.focused is not None and app.screen.focused.id == "title"


async def test_a_customer_update_with_its_own_next_update_time(make_app, writer):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        sev1 = table(app, "sev1")
        sev1.focus()
        case_id = sev1.selected_id()
        await pilot.press("u", *"SSO logins fail", "tab", *"the IdP certificate", "tab", *"a fix by 16:00", "enter")
        await pilot.press(*"45x", "enter")  # refused on Enter: the form stays on the field
        await pilot.pause()
        assert "bad duration '45x'" in str(app.screen.query_one("#form-error").render())
        await pilot.press("backspace", "m", "enter")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        last = (await writer.case_events(case_id))[-1]
        assert last.payload["next_update_in_s"] == 45 * 60 and "SSO logins fail" in last.payload["message"]


async def test_the_header_names_utc_once_for_a_viewer_in_utc(board_db, frozen_clock):
    """From a fresh-eyes run: "14:00:00 UTC · Fri 14:00:00 Etc/UTC" said the same time twice."""
    from casewatch.tui.widgets.clock_bar import ClockBar

    for zone, local in (("Etc/UTC", None), ("Europe/Berlin", "Fri 15:00:00 CET")):
        app = CasewatchApp(resolve_target(board_db), "dana", zone=zone, clock=frozen_clock, live=False)
        async with app.run_test(size=(200, 40)) as pilot:
            await pilot.pause()
            header = str(app.screen.query_one(ClockBar).render())
            assert "14:00:00 UTC" in header and header.count(":00:00") == (1 if local is None else 2), header
            assert local is None or local in header
