"""A paste puts into a field only what the field accepts: an escape sequence copied from a terminal
(or a bidi override, a zero-width space) never sits in a field, where drawing it would reach the
terminal and scramble the screen."""

from __future__ import annotations

from textual import events
from textual.widgets import Input, TextArea

from casewatch.tui.screens.forms import Form
from tests.tui.helpers import focus_pane, settled

PASTED = "sev:1\x1b[2J\x1b[31m acme\u202e\u200b\r\nsecond line\x07"


async def test_a_paste_into_the_filter_keeps_its_first_line_without_control_characters(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, pilot)
        await pilot.press("slash")
        await settled(app, pilot)
        field = app.focused
        assert isinstance(field, Input)
        field.post_message(events.Paste(PASTED))
        await settled(app, pilot)
        assert field.value == "sev:1[2J[31m acme"


async def test_a_paste_into_a_note_keeps_its_lines_and_drops_control_characters(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, pilot)
        await focus_pane(app, pilot, "sev1")
        await pilot.press("enter")
        await settled(app, pilot)
        await pilot.press("n")
        await settled(app, pilot)
        assert isinstance(app.screen, Form)
        area = app.screen.query_one(TextArea)
        assert area.has_focus
        area.post_message(events.Paste(PASTED + "\tend 👩\u200d💻"))
        await settled(app, pilot)
        assert area.text == "sev:1[2J[31m acme\u200b\nsecond line\tend 👩\u200d💻"
