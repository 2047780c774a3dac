"""A severity pane and its case table: one row per case, keyed by case id."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from casewatch.core.models import Severity


def rows_in_view(table: DataTable[Text], margin: int = 2) -> tuple[int, int]:
    """Indices of the rows the table shows now (give or take `margin`)."""
    first = int(table.scroll_y)
    return max(0, first - margin), first + table.size.height + margin


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

    def keep_cursor_in_view(self) -> None:
        """After the pane changed height (zoom, un-zoom, resize): scroll so the cursor row shows,
        since the keys act on it (Textual scrolls only when the cursor moves)."""
        if self.row_count:
            self._scroll_cursor_into_view()

    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value

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

    def remove_rows(self, row_keys: Iterable[str]) -> None:
        """Remove many rows at once. DataTable's `remove_row` renumbers every row after the one it
        removes: a filter that narrows 10,000 rows to a few removed them in quadratic time. Here
        the rows left are numbered once, in their order (Textual 8.2.8's DataTable, as pinned)."""
        gone = {RowKey(key) for key in row_keys}
        if not gone:
            return
        kept = [row.key for row in self.ordered_rows if row.key not in gone]
        if self._updated_cells:  # cells changed since the last idle: not to be measured once gone
            self._updated_cells = {cell for cell in self._updated_cells if cell.row_key not in gone}
        for key in gone:
            self.rows.pop(key, None)
            self._data.pop(key, None)
            self._new_rows.discard(key)
        self._row_locations = TwoWayDict({key: index for index, key in enumerate(kept)})
        self._require_update_dimensions = True
        self._update_count += 1
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows left
        self.hover_coordinate = self.hover_coordinate
        self.refresh(layout=True)

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

    @property
    def table(self) -> CaseTable:
        return self.query_one(CaseTable)
