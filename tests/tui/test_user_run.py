"""Defects a fresh-eyes user run of the board found: forms at 80×24, the severity picker's cursor,
the palette's case search off the board (the handoff screen's "In" column: test_handoff_screen.py)."""

from __future__ import annotations

from textual.widgets import Input, OptionList, TextArea

from casewatch.core.models import Severity
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.screens.forms import Form
from tests.tui.helpers import rendered_rows, settled, table
from tests.tui.test_board_defects import palette_hits


async def open_first(app, pilot, severity: str) -> str:
    """Open the first case of a pane on its case screen, as a user would (focus the pane, Enter)."""
    sev = table(app, severity)
    sev.focus()
    case_id = sev.selected_id()
    await pilot.press("enter")
    await settled(app, pilot)  # the case screen reads its case in a worker
    assert isinstance(app.screen, CaseScreen) and app.screen.case_id == case_id
    return case_id


async def test_multiline_fields_are_usable_and_the_form_scrolls_at_80x24(make_app):
    """Every field is tall enough to show what is typed (a TextArea at least 3 rows), and each one,
    focused, is scrolled into the form's view."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await open_first(app, pilot, "sev1")
        for key, typed in (("u", "the login service rejects tokens"), ("C", "yes")):
            await pilot.press(key)
            await pilot.pause()
            form = app.screen
            assert isinstance(form, Form)
            frame = form.query_one(".form")
            for area in form.query(TextArea):
                assert area.size.height >= 3, (key, area.id, area.size)
            for field in [*form.query(Input), *form.query(TextArea)]:
                field.focus()
                await pilot.pause()
                await pilot.wait_for_scheduled_animations()  # the frame scrolls to the focused field
                assert field.region.height >= 1 and frame.region.contains_region(field.region), (key, field.id, field.region, frame.region)
            first_area = form.query(TextArea).first()
            first_area.focus()
            await pilot.press(*typed)
            await pilot.pause()
            assert typed in "".join(rendered_rows(first_area)), rendered_rows(first_area)
            await pilot.press("escape", "y")  # typed text: Esc asks before it discards it
            await pilot.pause()


async def test_the_severity_picker_opens_on_the_current_value(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        case_id = await open_first(app, pilot, "sev1")
        assert app.state.cases[case_id].severity is Severity.SEV1
        await pilot.press("s")
        await settled(app, pilot)
        choices = app.screen.query_one(OptionList)
        assert choices.highlighted == list(Severity).index(Severity.SEV1)
        await pilot.press("down")
        assert choices.get_option_at_index(choices.highlighted or 0).id == Severity.SEV2.value


async def test_the_palette_finds_cases_from_the_case_screen(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await open_first(app, pilot, "sev1")
        other = next(c for c in app.state.cases.values() if c.severity is Severity.SEV3)
        hits = await palette_hits(app, pilot, other.customer)
        assert any(other.id in hit and other.customer in hit for hit in hits), hits
        index = next(i for i, hit in enumerate(hits) if other.id in hit)
        await pilot.press(*("down",) * index, "enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == other.id
