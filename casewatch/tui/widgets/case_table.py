"""A severity pane and its case table: one row per case, keyed by case id."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import zip_longest
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual._types import SegmentLines
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.content import Content
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, DuplicateKey, Row, RowKey

from casewatch.core.models import Severity
from casewatch.tui.widgets.cell_lines import text_cell_lines


def rows_in_view(table: DataTable[Text], margin: int = 2) -> tuple[int, int]:
    """Indices of the rows the table shows now (give or take `margin`)."""
    first = int(table.scroll_y)
    return max(0, first - margin), first + table.size.height + margin


Cells = dict[ColumnKey, Text]
"""A row's cells by column, as the table holds them."""
CellKey = tuple[object, int, Style, int, bool, bool, bool, object, bool, object]
# The component styles DataTable lays over a cell (cursor, hover, header and fixed variants): with the
# row's style, its pseudo-classes and these, a drawn cell says everything that styled it.
CELL_COMPONENTS = ("datatable--cursor", "datatable--hover", "datatable--header-cursor",
                   "datatable--header-hover", "datatable--fixed-cursor")


class CaseTable(DataTable[Text]):
    """A severity pane's table. Row keys are case ids."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", show=False, tooltip="Open the case screen"),
        Binding("j", "step(1)", "Down", id="board.down", show=False,
                tooltip="Move the cursor to the next case, on into the next pane"),
        Binding("k", "step(-1)", "Up", id="board.up", show=False,
                tooltip="Move the cursor to the previous case, back into the previous pane"),
        Binding("g,home", "first_row", "First", id="board.first", show=False,
                tooltip="Jump to the first case of the pane"),
        Binding("G,end", "last_row", "Last", id="board.last", show=False, tooltip="Jump to the last case of the pane"),
    ]

    class PastEdge(Message):
        """`j` on the last row or `k` on the first: the board goes on into the next (previous) pane."""

        def __init__(self, table: CaseTable, step: int):
            super().__init__()
            self.table, self.step = table, step

    class Resized(Message):
        """The table took another size (its pane sized again, shown again, the terminal): rows
        may have come into view, and the board reads their countdowns (they wait while out of view)."""

        def __init__(self, table: CaseTable):
            super().__init__()
            self.table = table

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Cells drawn, by row and not by the table's update count: (the cell drawn, its row index, its
        # lines). Made first: DataTable's own set-up clears the caches.
        self._drawn: LRUCache[CellKey, tuple[object, int, SegmentLines]] = LRUCache(10_000)  # by row key
        self._drawn_cells: LRUCache[CellKey, tuple[object, int, SegmentLines]] = LRUCache(10_000)  # by cell
        self._cell_styles: object = None  # see `_cell_style_key`
        self._laid_out: tuple[Size, Size, Size] | None = None  # see `_size_updated`
        super().__init__(*args, **kwargs)

    def action_step(self, step: int) -> None:
        last = self.row_count - 1
        if (step > 0 and self.cursor_row >= last) or (step < 0 and self.cursor_row <= 0):
            self.post_message(self.PastEdge(self, step))
        else:
            self.move_cursor(row=self.cursor_row + step)

    def action_first_row(self) -> None:
        self.move_cursor(row=0, animate=False)

    def action_last_row(self) -> None:
        self.move_cursor(row=self.row_count - 1, animate=False)

    def on_resize(self) -> None:
        """The pane changed height (zoom, a filter, the filter bar's error lines, the terminal):
        scroll so the cursor row shows, since the keys act on it (Textual scrolls only when the
        cursor moves), and tell the board (`Resized`). Done here, at the new size: a call after
        the board's refresh could come before the layout that resized the pane, and scrolled for
        the height it was leaving."""
        if self.row_count:
            self._scroll_cursor_into_view()
        self.post_message(self.Resized(self))

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        """Textual's ScrollView compares the layout's virtual size with its own, which differ for
        a table at every layout of the screen (the layout gives a widget without children its own
        size), and updated the table's scrollbars each time, drawn in a frame of their own after
        the layout's: one more frame for every key that lays the screen out. Here only a change of
        what the scrollbars show (the table's size, its container's, its own virtual size) goes on."""
        laid_out = (size, container_size, self.virtual_size)
        if laid_out == self._laid_out:
            return False
        self._laid_out = laid_out
        return super()._size_updated(size, virtual_size, container_size, layout)

    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> SegmentLines:
        """A body cell as DataTable draws it, drawn again only when its text changed.

        DataTable keys its drawn cells by its update count, which every removal of rows bumps: a
        filter keystroke that removed some rows drew every cell in view again although most rows
        stayed, each through Rich (Padding, Styled, Text) at a tenth of a millisecond a cell, and
        most of the frame. Here a cell drawn before is reused while the same cell object sits in
        the same row key and column, at the same width and height and with the same styles (zebra
        stripe, cursor, hover, focus, and the component styles over the cell: `_cell_style_key`),
        so neither a restyle nor DataTable's clearing of its own caches (a sort, rows added)
        drops it. Failing that, a cell object drawn in another row is drawn from what it drew
        there: most of a row's cells are shared objects (cells.shared: a status, an owner, a
        countdown), so a row that comes into view (the filter narrowed the pane) draws its own
        few cells through Rich, not all thirteen. What a drawn cell says of its place is the
        {"row", "column"} meta DataTable puts on every segment (for mouse clicks): a cell drawn
        in another place gets it as of this one, which is exactly what DataTable would draw
        (Textual 8.2.8, as pinned). The header row's cells are its column labels, kept the same
        way. (An entry holds its cell, so no other object takes its id while it is kept.)"""
        if column_index < 0:  # row labels (the board has none): as DataTable draws them
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        column_key = self._column_locations.get_key(column_index)
        row_key = self._header_row_key if row_index < 0 else self._row_locations.get_key(row_index)
        cell: object = None
        height = self.header_height
        if column_key is None or row_key is None:
            pass
        elif row_index < 0:  # the header: each column's label
            cell = self.columns[column_key].label if column_key in self.columns else None
        elif row_key in self._data:
            cell = self._data[row_key].get(column_key)
            height = self.rows[row_key].height if row_key in self.rows else 0
        look = (column_index, base_style, width, cursor, hover, self._show_hover_cursor, self._pseudo_class_state,
                row_index < self.fixed_rows or column_index < self.fixed_columns, (height, self._cell_style_key()))
        key: CellKey = (row_key, *look)
        drawn = self._drawn.get(key)
        if drawn is not None and drawn[0] is cell and drawn[1] == row_index and cell is not None:
            return drawn[2]  # the row's own cell where it was: most cells of most frames (a cursor move)
        by_cell: CellKey = (id(cell), *look)
        shared = self._drawn_cells.get(by_cell)
        if shared is not None and shared[0] is cell and cell is not None:
            lines = shared[2]
            if shared[1] != row_index:
                place = Style.from_meta({"row": row_index, "column": column_index})
                lines = [[Segment(text, style + place if style else style, control) for text, style, control in line]
                         for line in lines]
        else:
            text = (self._draw_text(cell, row_index, column_index, base_style, width, cursor, hover)
                    if isinstance(cell, Text) and row_index >= 0 and height == 1 else None)
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover) \
                if text is None else text
            self._drawn_cells[by_cell] = (cell, row_index, lines)
        self._drawn[key] = (cell, row_index, lines)
        return lines

    def _draw_text(self, cell: Text, row_index: int, column_index: int, base_style: Style, width: int,
                   cursor: bool, hover: bool) -> SegmentLines | None:
        """A body cell of one-line text as DataTable's `_render_cell` draws it (its styles worked
        out as it works them out), without Rich's layers around the text: `cell_lines`."""
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
        return text_cell_lines(self.app.console, options, cell, self.cell_padding, pre_style, post_style)

    def _cell_style_key(self) -> object:
        """What else styles a drawn cell: the component styles over it and the table's settings
        that change how it is drawn. Worked out again after each restyle, so that a restyle
        keeps the cells drawn before: focus leaving the table and coming back (the filter bar
        opening and closing) draws each cell once per look, not once per focus change."""
        if self._cell_styles is None:
            self._cell_styles = (tuple(self.get_component_rich_style(name) for name in CELL_COMPONENTS),
                                 self.show_cursor, self.cell_padding, self.cursor_foreground_priority,
                                 self.cursor_background_priority)
        return self._cell_styles

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_styles = None  # (the cells drawn stay: each is keyed by all that drew it)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cell_styles = None

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """The board gives every column a fixed width and every row one line, so new rows change
        only the table's height. DataTable would measure each new cell to widen columns that
        cannot widen: on a 10,000-case board that was a third of start-up. A table with an
        auto-width column or a multi-line row is measured as DataTable does."""
        if any(column.auto_width for column in self.columns.values()) or any(
                row.auto_height or row.height != 1 or row.label is not None
                for key in new_rows if (row := self.rows.get(key)) is not None):
            super()._update_dimensions(new_rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width + self._row_label_column_width,
                                 self._total_row_height + (self.header_height if self.show_header else 0))

    def resize_columns(self, widths: dict[str, tuple[int, str]]) -> None:
        """Give columns another width and header label (key -> (width, label)); unchanged ones are
        left alone, and nothing is laid out again when none changed."""
        changed = False
        for key, (width, label) in widths.items():
            column = self.columns[ColumnKey(key)]
            if column.width != width or column.label.plain != label:
                column.width, column.label = width, Text(label)
                changed = True
        if changed:
            self._clear_caches()
            self._update_dimensions([])
            self.refresh()

    def append_rows(self, rows: Iterable[tuple[str, Sequence[Text] | Cells]]) -> None:
        """Add many one-line rows at the bottom at once, (key, cells in column order, or the cells
        `remove_rows` gave back) each, as `add_row` adds them one at a time (Textual 8.2.8's
        DataTable, as pinned). Each `add_row` worked out the ordered columns again, set the
        cursor (and ran its watchers) and counted an update: thousands of rows coming back as Esc
        cleared a filter took most of a second."""
        columns = [column.key for column in self.ordered_columns]
        first = index = self.row_count
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in self._row_locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            if len(cells) > len(columns):
                raise ValueError("More values provided than there are columns.")
            self._row_locations[row_key] = index
            self._data[row_key] = cells if isinstance(cells, dict) else dict(zip_longest(columns, cells))
            self.rows[row_key] = Row(row_key, 1, None, False)
            self._new_rows.add(row_key)
            index += 1
        if index == first:
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if first == 0 and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # a cursor has a row to show on now, as `add_row` says
        self._update_count += 1
        self.check_idle()

    def remove_rows(self, row_keys: Iterable[str]) -> dict[str, Cells]:
        """Remove many rows at once; returns the cells of those removed, so that a row the filter
        takes off can come back as it was (`append_rows`). DataTable's `remove_row` renumbers
        every row after the one it removes: a filter that narrows 10,000 rows to a few removed
        them in quadratic time. Here the rows left are numbered once, in their order, and the
        order and line offsets DataTable would work out again row by row are handed to its
        caches (Textual 8.2.8's DataTable, as pinned). Keys are compared as text (a RowKey hashes
        in Python), and when most rows go the tables are rebuilt from the rows left instead of
        emptied a row at a time."""
        gone = set(row_keys)
        if not gone:
            return {}
        ordered = self.ordered_rows
        kept = [row for row in ordered if row.key.value not in gone]
        if len(kept) == len(ordered):
            return {}  # none of them is in the table
        if self._updated_cells:  # cells changed since the last idle: not to be measured once gone
            self._updated_cells = {cell for cell in self._updated_cells if cell.row_key.value not in gone}
        if self._new_rows:
            self._new_rows = {key for key in self._new_rows if key.value not in gone}
        data = self._data
        left = [row.key for row in ordered if row.key.value in gone]  # the table's own keys: none made
        removed = {key.value: data[key] for key in left if key.value is not None}
        if len(kept) < len(left):
            self.rows = {row.key: row for row in kept}
            self._data = {row.key: data[row.key] for row in kept}
        else:
            for key in left:
                del self.rows[key], data[key]
        self._place(kept)
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows left
        self.hover_coordinate = self.hover_coordinate
        self.refresh(layout=True)
        return removed

    def order_rows(self, keys: list[str]) -> None:
        """Put the rows in the order of `keys` (each row's key once), as DataTable's `sort` does
        with a key that orders them so, without `sort`'s reading of every row's cells through a
        Python key: when Esc brought thousands of rows back, sorting them was a fifth of the key."""
        ordered = self.ordered_rows
        if [row.key.value for row in ordered] == keys:
            return
        by_key = {row.key.value: row for row in ordered}
        self._place([by_key[key] for key in keys])
        self.refresh()

    def _place(self, ordered: list[Row]) -> None:
        """Number the rows once, in this order, and hand DataTable's caches the order and line
        offsets it would work out again row by row (Textual 8.2.8's DataTable, as pinned)."""
        self._row_locations = TwoWayDict({row.key: index for index, row in enumerate(ordered)})
        self._update_count += 1
        DataTable._clear_caches(self)  # every render cached so far is keyed by the count just left behind
        # (not the cells drawn: the rows that stay keep theirs, see `_render_cell`)
        self._ordered_row_cache[(len(ordered), self._update_count)] = ordered
        if all(row.height == 1 for row in ordered):
            self._offset_cache[self._update_count] = [(row.key, 0) for row in ordered]

    def set_row_cells(self, row_key: str, values: dict[str, Text]) -> None:
        self.set_rows_cells({row_key: values})

    def set_rows_cells(self, rows: dict[str, dict[str, Text]]) -> None:
        """Replace cells of some rows and repaint those rows alone.

        `update_cell` bumps the table's update count, and every render cache of the table is
        keyed by it: one countdown ticking over re-rendered every visible cell of the pane, most
        seconds. Here only these rows' cached renders are dropped (of their cells, only the ones
        that changed), in one pass over each cache for all of them (the caches of Textual 8.2.8's
        DataTable, which the project pins; the pilot tests check what is drawn)."""
        keys: set[RowKey] = set()
        cells: set[tuple[RowKey, ColumnKey]] = set()
        indices: set[int] = set()
        lines: set[int] = set()
        for row_key, values in rows.items():
            key = RowKey(row_key)
            data = self._data[key]
            for column, value in values.items():
                data[ColumnKey(column)] = value
                cells.add((key, ColumnKey(column)))
            index = self._row_locations.get(key)
            if index is not None:
                keys.add(key)
                indices.add(index)
                region = self._get_row_region(index)
                lines.update(range(region.y, region.bottom))
        if not keys:
            return
        _drop(self._cell_render_cache, lambda k: k[:2] in cells)
        _drop(self._row_render_cache, lambda k: k[0] in keys)
        _drop(self._row_renderable_cache, lambda k: k[1] in indices)
        _drop(self._line_cache, lambda k: k[0] in lines)
        for index in indices:
            self.refresh_row(index)


def _drop(cache: LRUCache[Any, Any], stale: Callable[[Any], bool]) -> None:
    for key in [k for k in list(cache.keys()) if stale(k)]:
        cache.discard(key)


class SeverityPane(Vertical):
    def __init__(self, severity: Severity):
        super().__init__(id=f"pane-{severity.value.lower()}", classes=f"pane {severity.value.lower()}")
        self.severity = severity

    def compose(self) -> ComposeResult:
        yield CaseTable(id=f"table-{self.severity.value.lower()}", cursor_type="row", zebra_stripes=True)

    def show_title(self, title: Text) -> None:
        """`title` in the pane's top border, that line alone repainted. Textual's `border_title`
        repaints the whole pane, its table's rows included, and each keystroke in the filter bar
        changes every pane's title: when the rows in view stayed, that was most of the frame.
        The title is kept as Textual's `border_title` keeps it (Textual 8.2.8, as pinned)."""
        self._border_title = self.render_str(Content.from_rich_text(title)).expand_tabs(4).split()[0]
        offset = self.content_offset  # (the region is given from the content's corner, inside the border)
        self.refresh(Region(-offset.x, -offset.y, self.region.width, 1))

    @property
    def table(self) -> CaseTable:
        return self.query_one(CaseTable)
