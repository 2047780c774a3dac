"""Issue 25, "a first shift without surprises": what a new lead tripped over on the board, each
checked the way they met it (80×24 unless the item is about width)."""

from __future__ import annotations

import pytest

from casewatch.core import commands as c
from casewatch.core.models import Severity
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.widgets.board_layout import CLOCKS, choose_layout, column_width
from tests.tui.helpers import focus_pane, palette_hits, rendered_rows, settled, shown_ids, table, workers_done
from tests.tui.test_app import help_lines
from tests.tui.test_board_defects import _until

SMALL = (80, 24)


async def test_a_query_naming_a_case_puts_opening_it_first(make_app, writer):
    """Item 1: with the cursor on a case, typing its id ranked "Assign the internal investigation
    owner (CW-…)" first, and Enter opened a form on it. A case id or a ticket key the query names
    is opened first, always, in any letter case; actions on the selected case rank below it."""
    ticket = (await writer.execute(c.NewCase(title="Refunds fail T-4821 again", customer="Initech",
                                             severity=Severity.SEV2), "dana")).changed_case.id
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        selected = await focus_pane(app, pilot, "sev1")
        for query, opens in ((selected, selected), (selected.lower(), selected), ("t-4821", ticket)):
            hits = await palette_hits(app, pilot, query)
            assert hits[0].startswith(f"Open {opens} "), (query, hits[:3])
            await pilot.press("escape")
            await pilot.pause()
        await palette_hits(app, pilot, selected)
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == selected


async def test_help_names_the_attention_column_and_lists_only_casewatch_keys(make_app):
    """Items 7 and 19: the `!` column (⚑2) was explained nowhere, and help listed Textual's keys
    with no description ("^pgup Page Left", "tab Focus Next")."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        text = " ".join(" ".join(help_lines(app)).split())
        assert "The ! column counts what needs a lead's attention" in text
        assert "Focus Next" not in text and "Page Left" not in text and "Scroll" not in text
        assert "Filter" in text and "Need owners" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_the_palette_offers_casewatch_commands_and_themes_only(make_app):
    """Item 19: the palette offered Textual's "Keys" (a panel Esc did not close, after which `q`
    quit the demo), "Screenshot" and "Quit the application as soon as possible"."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        for query, absent in (("keys", "Keys"), ("screenshot", "Screenshot"), ("quit", "Quit")):
            hits = await palette_hits(app, pilot, query)
            assert absent not in hits, hits
            await pilot.press("escape")
            await pilot.pause()
        assert "Theme" in await palette_hits(app, pilot, "theme")
        await pilot.press("escape")
        await pilot.pause()
        assert "Quit" not in await palette_hits(app, pilot, "quit the application")


async def test_j_goes_on_into_the_next_pane(make_app):
    """Item 25: `j` stopped at the bottom of a pane; it goes on into the next pane with cases, as `]`
    does, and `k` back to the last case of the previous one."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await focus_pane(app, pilot, "sev1")
        await pilot.press("G")
        last = table(app, "sev1").selected_id()
        await pilot.press("j")
        await pilot.pause()
        assert app.focused is table(app, "sev2") and table(app, "sev2").cursor_row == 0
        await pilot.press("k")
        await pilot.pause()
        assert app.focused is table(app, "sev1") and table(app, "sev1").selected_id() == last


async def test_the_shift_lead_fills_the_lead_role_on_the_board(make_app):
    """Item 26: dana leads the demo shift, so no case is flagged "missing role: lead", and the `!`
    column counts what the case screen lists."""
    from casewatch.core.views import case_flags

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert app.state.shift_lead == "dana"
        sev1 = table(app, "sev1")
        for case_id in [row.value for row in sev1.rows]:
            case = app.state.cases[case_id]
            flags = case_flags(case, app.state.policy, "dana")
            assert "missing role: lead" not in flags
            assert sev1.get_cell(case_id, "flags").plain == (f"⚑{len(flags)}" if flags else "")


async def test_the_filter_dialog_holds_the_filter_and_words_match_severity(make_app):
    """Item 21: `/` opened empty instead of holding the filter in force, and `ravi sev2` found nothing."""
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        case = next(c for c in app.state.cases.values() if c.severity is Severity.SEV2 and c.internal_owner)
        query = f"{case.internal_owner} sev2"
        await pilot.press("slash", *query, "enter")
        await pilot.pause()
        want = {c.id for c in app.state.cases.values()
                if c.severity is Severity.SEV2 and case.internal_owner in (c.internal_owner, c.comms_owner)}
        assert want and shown_ids(app) >= want and case.id in shown_ids(app)
        assert all(app.state.cases[i].severity is Severity.SEV2 for i in shown_ids(app))
        await pilot.press("slash")
        await pilot.pause()
        assert app.screen.query_one("#filter-input", Input).value == query


async def test_after_n_the_cursor_is_on_the_new_case(make_app):
    """Item 22: after `N` the cursor stayed where it was; it goes to the new case."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await focus_pane(app, pilot, "sev1")
        await pilot.press("N", *"Exports hang", "enter", *"Initech", "enter", *"SEV3", "enter", "ctrl+s")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        new = max(app.state.cases, key=lambda i: int(i.split("-")[1]))
        assert app.state.cases[new].title == "Exports hang"
        assert app.focused is table(app, "sev3") and app.screen.selected_case().id == new


async def test_a_business_hours_warning_shows_the_working_time_left(make_app, writer, frozen_clock):
    """Item 5: a business-hours clock read `▲ 6h11m` although 11 minutes of work were left."""
    from datetime import timedelta

    escalated = frozen_clock.now - timedelta(minutes=40)  # Fri 13:20 UTC: SEV3 owner within 4 business hours
    frozen_clock.now += timedelta(hours=3, minutes=30)  # Fri 17:30 UTC: business hours are over
    case = (await writer.execute(c.NewCase(title="Exports slow", customer="Initech", severity=Severity.SEV3),
                                 "dana", at=escalated)).changed_case
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert table(app, "sev3").get_cell(case.id, "owner_clock").plain == "▲ 20m w"


async def test_forms_at_80x24_open_at_their_first_label_and_show_their_error(make_app):
    """Item 12: at 80×24 the update form opened scrolled past "What we know:" and the close form
    past "Final severity:"; an error line ended below the fold."""
    from textual.containers import VerticalScroll
    from textual.widgets import Label

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await focus_pane(app, pilot, "sev1")
        for key, first in (("u", "What we know:"), ("v", "Notes:")):
            await pilot.press(key)
            await pilot.pause()
            frame = app.screen.query_one(VerticalScroll)
            label = app.screen.query(Label).first()
            assert str(label.render()) == first and frame.scroll_y == 0, (key, frame.scroll_y)
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("u", "ctrl+s")  # nothing typed: the form says what is missing
        await pilot.pause()
        error = app.screen.query_one("#form-error")
        assert str(error.render()).strip() and error.region.bottom <= app.screen.query_one(VerticalScroll).region.bottom


async def test_enter_completes_a_unique_cause_prefix(make_app):
    """Item 20: Enter completed a unique name prefix, but not a unique cause prefix (`conf`)."""
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await focus_pane(app, pilot, "sev2")
        await pilot.press("C", *"sev2", "enter", *"no", "enter", *"conf", "enter")
        await pilot.pause()
        assert app.screen.query_one("#cause", Input).value == "configuration"
        assert app.screen.query_one("#final_severity", Input).value == "SEV2"  # completed too
        assert not str(app.screen.query_one("#form-error").render()).strip()


@pytest.mark.parametrize("size", [SMALL, (200, 50)])
async def test_panes_drop_the_repeated_severity_and_name_the_customer(make_app, size):
    """Item 13: a per-row Sev repeated its pane's severity while titles were cut, and at 80 columns two
    cases with the same title start could not be told apart: the customer leads the title there."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        layout = app.screen.board_layout
        assert "sev" not in layout.keys
        pane = table(app, "sev3")
        for row in pane.rows:
            case = app.state.cases[row.value]
            title = pane.get_cell(row.value, "title").plain
            if "customer" in layout.keys:
                assert title == case.title and pane.get_cell(row.value, "customer").plain == case.customer
            else:
                assert title == f"{case.customer} · {case.title}"
        assert ("customer" in layout.keys) == (size[0] == 200)


@pytest.mark.parametrize(("zone", "label", "hidden"), [("Etc/UTC", "UTC", "Etc/UTC"),
                                                        ("Europe/Berlin", "CET", "Europe/Berlin"),
                                                        ("America/Chicago", "CST", None)])
async def test_zone_labels_keep_one_style_on_a_screen(board_db, frozen_clock, zone, label, hidden):
    """From a fresh-eyes run: `Etc/UTC`, `UTC`, `Europe/Berlin` and `CET` on one screen. The
    abbreviation throughout; the IANA name once, and only where the abbreviation is ambiguous."""

    app = CasewatchApp(resolve_target(board_db), "dana", zone=zone, clock=frozen_clock, live=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        case_id = next(iter(app.state.cases))
        app.screen.open_case(case_id)
        await settled(app, pilot)  # the case screen mounts first: its load is a worker it starts then
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        shown = "\n".join(line for widget in screen.query("Static, DataTable, ClockBar") if widget.display
                           for line in rendered_rows(widget))
        assert "Escalated " in shown and f" {label}" in shown, shown
        if hidden is not None:
            assert hidden not in shown, shown
        else:  # CST is Chicago's and Shanghai's: the zone is named in full once, where the clocks say so
            assert shown.count(f"{label} ({zone})") == 1, shown


async def test_at_200_columns_settled_clocks_give_their_due_time_room_to_the_title(make_app, writer):
    """Item 13: at 200 columns a 21-column clock showed a lone ✓ while titles were cut. A clock
    column where no case of the pane has the clock running keeps a countdown's width; the title gets
    the rest. A case whose clock runs there widens the column again, its due time whole."""
    layout = choose_layout(200)
    assert layout.show_due
    title = next(column for column in layout.columns if column.key == "title")
    app = make_app(live=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()

        def widths(severity: str) -> dict[str, int]:
            pane = table(app, severity)
            return {key.value: column.width for key, column in pane.columns.items()}

        settled_clocks = []
        for severity in Severity:
            pane = table(app, severity.value.lower())
            plans = [app.state.clocks[row.key.value] for row in pane.ordered_rows]
            shown = widths(severity.value.lower())
            freed = 0
            for index, key in enumerate(CLOCKS):
                full = column_width(next(col for col in layout.columns if col.key == key), layout)
                if any(plan[index].active for plan in plans):
                    assert shown[key] == full, (severity, key)
                else:
                    assert shown[key] == 9, (severity, key, shown)
                    freed += full - 9
                    settled_clocks.append((severity, key))
            assert shown["title"] == column_width(title, layout) + freed
        assert (Severity.SEV2, "owner_clock") in settled_clocks  # every SEV2 case of the demo has its owner
        new = (await writer.execute(c.NewCase(title="Nobody owns this yet", customer="Initech",
                                              severity=Severity.SEV2), "dana")).changed_case.id
        await _until(pilot, lambda: new in table(app, "sev2").rows)
        assert widths("sev2")["owner_clock"] == 19
        assert table(app, "sev2").get_cell(new, "owner_clock").plain.endswith("Fri 15:30")  # 30m on, in CET
