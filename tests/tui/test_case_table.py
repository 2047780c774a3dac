"""CaseTable's departures from DataTable: each must draw exactly what DataTable draws."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from textual.widgets.data_table import DuplicateKey

from casewatch.tui.widgets import cells
from casewatch.tui.widgets.case_table import CaseTable

WIDTHS = {"id": 7, "title": 12, "owner": 6}


class Twins(App):
    def compose(self) -> ComposeResult:
        yield CaseTable(id="case")
        yield DataTable(id="plain")


def fill(table: DataTable, rows: int) -> None:
    for key, width in WIDTHS.items():
        table.add_column(key, key=key, width=width)
    for n in range(rows):
        table.add_row(cells.plain(f"CW-{n}"), cells.plain("a title far longer than its column " * (n % 3)),
                      cells.tag(["tom", "sofia", "a-very-long-name"][n % 3]), key=f"CW-{n}")


def striped_twins(app: Twins) -> tuple[CaseTable, DataTable]:
    """The app's CaseTable and plain DataTable, zebra-striped and filled alike."""
    case, plain = app.query_one("#case", CaseTable), app.query_one("#plain", DataTable)
    for table in (case, plain):
        table.zebra_stripes = True
        fill(table, 40)
    return case, plain


def drawn(table: DataTable) -> list[list]:
    """The table's first twelve lines, segment by segment (text, style, meta)."""
    return [list(table.render_line(y)) for y in range(12)]


async def test_fixed_width_rows_are_not_measured_yet_lay_out_as_in_a_data_table():
    """The board's columns have fixed widths, so CaseTable skips DataTable's measuring of every new
    cell (a third of a 10,000-case board's start-up) and must still size and draw the same."""
    app = Twins()
    async with app.run_test(size=(60, 30)) as pilot:
        case, plain = app.query_one("#case", CaseTable), app.query_one("#plain", DataTable)
        for table in (case, plain):
            fill(table, 40)
        await pilot.pause()
        assert case.virtual_size == plain.virtual_size and case.virtual_size.height == 41
        assert [case.render_line(y).text for y in range(8)] == [plain.render_line(y).text for y in range(8)]
        # the labels' widths, never widened by a cell: no cell was measured
        assert [column.content_width for column in case.columns.values()] == [len(key) for key in WIDTHS]
        assert plain.columns["title"].content_width > len("title")


async def test_an_auto_width_column_is_measured_as_data_table_measures_it():
    app = Twins()
    async with app.run_test(size=(60, 30)) as pilot:
        case, plain = app.query_one("#case", CaseTable), app.query_one("#plain", DataTable)
        for table in (case, plain):
            table.add_column("id", key="id")
            table.add_row(Text("CW-123456"), key="a")
        await pilot.pause()
        assert case.columns["id"].content_width == plain.columns["id"].content_width == 9
        assert case.virtual_size == plain.virtual_size


def test_cells_that_look_alike_are_one_object_and_drawing_leaves_them_unchanged():
    import io

    from rich.console import Console

    first, second = cells.tag("tom"), cells.tag("tom")
    assert first is second and cells.tag("[b]tom") is not first
    Console(width=3, file=io.StringIO()).print(first)  # drawn cut short: the cell itself stays whole
    assert first.plain == "tom" and first.overflow == "ellipsis" and first.spans == []


async def test_removing_many_rows_at_once_draws_what_removing_them_one_by_one_draws():
    """The filter bar narrows 10,000 rows a keystroke at a time: `remove_rows` drops them in one
    pass (DataTable's `remove_row` renumbers every later row each time)."""
    app = Twins()
    async with app.run_test(size=(60, 30)) as pilot:
        case, plain = app.query_one("#case", CaseTable), app.query_one("#plain", DataTable)
        for table in (case, plain):
            fill(table, 40)
            table.move_cursor(row=39)
        await pilot.pause()
        gone = [f"CW-{n}" for n in range(40) if n % 3 == 0 or n > 30]
        case.remove_rows(gone)
        for key in gone:
            plain.remove_row(key)
        await pilot.pause()
        left = [f"CW-{n}" for n in range(31) if n % 3]
        assert [row.key.value for row in case.ordered_rows] == left
        assert [case.get_row_index(key) for key in left] == list(range(len(left)))
        assert case.cursor_row == plain.cursor_row == len(left) - 1 and case.selected_id() == left[-1]
        assert case.virtual_size == plain.virtual_size
        assert [case.render_line(y).text for y in range(24)] == [plain.render_line(y).text for y in range(24)]
        case.add_row(cells.plain("CW-99"), cells.plain("new"), cells.tag("tom"), key="CW-99")
        assert case.get_row_index("CW-99") == len(left)


async def test_cells_drawn_before_rows_were_removed_draw_as_data_table_draws_them_after():
    """CaseTable reuses a cell it drew while the same cell sits in the same row, across a removal
    of rows (DataTable draws every cell again): what it draws must still be what DataTable draws,
    segment by segment, styles and the {"row", "column"} meta a mouse click reads included."""
    app = Twins()
    async with app.run_test(size=(60, 30)) as pilot:
        case, plain = striped_twins(app)
        for table in (case, plain):
            table.move_cursor(row=5)
        app.set_focus(None)  # the two draw alike only when neither has the focus
        await pilot.pause()
        assert drawn(case) == drawn(plain)
        gone = ["CW-1", "CW-2", "CW-7"]  # rows below move up: new indices, other zebra stripes
        case.remove_rows(gone)
        for key in gone:
            plain.remove_row(key)
        await pilot.pause()
        after = drawn(case)
        assert after == drawn(plain)
        metas = [segment.style.meta for segment in after[3] if segment.style is not None and segment.style.meta]
        assert metas and all(meta["row"] == 2 for meta in metas)  # CW-4 is row 2 now, and says so
        case.update_cell("CW-4", "title", cells.plain("changed"))  # a cell that changed is drawn anew
        plain.update_cell("CW-4", "title", cells.plain("changed"))
        await pilot.pause()
        assert drawn(case) == drawn(plain) and "changed" in case.render_line(3).text


async def test_a_restyle_keeps_the_cells_drawn_and_shared_cells_are_drawn_once_for_every_row(monkeypatch):
    """A focus change restyles the table (DataTable's focus tint): CaseTable keeps the cells drawn
    under each look, so focus leaving and coming back (the filter bar opening and closing) draws
    no cell through Rich the second time. A shared cell (cells.shared) drawn in one row is drawn
    from what it drew there in any other row. Each time, what it draws is what DataTable draws."""
    rich_draws = []
    data_table_cell = DataTable._render_cell

    def counted(self, *args, **kwargs):
        if isinstance(self, CaseTable):
            rich_draws.append(args[:2])
        return data_table_cell(self, *args, **kwargs)

    monkeypatch.setattr(DataTable, "_render_cell", counted)
    app = Twins()
    async with app.run_test(size=(60, 30)) as pilot:
        case, plain = striped_twins(app)

        draws = []
        for focused in (case, None, case, None):  # each look twice
            before = len(rich_draws)
            app.set_focus(focused)
            await pilot.pause()
            lines = drawn(case)
            draws.append(len(rich_draws) - before)
            if focused is None:  # the two draw alike only when neither has the focus
                assert lines == drawn(plain)
        assert draws[0] > 0 and draws[1] > 0 and draws[2:] == [0, 0], draws
        # a row that comes into view: of its cells only the one no other row shares is drawn anew
        case.remove_rows([f"CW-{n}" for n in range(3)])
        for n in range(3):
            plain.remove_row(f"CW-{n}")
        await pilot.pause()
        before = len(rich_draws)
        assert drawn(case) == drawn(plain)
        owner = list(WIDTHS).index("owner")
        assert [column for _, column in rich_draws[before:]].count(owner) == 0  # tom, sofia… drawn before


async def test_rows_appended_at_once_and_put_in_order_draw_what_add_row_and_sort_draw():
    """Esc brings thousands of rows back at once: `append_rows` adds them in one pass (each
    `add_row` set the cursor and counted an update) and `order_rows` puts them in order without
    `sort`'s key over every row's cells. A row appended with the cells `remove_rows` gave back
    is the row it was. Each time, CaseTable draws what a DataTable built row by row draws."""
    app = Twins()
    async with app.run_test(size=(60, 30)) as pilot:
        case, plain = app.query_one("#case", CaseTable), app.query_one("#plain", DataTable)
        for table in (case, plain):
            table.zebra_stripes = True
            for key, width in WIDTHS.items():
                table.add_column(key, key=key, width=width)
        rows = [(f"CW-{n}", [cells.plain(f"CW-{n}"), cells.plain(f"title {n}"), cells.tag("tom")]) for n in range(30)]
        case.append_rows(rows)
        for key, values in rows:
            plain.add_row(*values, key=key)
        app.set_focus(None)  # the two draw alike only when neither has the focus
        await pilot.pause()
        assert case.cursor_coordinate == plain.cursor_coordinate and case.virtual_size == plain.virtual_size
        assert drawn(case) == drawn(plain)
        removed = case.remove_rows(["CW-2", "CW-5"])
        assert [cell.plain for cell in removed["CW-5"].values()] == ["CW-5", "title 5", "tom"]
        case.append_rows(list(removed.items()))
        order = [key for key, _ in sorted(rows, key=lambda row: -int(row[0][3:]))]  # newest first
        case.order_rows(order)
        plain.sort("id", key=lambda cell: -int(cell.plain[3:]))
        await pilot.pause()
        assert [row.key.value for row in case.ordered_rows] == order
        assert [case.get_row_index(key) for key in order] == list(range(len(order)))
        assert drawn(case) == drawn(plain)
        with pytest.raises(DuplicateKey):
            case.append_rows([("CW-3", [cells.plain("CW-3")])])


def test_a_text_cell_is_drawn_segment_for_segment_as_rich_draws_it_for_a_data_table():
    """cell_lines skips Rich's generic layers around a one-line cell's text; what it draws must
    be what DataTable's `console.render_lines(Styled(Padding(…)))` draws, for every kind of cell
    the board shows (styled spans, wide characters, cut with an ellipsis or not, justified, empty,
    exactly fitting) at every width and padding, and it must leave alone what it does not draw."""
    import io

    from rich.console import Console
    from rich.padding import Padding
    from rich.style import Style
    from textual.renderables.styled import Styled

    from casewatch.tui.widgets.cell_lines import text_cell_lines

    console = Console(file=io.StringIO(), width=200, color_system="truecolor")
    spanned = Text("ACME · Login fails", style="bold")
    spanned.stylize("italic #ff0000", 0, 4)
    texts = [Text(""), Text("CW-1001"), spanned, Text("報告書が届かない 📦 shipping", no_wrap=True, overflow="ellipsis"),
             Text("a title far longer than its column", overflow="crop"), Text("right", justify="right"),
             Text("centre", justify="center", end=""), Text("fold me over", overflow="fold"),
             cells.tag("specialist:database"), cells.plain("sofia")]
    pre = Style(color="#ddeeff", bgcolor="#112233") + Style.from_meta({"row": 3, "column": 4})
    for cell in texts:
        for padding in (0, 1, 2):
            for width in range(2 * padding + 1, 24):
                options = console.options.update_dimensions(width, 1).update(no_wrap=True)
                for post in (Style(), Style(bgcolor="#445566", bold=True)):
                    expected = console.render_lines(Styled(Padding(cell, (0, padding)), pre_style=pre, post_style=post),
                                                    options)
                    assert text_cell_lines(console, options, cell, padding, pre, post) == expected, \
                        (cell.plain, padding, width)
    options = console.options.update_dimensions(10, 1).update(no_wrap=True)
    for cell in (Text("two\nlines"), Text("a\ttab"), Text("wraps", no_wrap=False)):
        assert text_cell_lines(console, options, cell, 1, pre, Style()) is None
    assert text_cell_lines(console, console.options.update_dimensions(2, 1), Text("x"), 1, pre, Style()) is None
