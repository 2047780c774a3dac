"""The board's filter bar (issue 26 item 1): `/` opens a one-line filter under the panes that
narrows the board on every keystroke with the field syntax (core.case_filter); Enter keeps it,
Esc clears it, ↑ and ↓ recall earlier filters (kept per person in the config folder)."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Input, Static

from casewatch import paths
from casewatch.core.case_filter import Seen, parse_filter
from casewatch.core.models import Severity
from casewatch.tui.widgets.case_table import SeverityPane
from casewatch.tui.widgets.filter_bar import FilterBar
from casewatch.tui.widgets.status_line import StatusLine
from tests.tui.helpers import focus_pane, notifications, rendered_rows, screen_text, settled, shown_ids, table


def matching(app, query: str) -> set[str]:
    chosen = parse_filter(query)
    seen = Seen("dana", app.now(), app.state.clocks, shift_lead=app.state.shift_lead)
    return {cid for cid, case in app.state.cases.items() if chosen.matches(case, seen)}


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_filter_bar_narrows_as_typed_keeps_recalls_and_clears(make_app, size):
    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await settled(app, pilot)
        bar = app.screen.query_one(FilterBar)
        field = bar.query_one(Input)
        everything = set(app.state.cases)
        assert not bar.display
        await pilot.press("slash")
        await settled(app, pilot)
        assert bar.display and app.focused is field and field.value == ""
        # every keystroke narrows: each prefix shows what it matches (a prefix that does not read keeps the last)
        shown_at = []
        for key in "sev:1,2":
            await pilot.press(key)
            await pilot.pause()
            shown_at.append(shown_ids(app))
        assert shown_at[-1] == matching(app, "sev:1,2") and shown_at[-3] == matching(app, "sev:1")
        assert all(app.state.cases[i].severity in (Severity.SEV1, Severity.SEV2) for i in shown_at[-1])
        assert shown_at[3] == shown_at[2] == matching(app, "sev")  # `sev:` needs a value: the board keeps `sev`
        await pilot.press(*" owner:none")
        await pilot.pause()
        kept = matching(app, "sev:1,2 owner:none")
        assert kept and shown_ids(app) == kept and app.focused is field  # the panes never took the keys
        titles = [str(pane.border_title) for pane in app.screen.query(SeverityPane)]
        app.screen._recount()  # counting every row afresh says what the rows counted as they came and went
        assert [str(pane.border_title) for pane in app.screen.query(SeverityPane)] == titles
        # a field that does not read: its error in the bar, the board as it was, no crash; Enter keeps the bar open
        await pilot.press(*" sev:9")
        await pilot.pause()
        error = bar.query_one("#filter-error", Static)
        assert error.display and "sev:9" in rendered_rows(error)[0] and shown_ids(app) == kept
        await pilot.press("enter")
        await pilot.pause()
        assert bar.display and app.focused is field and shown_ids(app) == kept
        await pilot.press(*["backspace"] * len(" sev:9"), "enter")
        await settled(app, pilot)
        assert not bar.display and shown_ids(app) == kept and app.screen.filter_text == "sev:1,2 owner:none"
        [line] = rendered_rows(app.screen.query_one(StatusLine))
        assert "sev:1,2" in line and f"{len(kept)} shown" in line
        history = json.loads(paths.filter_history_path().read_text(encoding="utf-8"))
        assert history == {"dana": ["sev:1,2 owner:none"]}
        # hostile text is literal: markup and control characters neither style nor reach the terminal
        await pilot.press("slash")
        await pilot.pause()
        assert field.value == "sev:1,2 owner:none" and field.selection.end - field.selection.start == len(field.value)
        await pilot.press(*"[b]acme", "enter")  # typing replaces the filter held (it was selected)
        await settled(app, pilot)
        assert app.screen.filter_text == "[b]acme" and shown_ids(app) == matching(app, "[b]acme")
        assert "“[b]acme”" in rendered_rows(app.screen.query_one(StatusLine))[0]
        await pilot.press("slash", *"is:[red]x")
        await pilot.pause()
        assert "is:[red]x" in rendered_rows(bar.query_one("#filter-error", Static))[0]
        # ↑ recalls earlier filters, newest first, and the board follows; ↓ comes back to what was typed
        await pilot.press("up")
        await pilot.pause()
        assert field.value == "[b]acme" and bar.error is None
        await pilot.press("up")
        await pilot.pause()
        assert field.value == "sev:1,2 owner:none" and shown_ids(app) == kept
        await pilot.press("up")  # the oldest: stays
        await pilot.press("down", "down")
        await pilot.pause()
        assert field.value == "is:[red]x" and bar.error is not None
        # Esc clears the filter and closes the bar
        await pilot.press("escape")
        await settled(app, pilot)
        assert not bar.display and shown_ids(app) == everything and app.screen.filter_text == ""
        assert "Traceback" not in notifications(app)
        history = json.loads(paths.filter_history_path().read_text(encoding="utf-8"))
        assert history == {"dana": ["[b]acme", "sev:1,2 owner:none"]}


async def test_a_corrupt_history_is_passed_over_with_a_notice_and_written_anew(make_app):
    path = paths.filter_history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"dana": ["sev:1"], "ravi": 7', encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settled(app, pilot)
        await pilot.press("slash", "up")
        await settled(app, pilot)
        assert app.screen.query_one(FilterBar).input.value == ""  # nothing to recall
        assert "filter-history.json was passed over (not JSON" in notifications(app)
        await pilot.press(*"sev:2", "enter")
        await settled(app, pilot)
    assert json.loads(path.read_text(encoding="utf-8")) == {"dana": ["sev:2"]}
    assert not list(path.parent.glob("*.partial"))


async def test_a_keystroke_that_adds_to_the_filter_still_finds_cases_that_came_in_between(make_app, writer):
    """A letter that only adds to the query narrows among the rows shown (board._narrow): a case
    that arrived or changed between two keystrokes is among them once it matched, and the board
    shows exactly what the longer query finds among every case, at each keystroke."""
    from casewatch.core import commands as c
    from casewatch.tui.messages import CasesChanged
    from tests.tui.helpers import Posted

    app = make_app(live=True)
    changes = Posted(CasesChanged)
    async with app.run_test(size=(200, 50), message_hook=changes) as pilot:
        await settled(app, pilot)
        await pilot.press("slash", *"chec")
        await pilot.pause()
        assert shown_ids(app) == matching(app, "chec")
        new = await writer.execute(c.NewCase(title="Checkout down [EU]", customer="Globex", severity=Severity.SEV2),
                                   "dana")
        await changes.wait_for(lambda m: new.case.id in m.changed)
        await pilot.pause()
        for key, query in (("k", "check"), ("o", "checko"), ("u", "checkou")):
            await pilot.press(key)
            await pilot.pause()
            assert shown_ids(app) == matching(app, query) and new.case.id in shown_ids(app)
        await pilot.press("x")  # no case has "checkoux": every row leaves
        await pilot.pause()
        assert shown_ids(app) == matching(app, "checkoux") == set()
        await pilot.press("backspace")  # shorter: over every case again
        await pilot.pause()
        assert shown_ids(app) == matching(app, "checkou") and new.case.id in shown_ids(app)


async def test_the_frame_that_shows_the_filter_bar_has_its_focus_and_keys_and_moves_no_pane(make_app, monkeypatch):
    """`/` is one layout and one frame (board.action_filter): the first frame drawn with the bar
    has the focus in it and the footer's keys for it. The bar lies over the last pane's bottom
    border, so no pane moves or changes size, no table is resized (on 10,000 cases a resize
    rebuilt every table's row bookkeeping) and the frame repaints no pane but the one the focus
    left (restyled): the bar's line, the footer and that pane are all it draws."""
    from textual.geometry import Region
    from textual.screen import Screen
    from textual.widgets._footer import FooterKey

    from casewatch.tui.screens.board import BoardScreen
    from casewatch.tui.widgets.case_table import CaseTable
    from casewatch.tui.widgets.footer import CasewatchFooter

    frames: list[tuple[bool, bool, list[str], list[Region], list[Region]]] = []
    compositor_refresh = Screen._compositor_refresh

    def recorded(screen: Screen) -> None:
        if isinstance(screen, BoardScreen):
            bar = screen.query_one(FilterBar)
            keys = [key.description for key in screen.query_one(CasewatchFooter).query(FooterKey)]
            frames.append((bar.display and bar.region.height > 0, screen.focused is bar.input, keys,
                           [pane.region for pane in screen.query(SeverityPane)], list(screen._compositor._dirty_regions)))
        compositor_refresh(screen)

    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(app, pilot)
        screen = app.screen
        panes = [pane.region for pane in screen.query(SeverityPane)]
        left = next(pane for pane in screen.query(SeverityPane) if pane.has_focus_within).region
        tables = list(screen.query(CaseTable))
        counts = [table._update_count for table in tables]
        resized: list[CaseTable] = []
        for table in tables:
            table.on_resize = lambda table=table: resized.append(table)
        monkeypatch.setattr(Screen, "_compositor_refresh", recorded)
        await pilot.press("slash")
        await settled(app, pilot)
        shown = [frame for frame in frames if frame[0]]
        assert shown, frames
        _, focused, keys, _, painted = shown[0]
        assert focused and "Clear filter" in keys and "Owner" not in keys
        assert all(frame[2] == keys and frame[3] == panes for frame in shown)  # nothing moved, then or after
        bar, footer = screen.query_one(FilterBar).region, screen.query_one(CasewatchFooter).region
        assert bar == Region(0, panes[-1].bottom - 1, 200, 1) and footer.y == bar.bottom  # the last pane's border line
        assert not resized and [table._update_count for table in tables] == counts
        assert painted and all(region in left or region in bar or region in footer for region in painted), painted


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_panes_fill_the_room_the_filter_bar_s_error_lines_leave_as_they_come_and_go(make_app, size):
    """The bar's own line lies over the last pane's bottom border; the panes give lines to its
    error when a query does not read and take them back when it reads again (or the bar closes):
    no blank line where the error was, and the last pane's border never pushed off the screen.
    Each time, the panes' heights add up to the screen less the clock bar, the status line, the
    footer and the error's lines as shown."""
    from casewatch.tui.screens.board import BoardScreen

    app = make_app()

    def fills(error_lines: int) -> bool:
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        heights = sum(pane.outer_size.height for pane in screen.query(SeverityPane) if pane.display)
        bar = screen.query_one(FilterBar)
        last = [pane for pane in screen.query(SeverityPane) if pane.display][-1]
        over_border = not bar.display or bar.region.y == last.region.bottom - 1
        return heights == size[1] - 3 - error_lines and over_border

    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        assert fills(0)
        error = 1 if size[0] == 200 else 2  # the error's lines, wrapped to the width
        for keys, error_lines in [(["slash"], 0), (["escape"], 0), (["slash", *"sev:9"], error),
                                  (["backspace", "1"], 0), (["enter"], 0), (["slash", *"zz"], 0), (["escape"], 0)]:
            for key in keys:
                await pilot.press(key)
            await settled(app, pilot)
            assert fills(error_lines), (keys, [p.outer_size.height for p in app.screen.query(SeverityPane)])


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_esc_on_the_board_with_the_bar_open_clears_the_filter_and_closes_the_bar(make_app, size):
    """Tab from the bar gives the keys to the board and leaves the bar open on the filter in
    force; Esc there showed every case again while the bar still held the query. Esc on the
    board now does what Esc in the bar does: the filter is cleared and the bar closes."""
    from casewatch.tui.widgets.case_table import CaseTable

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        bar = app.screen.query_one(FilterBar)
        everything = set(app.state.cases)
        await pilot.press("slash", *"acme")
        await pilot.pause()
        narrowed = shown_ids(app)
        assert narrowed == matching(app, "acme") and narrowed and narrowed != everything
        await pilot.press("tab")
        await pilot.pause()
        assert isinstance(app.focused, CaseTable) and bar.display and bar.input.value == "acme"
        assert shown_ids(app) == narrowed  # the board and the bar agree while the bar is open
        await pilot.press("escape")
        await settled(app, pilot)
        assert shown_ids(app) == everything and app.screen.filter_text == ""
        assert "acme" not in rendered_rows(app.screen.query_one(StatusLine))[0]
        assert not bar.display and isinstance(app.focused, CaseTable)
        heights = sum(pane.outer_size.height for pane in app.screen.query(SeverityPane) if pane.display)
        assert heights == size[1] - 3  # the bar's line went back to the panes
        await pilot.press("slash")
        await pilot.pause()
        assert bar.input.value == ""  # the bar opens on the filter in force: none


def cursor_row_drawn(table) -> bool:
    """The case under the table's cursor is among the rows the pane draws."""
    case_id = table.selected_id()
    return case_id is not None and any(case_id in line for line in rendered_rows(table))


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_row_under_the_cursor_stays_in_view_as_the_filter_narrows_widens_and_clears(make_app, size):
    """With the cursor low in a pane the filter had made tall, widening or clearing the filter
    shrinks the pane: at 80×24 the cursor's row was left out of view until a key moved it."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        steps = [
            ("narrow", ["slash", *"sev:3", "enter"]), ("low", ["G"]), ("clear in the bar", ["slash", "escape"]),
            ("narrow", ["slash", *"sev:3", "enter"]), ("low", ["G"]), ("clear on the board", ["escape"]),
            ("narrow", ["slash", *"sev:3", "enter"]), ("low", ["G"]), ("widen", ["slash", "end", *",4", "enter"]),
            ("low", ["G"]), ("narrow as typed", ["slash", "end", "backspace", "backspace"]),
            ("clear as typed", ["ctrl+u"]),
        ]
        for name, keys in steps:
            await pilot.press(*keys)
            await settled(app, pilot)
            panes = [pane.table for pane in app.screen.query(SeverityPane) if pane.table.row_count]
            assert app.screen._current_table() in panes
            assert all(cursor_row_drawn(table) for table in panes), (
                name, [(table.id, table.cursor_row, table.scroll_y) for table in panes if not cursor_row_drawn(table)])
        assert app.screen.filter_text == "" and shown_ids(app) == set(app.state.cases)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_footer_offers_the_bars_keys_while_typing_in_it(make_app, size):
    """In the bar `/` types a slash, so the footer no longer offers `/ Filter` there; it offers
    what works there, at 80 columns too: Enter keeps the filter, Esc clears it, ↑ and ↓ recall
    earlier filters. Back on the board, `/ Filter` is offered again."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        assert "/ Filter" in screen_text(app).splitlines()[-1]
        await pilot.press("slash")
        await settled(app, pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "/ Filter" not in footer and "^p Commands" in footer
        assert all(key in footer for key in ("⏎ Keep filter", "esc Clear filter", "↑↓ Earlier/later filters")), footer
        # the keys do what the footer says: Enter keeps, `/` is typed, ↑ and ↓ recall, Esc clears
        bar = app.screen.query_one(FilterBar)
        await pilot.press(*"sev:2", "enter")
        await settled(app, pilot)
        assert not bar.display and app.screen.filter_text == "sev:2"
        assert "/ Filter" in screen_text(app).splitlines()[-1]
        await pilot.press("slash", "slash")  # typing replaces the filter held
        await pilot.pause()
        assert bar.input.value == "/"
        await pilot.press("up")
        await pilot.pause()
        assert bar.input.value == app.screen.filter_text == "sev:2"
        await pilot.press("down")
        await pilot.pause()
        assert bar.input.value == app.screen.filter_text == "/"
        await pilot.press("escape")
        await settled(app, pilot)
        assert not bar.display and app.screen.filter_text == ""
        assert "/ Filter" in screen_text(app).splitlines()[-1]


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_bars_error_line_wraps_to_read_whole(make_app, size):
    """At 80 columns the error under the bar was cut off at its end: it wraps now, and the panes
    give it the lines it takes."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        await pilot.press("slash", *"sev:9")
        await settled(app, pilot)
        bar = app.screen.query_one(FilterBar)
        error = bar.query_one("#filter-error", Static)
        drawn = [line.strip() for line in rendered_rows(error)]
        whole = "✖ sev:9: a severity is 1 to 4 (e.g. sev:1,2) (the board shows the last filter that read)"
        assert " ".join(drawn) == whole
        assert len(drawn) == (2 if size[0] == 80 else 1) and all(line in screen_text(app) for line in drawn)
        heights = sum(pane.outer_size.height for pane in app.screen.query(SeverityPane) if pane.display)
        assert heights + len(drawn) == size[1] - 3 and bar.size.height == 1 + len(drawn)  # its line: a border's


async def test_rows_the_filter_took_off_come_back_as_they_were_unless_their_case_changed(make_app, writer,
                                                                                        monkeypatch):
    """Esc brings back the rows the filter took off the board with the cells they had
    (board._parked): on 10,000 cases making them all again took most of a second. A case that
    changed meanwhile comes back made afresh, with what changed, and the board then holds
    exactly what a board built afresh holds."""
    from casewatch.core import commands as c
    from casewatch.tui.messages import CasesChanged
    from casewatch.tui.screens.board import BoardScreen
    from tests.tui.helpers import Posted, table

    made: list[str] = []
    static_cells = BoardScreen._static_cells

    def counted(screen, case):
        made.append(case.id)
        return static_cells(screen, case)

    def rows(app) -> dict[str, list]:
        return {case_id: table(app, severity.value.lower()).get_row(case_id)
                for severity in Severity for case_id in app.screen._order[severity]}

    app = make_app(live=True)
    changes = Posted(CasesChanged)
    async with app.run_test(size=(200, 50), message_hook=changes) as pilot:
        await settled(app, pilot)
        before = rows(app)
        await pilot.press("slash", *"acme")
        await pilot.pause()
        gone = set(before) - shown_ids(app)
        assert gone and shown_ids(app)
        changed = min(gone)
        await writer.execute(c.Assign(case_id=changed, name="mei"), "dana")
        await changes.wait_for(lambda m: changed in m.changed)
        await pilot.pause()
        monkeypatch.setattr(BoardScreen, "_static_cells", counted)
        await pilot.press("escape")
        await settled(app, pilot)
        assert shown_ids(app) == set(before) and made == [changed]  # the one case that changed, alone made again
        after = rows(app)
        assert all(all(a is b for a, b in zip(after[case_id], before[case_id], strict=True))
                   for case_id in gone - {changed})
        owner = list(app.screen._layout.keys).index("owner")
        assert after[changed][owner].plain == "mei"
        app.screen._rebuild()  # what a board built afresh holds
        await pilot.pause()
        fresh = rows(app)
        assert {case_id: [(cell.plain, cell.style, cell.spans) for cell in cells] for case_id, cells in after.items()} \
            == {case_id: [(cell.plain, cell.style, cell.spans) for cell in cells] for case_id, cells in fresh.items()}


async def test_a_keystroke_that_keeps_every_row_repaints_the_titles_and_the_bar_alone(make_app, monkeypatch):
    """Every keystroke in the bar changes each pane's title ("… matching “c”"). Textual's
    border title repaints the whole pane, its table's rows included; the board repaints the
    title's line alone (SeverityPane.show_title), so a letter that every case matches (each id
    has a "c") draws the bar, the status line and the four title lines, one line each."""
    from textual.screen import Screen

    from casewatch.tui.screens.board import BoardScreen

    painted: list = []
    compositor_refresh = Screen._compositor_refresh

    def recorded(screen: Screen) -> None:
        if isinstance(screen, BoardScreen):
            painted.extend(screen._compositor._dirty_regions)
        compositor_refresh(screen)

    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(app, pilot)
        everything = shown_ids(app)
        await pilot.press("slash")
        await settled(app, pilot)
        monkeypatch.setattr(Screen, "_compositor_refresh", recorded)
        await pilot.press("c")
        await settled(app, pilot)
        assert shown_ids(app) == everything == matching(app, "c")
        titles = [pane.region.y for pane in app.screen.query(SeverityPane)]
        assert all("matching “c”" in str(pane.border_title) for pane in app.screen.query(SeverityPane))
        lines = {region.y for region in painted}
        assert painted and all(region.height == 1 for region in painted), painted
        assert lines == {*titles, app.screen.query_one(StatusLine).region.y, app.screen.query_one(FilterBar).region.y}


async def test_the_cursor_goes_back_to_its_case_when_the_filter_lets_it_back(make_app):
    """From a fresh-eyes run: a typo that matched nothing (`#`), then Esc, left the cursor on the
    pane's first row, not on the case it was on: in a long pane the lead lost their place. The
    case gets the cursor back when it shows again, unless the lead moved the cursor meanwhile."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, pilot)
        sev3 = table(app, "sev3")
        rows = [row.key.value for row in sev3.ordered_rows]
        # a word that hides one case of the pane and shows at least two others
        word, chosen = next((word, case_id) for case_id in rows[1:] for other in rows
                            for word in app.state.cases[other].title.casefold().split()
                            if word.isalpha() and case_id not in matching(app, word)
                            and len(matching(app, word) & set(rows)) >= 2)
        sev3.focus()
        sev3.move_cursor(row=rows.index(chosen))
        await settled(app, pilot)
        for keys in (["slash", "#", "escape"], ["slash", "#", "#", "backspace", "backspace", "enter"],
                     ["slash", *"sev:3 zzz", "ctrl+u", "escape"], ["slash", "#", "enter", "escape"],
                     ["slash", *word, "enter", "escape"]):
            await pilot.press(*keys)
            await settled(app, pilot)
            assert app.screen.filter_text == "" and sev3.has_focus, keys
            assert sev3.selected_id() == chosen, (keys, sev3.selected_id())
        # the lead moved the cursor among the rows the filter showed: it stays on their choice
        await pilot.press("slash", *word, "enter")
        await settled(app, pilot)
        left_on = sev3.selected_id()
        await pilot.press("g" if sev3.cursor_row else "G")
        await settled(app, pilot)
        moved_to = sev3.selected_id()
        assert moved_to not in (chosen, left_on) and moved_to in matching(app, word)
        await pilot.press("escape")
        await settled(app, pilot)
        assert app.screen.filter_text == "" and sev3.selected_id() == moved_to


@pytest.mark.parametrize("keymap", [{}, {"board.zoom": "Z"}])
async def test_a_zoomed_pane_s_title_names_its_key_while_the_filter_bar_has_the_keys(make_app, keymap):
    """With the focus in the filter bar, its Input takes the printable keys, and the zoomed pane's
    title named the binding's id (`zoomed (board.zoom: all panes)`) instead of its key; after Enter
    or Esc it stayed so until something else redrew the title. The key is the screen's own, as
    the `[keymap]` moved it."""
    app = make_app(keymap=keymap)
    key = keymap.get("board.zoom", "z")
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, pilot)
        await focus_pane(app, pilot, "sev3")
        pane = app.screen.query_one("#pane-sev3", SeverityPane)
        await pilot.press(key)
        await settled(app, pilot)
        zoomed = f"zoomed ({key}: all panes)"
        assert zoomed in str(pane.border_title)
        for keys in (["slash", "a"], ["enter"], ["slash", "c"], ["escape"]):
            await pilot.press(*keys)
            await settled(app, pilot)
            title = str(pane.border_title)
            assert zoomed in title and "board.zoom" not in title, (keys, title)


@pytest.mark.parametrize("key", ["tab", "shift+tab"])
async def test_tab_from_the_filter_bar_gives_the_keys_back_to_the_pane_they_came_from(make_app, key):
    """Tab in the bar went to the next widget, always the SEV1 pane (the bar comes first), even
    with SEV1 showing no row and the cursor in SEV3 before `/`. The pane the keys came from has
    them back, and the bar stays open on its text."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, pilot)
        chosen = await focus_pane(app, pilot, "sev3")
        sev3 = table(app, "sev3")
        bar = app.screen.query_one(FilterBar)
        await pilot.press("slash", *"sev:3,4")
        await settled(app, pilot)
        assert table(app, "sev1").row_count == 0 and app.focused is bar.input
        await pilot.press(key)
        await settled(app, pilot)
        assert app.focused is sev3 and sev3.selected_id() == chosen
        assert bar.display and bar.input.value == "sev:3,4" and app.screen.filter_text == "sev:3,4"


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_toasts_sit_above_the_open_filter_bar_and_its_error(make_app, size):
    """Toasts (an alert's, for 10 s and more) are docked at the bottom right, where the bar and its
    error lines are, and hid them. While the bar is open they sit above it and its error; when it
    closes they go back down to the footer."""
    app = make_app()

    def toast_bottoms() -> set[int]:
        return {toast.region.bottom for toast in app.screen.query("Toast")}

    async with app.run_test(size=size, notifications=True) as pilot:
        await settled(app, pilot)
        bar = app.screen.query_one(FilterBar)
        app.notify("CW-1001 customer update breached", title="Clock breached", severity="error", timeout=60)
        await settled(app, pilot)
        assert toast_bottoms() == {size[1] - 1}  # on the footer
        error = 1 if size[0] == 200 else 2  # the error's lines, wrapped to the width
        for keys, bar_lines in [(["slash"], 1), ([*"sev:9"], 1 + error), (["backspace", "1"], 1), (["enter"], 0),
                                (["slash", *"sev:"], 1 + error), (["enter"], 1 + error), (["escape"], 0)]:
            await pilot.press(*keys)
            await settled(app, pilot)
            assert bar.size.height == bar_lines if bar_lines else not bar.display, keys
            assert toast_bottoms() == {size[1] - 1 - bar_lines}, (keys, toast_bottoms())
            if bar_lines:
                assert bar.region.y == size[1] - 1 - bar_lines


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_bars_error_says_what_is_wrong_after_a_long_or_colon_ended_word(make_app, size):
    """`sev:` and 200 x's (pasted) showed `✖` alone on a line, then x's over the error's three lines:
    what was wrong never showed. `sev:4:` read `✖ sev:4:: …`. The word is shortened (and quoted
    when it ends in a colon), and the explanation is on screen whole."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        await pilot.press("slash")
        await settled(app, pilot)
        bar = app.screen.query_one(FilterBar)
        error = bar.query_one("#filter-error", Static)
        for typed, echo in [("sev:" + "x" * 200, "sev:" + "x" * 25 + "…"), ("sev:4:", "“sev:4:”")]:
            bar.input.value = typed
            await settled(app, pilot)
            drawn = [line.strip() for line in rendered_rows(error)]
            whole = f"✖ {echo}: a severity is 1 to 4 (e.g. sev:1,2) (the board shows the last filter that read)"
            assert " ".join(drawn) == whole, drawn
            assert len(drawn) == (2 if size[0] == 80 else 1) and all(line in screen_text(app) for line in drawn)
