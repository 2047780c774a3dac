"""The live board: one pane per severity, rows sorted by the nearest deadline.

Rows are keyed by case id and updated by diff inside `batch_update()`: only cells whose text
changed are touched, rows are added and removed by key, and the cursor follows its case, never
its index. Countdowns are recomputed on the app's single tick as deadline minus now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import DataTable, Input
from textual.widgets.data_table import ColumnKey

from casewatch.bulk_load import bulk_allocation
from casewatch.core.board_sort import SORT_KEYS, Sort
from casewatch.core.calendars import to_us
from casewatch.core.case_filter import CaseFilter, Haystacks, Seen, parse_filter
from casewatch.core.clocks import CaseClocks, ClockState, countdown_changes_at
from casewatch.core.errors import CasewatchError
from casewatch.core.evidence import case_readiness
from casewatch.core.models import Case, Severity
from casewatch.core.saved_views import VIEW_KEYS, SavedView
from casewatch.core.text import visible
from casewatch.core.views import (
    NEED_OWNERS,
    NO_DEADLINE,
    View,
    case_flags,
    in_view,
    is_unowned,
    linked_title,
    needs_attention,
    next_match,
)
from casewatch.core.write_back import UNDELIVERED_MARK
from casewatch.core.zones import zone_label
from casewatch.tui.messages import CasesChanged, ClockTick, LeadChanged
from casewatch.tui.screens.case_actions import CASE_BINDINGS
from casewatch.tui.screens.quick_actions import QUICK_BINDINGS, QuickActions
from casewatch.tui.widgets import cells
from casewatch.tui.widgets.board_layout import CLOCKS, Layout, choose_layout, column_width, pane_heights
from casewatch.tui.widgets.case_table import CaseTable, Cells, SeverityPane, rows_in_view
from casewatch.tui.widgets.clock_bar import ClockBar
from casewatch.tui.widgets.filter_bar import FilterBar
from casewatch.tui.widgets.footer import CasewatchFooter
from casewatch.tui.widgets.handoff_banner import HandoffBanner
from casewatch.tui.widgets.status_line import VIEW_LABELS, Status, StatusLine

WORKING_RECHECK_US = 60_000_000  # a warning in working time is read again within a minute


@dataclass(slots=True)
class _Row:
    """What the board shows for one case, so a tick touches only cells whose text changed."""

    table: CaseTable
    severity: Severity
    clocks: CaseClocks
    suffixes: tuple[str, ...]  # the due time in the viewer's zone after each countdown (CLOCKS order)
    labels: list[tuple[str, ClockState] | None] = field(default_factory=lambda: [None] * len(CLOCKS))
    next_check_us: int = 0  # no countdown text can change before this instant
    dirty: bool = False  # labels moved on while the row was out of view; its cells wait for it to come into view

    @property
    def late(self) -> bool:
        return any(label is not None and label[1] is ClockState.BREACHED for label in self.labels)


@dataclass
class _Counts:
    """What a pane title counts. Rebuilt when rows change; a tick only moves `late`, row by row,
    so that a second's tick never rescans every row."""

    shown: int = 0
    total: int = 0
    late: int = 0
    unowned: int = 0


class BoardScreen(QuickActions):
    BINDINGS = [
        Binding("enter", "open_case", "Open", id="board.open", tooltip="Open the case screen"),
        Binding("slash", "filter", "Filter", id="board.filter",
                tooltip="Filter as you type: words and fields (sev:1,2 owner:none is:breached…); "
                        "Enter keeps it, Esc clears it, ↑ recalls earlier filters"),
        Binding("escape", "everything", "Everything", id="board.clear_filter", show=False,
                tooltip="Leave the view and clear the filter (an open filter bar closes): show every case again"),
        Binding("m", "view('mine')", "Mine", id="board.view_mine", show=False,
                tooltip="Only my cases: I own them, handle their comms or am their named route authority; the shift "
                        "lead's also include every case with no named route authority (again: all)"),
        Binding("o", "view('unowned')", "Need owners", id="board.view_unowned", show=False,
                tooltip="Only cases without an internal owner or without a comms owner (again: all)"),
        Binding("w", "view('waiting')", "Waiting", id="board.view_waiting", show=False,
                tooltip="Only cases waiting on the customer (again: all)"),
        Binding("b", "view('breached')", "Breached", id="board.view_breached", show=False,
                tooltip="Only cases with a breached clock; cases join as their clocks breach (again: all)"),
        Binding("exclamation_mark", "alerts", "Alerts", id="board.alerts", show=False,
                tooltip="The alerts since the board opened, newest first; Enter opens the case"),
        *CASE_BINDINGS,
        Binding("H", "handoff", "Handoff", id="board.handoff", show=False,
                tooltip="The shift handoff: prepare the packet for the next lead, or accept one sent to you"),
        Binding("M", "metrics", "Metrics", id="board.metrics", show=False,
                tooltip="Escalation metrics: today, this shift, 7 or 30 days, with weekly trends"),
        *(Binding(str(n), f"focus_pane('sev{n}')", f"SEV{n}", id=f"board.sev{n}", show=False,
                  tooltip=f"Jump to the SEV{n} pane") for n in range(1, len(Severity) + 1)),
        Binding("right_square_bracket", "attention(1)", "Next late/needs owner", id="board.next_attention", show=False,
                tooltip="Jump to the next case that is breached or needs an owner, across panes"),
        Binding("left_square_bracket", "attention(-1)", "Previous late/needs owner", id="board.previous_attention",
                show=False, tooltip="Jump to the previous case that is breached or needs an owner, across panes"),
        *QUICK_BINDINGS,
        Binding("S", "sort", "Sort", id="board.sort", show=False,
                tooltip="Sort the focused pane by the next order: nearest deadline, escalated first, "
                        "last changed, customer A–Z"),
        Binding("z", "zoom", "Zoom", id="board.zoom", show=False,
                tooltip="Zoom the focused pane to the whole board (again: every pane)"),
        *(Binding(f"f{n}", f"saved_view({n})", f"View {n}", id=f"board.view_{n}", show=False,
                  tooltip=f"Saved view {n} of the config file's [views] (again: all)")
          for n in range(1, VIEW_KEYS + 1)),
    ]

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """Textual's screen repaints itself whole at every focus change, though the widgets the focus
    leaves and enters are restyled (and redrawn) on their own: at 200x50 that whole frame, written
    to the terminal, was most of what `/` (the focus into the filter bar) and Esc cost."""

    def __init__(self) -> None:
        super().__init__()
        self.board_layout: Layout | None = None  # chosen on mount, for the screen's width
        self._rows: dict[str, _Row] = {}
        # Rows the filter or a view took off the board: (case version, row, its cells by column), so
        # that one coming back (Esc, a shorter filter) is not made again. Anything that would redraw
        # a shown row's static cells drops its parked one (`_unpark`); a rebuild drops them all.
        self._parked: dict[str, tuple[int, _Row, Cells]] = {}
        # Per pane, the case its cursor was on when the filter or view took it off, and the case
        # the cursor was left on then: while the lead has not moved the cursor since, the case
        # has it back when it shows again (a typo matched nothing, then Esc or Backspace).
        self._homes: dict[Severity, tuple[str, str | None]] = {}
        self._order: dict[Severity, list[str]] = {s: [] for s in Severity}
        self._titles: dict[Severity, str] = {}
        self._counts: dict[Severity, _Counts] = {s: _Counts() for s in Severity}
        self._panes: dict[Severity, SeverityPane] = {}
        self._last_table: CaseTable | None = None
        self.filter_text = ""
        self._filter = CaseFilter()  # `filter_text` parsed
        self._haystacks = Haystacks()  # what the filter's words are looked for in, per case version
        self._shown_for: tuple[View, str] | None = None  # the view and filter text the rows were chosen by
        self.view = View.ALL
        self.saved: SavedView | None = None  # the saved view in force (its filter is `filter_text`)
        self._sorts: dict[Severity, Sort] = dict.fromkeys(Severity, Sort.DEADLINE)
        self.zoomed: Severity | None = None  # the pane `z` zoomed to the whole board
        self._unowned = 0  # open cases without an internal or a comms owner, on the whole floor
        self._flagged_under: str | None = None  # the shift lead the ⚑ counts were made under
        self._reveal: str | None = None  # a case just escalated here, whose row is still to come

    def compose(self) -> ComposeResult:
        # The filter bar first (it is drawn over the panes' last line, on a layer of its own: app.tcss):
        # Textual numbers the paint order of a screen's widgets from its last, so a widget shown or
        # hidden before them all renumbers none, and opening the bar repaints no pane it does not cover.
        yield FilterBar(id="filter-bar")
        yield ClockBar(id="clockbar")
        yield HandoffBanner(id="handoff-banner")
        yield StatusLine(id="status-line")
        with Vertical(id="panes"):
            for severity in Severity:
                yield SeverityPane(severity)
        yield CasewatchFooter()

    def on_mount(self) -> None:
        self._panes = {pane.severity: pane for pane in self.query(SeverityPane)}
        self._name_view_bindings()
        for pane in self._panes.values():
            self.watch(pane.table, "scroll_y", self._sync_when_scrolled(pane.table), init=False)
        self.watch(self.app, "connection", lambda _status: self._show_status(), init=False)
        self.watch(self.app, "quarantined", lambda _count: self._show_status(), init=False)
        self._flagged_under = self.app.state.shift_lead
        self._build(choose_layout(self.size.width or self.app.size.width), initial=True)
        now = self.app.now()
        self._show_header(now)
        self._tick(now)
        first = next((p.table for p in self._panes.values() if p.table.row_count), None)
        (first or self._panes[Severity.SEV1].table).focus()

    def table_for(self, severity: Severity) -> CaseTable:
        return self._panes[severity].table

    # ------------------------------------------------------------------ rows

    def _static_cells(self, case: Case) -> dict[str, Text]:
        colours = self.app.colours
        undelivered = case.id in self.app.undelivered  # a customer update that did not reach its ticket
        flags = len(case_flags(case, self.app.state.policy, self.app.state.shift_lead)) + undelivered
        return {
            "id": self.id_cell(case.id),
            "flags": cells.flag_cell(flags, colours),
            "unowned": cells.unowned_cell(is_unowned(case), colours),
            "title": self._title_cell(case),
            "customer": cells.plain(case.customer),
            "status": cells.status_cell(case.status),
            "route": cells.tag(case.route),
            "owner": cells.person_cell(case.internal_owner, colours),
            "comms": cells.person_cell(case.comms_owner, colours),
            "evidence": cells.readiness_cell(case_readiness(case, self.app.state.policy.evidence),
                                             case.returned is not None, colours),
        }

    def _title_cell(self, case: Case) -> Text:
        return cells.title_cell(self._title(case), self.app.marks.is_unread(case), self.app.colours)

    def redraw_titles(self, case_ids: Iterable[str]) -> None:
        """The title cells of these cases (their unread marks changed)."""
        case_ids = list(case_ids)
        self._unpark(case_ids)
        with self.app.batch_update():
            for case_id in case_ids:
                row, case = self._rows.get(case_id), self.app.state.cases.get(case_id)
                if row is not None and case is not None:
                    self._set_cells(row, case_id, {"title": self._title_cell(case)})

    def _title(self, case: Case) -> str:
        """The title cell: the ticket key first on a linked case, and the customer before the title
        once the customer's column is gone (two cases with the same title start differ by it)."""
        wide = "customer" in self._layout.keys
        shown = linked_title(case.source, case.title if wide else f"{case.customer} · {case.title}")
        if case.id not in self.app.undelivered:  # an update or note did not reach its ticket:
            return shown
        return f"{UNDELIVERED_MARK} · {shown}" if wide else f"{UNDELIVERED_MARK[0]} {shown}"  # key and title in view

    @property
    def _layout(self) -> Layout:
        if self.board_layout is None:
            raise RuntimeError("the board chooses its layout when it is mounted")
        return self.board_layout

    def _new_row(self, case: Case) -> _Row:
        clocks = self.app.state.clocks[case.id]
        zone = self.app.zone if self._layout.show_due else None  # every due time in the viewer's zone
        now = self.app.now()
        suffixes = tuple(cells.due_suffix(plan.due, zone, now) for plan in clocks)
        return _Row(self.table_for(case.severity), case.severity, clocks, suffixes)

    def _clock_cells(self, row: _Row, now_us: int, changed_only: bool) -> dict[str, Text]:
        """The countdown cells whose text differs from what the row shows (all when not `changed_only`)."""
        values = {}
        colours = self.app.colours
        next_check = NO_DEADLINE
        for index, (key, plan) in enumerate(zip(CLOCKS, row.clocks, strict=True)):
            state, remaining = plan.state_at(now_us)
            if plan.active and remaining is not None and plan.due_us is not None:
                next_check = min(next_check, countdown_changes_at(plan.due_us, remaining),
                                 *(edge for edge in (plan.warn_us, plan.due_us) if edge is not None and edge > now_us))
            working = plan.working_left_s(now_us) if state is ClockState.WARNING else None
            if working is not None:  # working time moves by the minute while the wall countdown may show hours
                next_check = min(next_check, now_us + WORKING_RECHECK_US)
            label = cells.countdown_label(state, remaining, row.suffixes[index], compact=True, working_s=working)
            if changed_only and row.labels[index] == (label, state):
                continue
            row.labels[index] = (label, state)
            values[key] = cells.clock_cell(label, state, colours)
        row.next_check_us = next_check
        return values

    def _sort_key(self, severity: Severity) -> Callable[[str], tuple[object, ...]]:
        """The order of a pane's rows: its `S` sort (nearest deadline unless changed)."""
        key, state = SORT_KEYS[self._sorts[severity]], self.app.state
        return lambda case_id: key(state.cases[case_id], state.clocks[case_id])

    def _build(self, layout: Layout, *, initial: bool = False) -> None:
        """(Re)create columns for a layout and fill every pane: on mount, on a layout or filter change."""
        self.board_layout = layout
        self._rows.clear()
        self._parked.clear()
        state = self.app.state
        now = self.app.now()
        now_us = to_us(now)
        zoned = {key: f"{column.label} ({zone_label(self.app.zone, now)})"
                 for column in layout.columns if layout.show_due and (key := column.key) in CLOCKS}
        by_severity = self._shown(now)
        self._shown_for = (self.view, self._filter.text)
        with self.app.batch_update(), bulk_allocation(freeze=initial):
            for severity, pane in self._panes.items():
                table = pane.table
                keep = table.selected_id()
                table.clear(columns=True)
                for column in layout.columns:
                    table.add_column(zoned.get(column.key, column.label), key=column.key,
                                     width=column_width(column, layout))
                order = sorted(by_severity[severity], key=self._sort_key(severity))
                table.append_rows([(case_id, self._row_values(state.cases[case_id], now_us)) for case_id in order])
                self._order[severity] = order
                self._fit_clocks(severity)
                self._restore_cursor(table, keep)
            self._recount()
            self._size_panes()

    def _fit_clocks(self, severity: Severity) -> None:
        """A clock column where no case of the pane has the clock running (each one ✓ met, ■
        stopped or paused) keeps the width of a countdown alone, without room for a due time: the
        title gets the columns it frees (at 200 columns a 21-column clock showed a lone ✓)."""
        layout = self._layout
        if not layout.show_due:
            return  # the clocks are already as narrow as a countdown
        running: set[str] = set()
        for case_id in self._order[severity]:
            running.update(key for key, plan in zip(CLOCKS, self._rows[case_id].clocks, strict=True) if plan.active)
            if len(running) == len(CLOCKS):
                break
        zone = zone_label(self.app.zone, self.app.now())
        widths: dict[str, tuple[int, str]] = {}
        freed = 0
        for column in layout.columns:
            if column.key in CLOCKS:
                full = column_width(column, layout)
                if column.key in running:
                    widths[column.key] = (full, f"{column.label} ({zone})")
                else:
                    widths[column.key] = (column.width, column.label)
                    freed += full - column.width
        title = next(column for column in layout.columns if column.key == "title")
        widths["title"] = (column_width(title, layout) + freed, title.label)
        self._panes[severity].table.resize_columns(widths)

    def _add_row(self, case: Case, now_us: int) -> None:
        values = self._row_values(case, now_us)  # (puts the row in `_rows`)
        self._rows[case.id].table.append_rows([(case.id, values)])

    def _row_values(self, case: Case, now_us: int) -> list[Text] | Cells:
        """A row for the case, in `_rows`, and its cells (in column order, or by column): the
        row and cells it had when the filter took it off the board if the case has not changed
        since (its countdowns as of `now_us`), else made afresh."""
        parked = self._parked.pop(case.id, None)
        if parked is not None and parked[0] == case.version:
            _, row, kept = parked
            if row.dirty or row.next_check_us <= now_us:  # its countdowns moved on while it was away
                row.dirty = False
                kept.update((ColumnKey(key), value)
                            for key, value in self._clock_cells(row, now_us, changed_only=False).items())
            self._rows[case.id] = row
            return kept
        row = self._new_row(case)
        cells = self._static_cells(case) | self._clock_cells(row, now_us, changed_only=False)
        self._rows[case.id] = row
        return [cells[key] for key in self._layout.keys]

    def _unpark(self, case_ids: Iterable[str]) -> None:
        """These cases' rows are to be made afresh should they come back: their cells changed."""
        for case_id in case_ids:
            self._parked.pop(case_id, None)

    def _set_cells(self, row: _Row, case_id: str, values: dict[str, Text]) -> None:
        """Update only the cells whose text or style differs from what the table holds."""
        changed = self._changed_cells(row, case_id, values)
        if changed:
            row.table.set_row_cells(case_id, changed)

    def _changed_cells(self, row: _Row, case_id: str, values: dict[str, Text]) -> dict[str, Text]:
        """The cells that would draw differently: a style may be the text's own or one of its spans."""
        shown = self._layout.keys
        changed = {}
        for key, value in values.items():
            if key not in shown:
                continue
            current = row.table.get_cell(case_id, key)
            if current.plain != value.plain or current.style != value.style or current.spans != value.spans:
                changed[key] = value
        return changed

    def _cursor_case(self, severity: Severity, table: CaseTable) -> str | None:
        """The case the pane's cursor belongs on: the one a filter took off, while the cursor has
        stayed where that left it, else the one under it."""
        under = table.selected_id()
        home = self._homes.pop(severity, None)
        return home[0] if home is not None and home[1] == under else under

    def _restore_cursor(self, table: CaseTable, case_id: str | None) -> None:
        if case_id is not None and case_id in table.rows:
            table.move_cursor(row=table.get_row_index(case_id), animate=False)

    # -------------------------------------------------------------- updates

    @on(CasesChanged)
    def apply_changes(self, message: CasesChanged) -> None:
        state = self.app.state
        now = self.app.now()
        now_us = to_us(now)
        touched: set[Severity] = set()
        cursors = {s: p.table.selected_id() for s, p in self._panes.items()}
        current = self._current_table()
        selected = current.selected_id() if current is not None else None
        changed = set(state.cases) if message.everything else set(message.changed)
        if message.everything:
            self._parked.clear()
        else:
            self._unpark(changed | set(message.removed))
        # Rows leave their pane when the case closed, moved to another severity, or left the view or filter.
        moved = {i for i in changed if i in self._rows and (
            i not in state.cases or state.cases[i].severity != self._rows[i].severity
            or not self._shows(state.cases[i], now))}
        with self.app.batch_update():
            for case_id in set(message.removed) | moved:
                row = self._rows.pop(case_id, None)
                if row is not None:
                    row.table.remove_row(case_id)
                    self._order[row.severity].remove(case_id)
                    touched.add(row.severity)
            for case_id in changed:
                case = state.cases.get(case_id)
                if case is None or not self._shows(case, now):
                    continue
                if case_id in self._rows:
                    row = self._new_row(case)  # the plan may have changed: new due times
                    self._rows[case_id] = row
                    self._set_cells(row, case_id, self._static_cells(case)
                                    | self._clock_cells(row, now_us, changed_only=False))
                else:
                    self._add_row(case, now_us)
                    self._order[case.severity].append(case_id)
                touched.add(case.severity)
            for severity in touched:
                self._fit_clocks(severity)
                self._resort(severity, cursors[severity])
            if current is not None and selected is not None:
                self._follow(selected, current)
            revealed = self._reveal
            if revealed is not None and revealed in changed:
                self._reveal = None
                self.reveal_case(revealed)
            self._recount()
            self._size_panes()

    def reveal_case(self, case_id: str) -> None:
        """After `N`: the cursor goes to the new case (now, or when its row arrives)."""
        row = self._rows.get(case_id)
        if row is None:
            self._reveal = case_id if case_id not in self.app.state.cases else None
            return
        self._select(row.table)
        self._restore_cursor(row.table, case_id)

    def _follow(self, case_id: str, was_in: CaseTable) -> None:
        """The cursor stays on its case when the case moves to another pane. When it left the board
        the cursor takes the nearest row (same place, same pane first) and a notice says so."""
        row = self._rows.get(case_id)
        if row is not None:
            if row.table is not was_in:
                self._select(row.table)
            self._restore_cursor(row.table, case_id)
            return
        index = was_in.cursor_row
        panes = [was_in, *(p.table for p in self._panes.values() if p.table is not was_in)]
        target = next((table for table in panes if table.row_count), None)
        if target is not None:
            if target is not was_in:
                self._select(target)
                index = 0
            target.move_cursor(row=min(index, target.row_count - 1), animate=False)
        case = self.app.state.cases.get(case_id)
        if case is None:
            why = "no longer open"
        elif not self._matches(case, self.app.now()):
            why = "no longer matches the filter"
        else:
            why = f"no longer in the view: {VIEW_LABELS[self.view]}"
        self.app.notify(f"{case_id} left the board ({why}); the cursor moved to the nearest case",
                        title="Selection moved", severity="warning")

    def _select(self, table: CaseTable) -> None:
        """Make `table` the pane the keys act on, now or when this screen is back in front (or the
        filter bar closes: the cursor never takes the keys from what is being typed)."""
        self._last_table = table
        self._zoom_to(table)
        if not isinstance(self.focused, Input):
            table.focus()

    def _current_table(self) -> CaseTable | None:
        """The pane the action keys act on: the focused one, or the last one focused."""
        return self.focused if isinstance(self.focused, CaseTable) else self._last_table

    def _resort(self, severity: Severity, keep: str | None) -> None:
        table = self.table_for(severity)
        order = sorted(self._order[severity], key=self._sort_key(severity))
        table.order_rows(order)
        self._order[severity] = order
        self._restore_cursor(table, keep)

    @on(ClockTick)
    def _on_tick(self, message: ClockTick) -> None:
        self._show_header(message.now)
        if self.view is View.BREACHED and message.turned:  # cases join (or leave) as their clocks turn
            self.apply_changes(CasesChanged(message.turned, frozenset()))
        self._tick(message.now, message.turned)
        self._show_status()

    @on(LeadChanged)
    def _lead_changed(self) -> None:
        lead = self.app.state.shift_lead
        if lead != self._flagged_under:  # the shift lead fills the `lead` role: the ⚑ counts move
            self._flagged_under = lead
            self._rebuild()
        self._show_header(self.app.now())

    def _show_header(self, now: datetime) -> None:
        self.query_one(ClockBar).show(now)
        self.query_one(HandoffBanner).show(self.app.state.lead, now, self.app.actor)

    def _tick(self, now: datetime, turned: frozenset[str] | None = None) -> None:
        """Countdowns as deadline minus now, in the rows on screen: only cells whose text changed
        are updated. A row out of view keeps its last text and catches up when it comes into view
        (`_sync_visible`); on a floor of thousands that is most rows, most seconds. Its clock states
        still count in the pane titles: the rows in `turned` (the alert watch's cases whose states
        moved since its last tick) are read wherever they are. `turned=None` when the board may
        have missed ticks (it was hidden): every row whose text may have changed is read."""
        now_us = to_us(now)
        late_moved = False
        updates: dict[CaseTable, dict[str, dict[str, Text]]] = {}  # one cache sweep per pane
        with self.app.batch_update():
            shown: set[str] = set()
            for pane in self._panes.values():
                for case_id in self._ids_in_view(pane.table):
                    shown.add(case_id)
                    late_moved |= self._catch_up(case_id, now_us, updates)
            for case_id in self._rows if turned is None else turned:
                row = self._rows.get(case_id)
                if case_id not in shown and row is not None and row.next_check_us <= now_us:
                    was_late = row.late
                    if self._clock_cells(row, now_us, changed_only=True):
                        row.dirty = True
                    late_moved |= self._count_late(row, was_late)
            for table, rows in updates.items():
                table.set_rows_cells(rows)
            if late_moved:
                self._show_titles()

    def _ids_in_view(self, table: CaseTable) -> list[str]:
        first, last = rows_in_view(table)
        return [case_id for row in table.ordered_rows[first:last] if (case_id := row.key.value) is not None]

    def _catch_up(self, case_id: str, now_us: int, updates: dict[CaseTable, dict[str, dict[str, Text]]]) -> bool:
        """A row in view: its countdown cells as of `now_us`, where they differ from what the table
        holds, into `updates`. True when the row's late state moved."""
        row = self._rows.get(case_id)
        if row is None or not (row.dirty or row.next_check_us <= now_us):
            return False
        was_late = row.late
        values = self._clock_cells(row, now_us, changed_only=not row.dirty)  # dirty: labels the table lacks
        row.dirty = False
        if values and (changed := self._changed_cells(row, case_id, values)):
            updates.setdefault(row.table, {})[case_id] = changed
        return self._count_late(row, was_late)

    def _count_late(self, row: _Row, was_late: bool) -> bool:
        if row.late == was_late:
            return False
        self._counts[row.severity].late += 1 if row.late else -1
        return True

    def _sync_when_scrolled(self, table: CaseTable) -> Callable[[float], None]:
        def watcher(_scroll_y: float) -> None:
            self._sync_visible(table)
        return watcher

    @on(CaseTable.Resized)
    def _table_resized(self, message: CaseTable.Resized) -> None:
        """Read as the table is resized, at its new size: read after the refresh that followed
        the panes' sizing, as it was, the rows could be read before the layout that resized
        them (a refresh came first) and show their countdowns a tick late."""
        self._sync_visible(message.table)

    def _sync_visible(self, table: CaseTable) -> None:
        """Rows that came into view (a scroll, a resize) show their countdowns as of now at once."""
        now_us = to_us(self.app.now())
        updates: dict[CaseTable, dict[str, dict[str, Text]]] = {}
        late_moved = False
        with self.app.batch_update():
            for case_id in self._ids_in_view(table):
                late_moved |= self._catch_up(case_id, now_us, updates)
            for changed_table, rows in updates.items():
                changed_table.set_rows_cells(rows)
            if late_moved:
                self._show_titles()

    def _recount(self) -> None:
        """Count what the pane titles say from the rows, after rows were added, changed or removed."""
        state = self.app.state
        self._counts = {s: _Counts(shown=len(self._order[s])) for s in Severity}
        for case_id, row in self._rows.items():
            counts = self._counts[row.severity]
            counts.late += row.late
            counts.unowned += is_unowned(state.cases[case_id])
        self._unowned = 0
        for case in state.cases.values():
            self._counts[case.severity].total += 1
            self._unowned += is_unowned(case)
        self._show_titles()
        self._show_status()

    def _show_status(self) -> None:
        app = self.app
        status = Status(view=self.view, filter_text=self.filter_text, saved=self.saved.name if self.saved else None,
                        shown=len(self._rows),
                        open=len(app.state.cases), late=app.alert_watch.late_count(), unowned=self._unowned,
                        refreshed_at=app.refreshed_at, connection=app.connection, quarantined=app.quarantined,
                        sources=app.source_labels(), marked=len(self.marked))
        self.query_one(StatusLine).show(status, app.zone, app.colours)

    def _show_titles(self) -> None:
        policy = self.app.state.policy
        for severity, pane in self._panes.items():
            counts = self._counts[severity]
            narrowed = bool(self.filter_text) or self.view is not View.ALL
            shown = f"{counts.shown} of {counts.total}" if narrowed else str(counts.shown)
            title = f"{severity.value} {policy[severity].label} · {shown} case{'s' if counts.total != 1 else ''}"
            if self.filter_text:
                title += f" matching “{self.filter_text}”"
            if self._sorts[severity] is not Sort.DEADLINE:
                title += f" · ⇅ {self._sorts[severity].label}"
            if self.zoomed is severity:
                title += f" · zoomed ({self._key_of('board.zoom')}: all panes)"
            if counts.late:
                title += f" · {counts.late} late"
            if counts.unowned:
                title += f" · ⚑ {counts.unowned} {NEED_OWNERS}"
            if self._titles.get(severity) != title:
                pane.show_title(Text(visible(title)))
                self._titles[severity] = title

    def _key_of(self, binding_id: str) -> str:
        """The key a screen's binding has now (a `[keymap]` may have moved it), as help and the footer
        show it. Read from the screen's own bindings, not the active ones: with the focus in the
        filter bar its Input takes the printable keys, and `z` was not among those active."""
        bindings = self._bindings.copy()
        bindings.apply_keymap(self.app._keymap)
        binding = next((binding for _key, binding in bindings if binding.id == binding_id), None)
        return self.app.get_key_display(binding) if binding is not None else binding_id

    def _size_panes(self) -> None:
        """Each pane's height for the rows it has, in the room the panes have."""
        available = self._panes_room()
        needs = [self._panes[s].table.row_count + 3 for s in Severity]  # border (2) and header (1)
        for severity, height in zip(Severity, pane_heights(available, needs), strict=False):
            pane = self._panes[severity]
            pane.display = self.zoomed in (None, severity)
            pane.styles.height = available if self.zoomed is severity else height

    def _panes_room(self) -> int:
        """The panes' room in the layout about to be made: the screen less every other part shown,
        less the filter bar's error lines. The bar's own line lies over the last pane's bottom
        border (its layer, app.tcss), so opening and closing it resizes no pane: on 10,000 cases
        each resize rebuilt every table's row bookkeeping. Read from the bar and not from the last
        layout, which lags one change behind it: sized from that, the error line pushed the last
        pane's border off the screen, or left a blank line when it went."""
        if not self.size.height:  # not laid out yet: on_resize sizes them again
            return self.app.size.height - 2
        bar, panes = self.query_one(FilterBar), self.query_one("#panes")
        others = sum(child.outer_size.height for child in self.children
                     if child.display and child is not bar and child is not panes)
        return self.size.height - others - (bar.lines - 1 if bar.display else 0)

    def on_resize(self) -> None:
        self._place_toasts()  # the bar's error wraps to the new width
        layout = choose_layout(self.size.width)
        if self.board_layout is not None and layout != self.board_layout:
            self._build(layout)
        self.call_after_refresh(self._size_panes)

    # -------------------------------------------------------------- selection

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, CaseTable):
            self._last_table = event.widget
            self._zoom_to(event.widget)

    def selected_case(self) -> Case | None:
        table = self._current_table()
        case_id = table.selected_id() if table is not None else None
        return self.app.state.cases.get(case_id) if case_id else None

    # ------------------------------------------------------ filter as you type

    async def action_filter(self) -> None:
        """`/`: the filter bar, holding the filter in force; the board narrows as it is typed.

        Everything the key changes is drawn in one frame: the bar (over the last pane's bottom
        border: no pane moves), the focus in it (the pane it left restyled) and the footer's
        keys for the bar. Left to Textual these were frames of their own, each laid out again:
        the focus moved a call later and the footer was rebuilt after the refresh that followed it."""
        bar = self.query_one(FilterBar)
        with self.app.batch_update():
            bar.open(self.filter_text, self.app.filter_history.filters)
            self._place_toasts()
            footer = self.query_one(CasewatchFooter)
            with footer._context():  # as the footer's own handler would (its keys bind to it)
                await footer.recompose()  # the keys of the focus now in the bar

    @on(FilterBar.Typed)
    def _filter_typed(self, message: FilterBar.Typed) -> None:
        self.set_filter(message.text, saved=self.saved if self.saved and self.saved.query == message.text else None)

    @on(FilterBar.Kept)
    def _filter_kept(self, message: FilterBar.Kept) -> None:
        """Enter keeps a filter that reads (and remembers it); one that does not keeps the bar open on its error."""
        if not self.set_filter(message.text, saved=self.saved):
            return
        if self.filter_text:
            self.app.filter_history.keep(self.filter_text)
        self._close_filter_bar()

    @on(FilterBar.Cleared)
    def _filter_cleared(self) -> None:
        self.set_filter("")
        self._close_filter_bar()

    @on(FilterBar.Left)
    def _filter_left(self) -> None:
        """Tab in the bar: the keys go back to the pane they came from, the bar stays open."""
        self._back_to_table()

    def _back_to_table(self) -> None:
        (self._last_table or self._panes[Severity.SEV1].table).focus()

    def _close_filter_bar(self) -> None:
        bar = self.query_one(FilterBar)
        with self.app.batch_update():
            had_error = bar.lines > 1
            bar.close()
            self._place_toasts()
            self._back_to_table()
            if had_error:  # the panes take back the error's lines (the bar's own line was never theirs)
                self._size_panes()

    def _show_filter_error(self, error: str | None) -> None:
        """The bar's error line comes and goes with the query; the panes give it their line."""
        bar = self.query_one(FilterBar)
        before = bar.lines
        bar.show_error(error)
        if bar.display and bar.lines != before:
            self._size_panes()
            self._place_toasts()

    def _place_toasts(self) -> None:
        """While the filter bar is open, the toasts sit above it and its error lines, not over them
        for their 10 s: Textual's rack docks at the bottom right, where the bar and its error are,
        one line up for the footer (its own margin, kept when the bar is closed). Only the rack is
        restyled."""
        bar = self.query_one(FilterBar)
        lines = bar.lines if bar.display else 0
        for rack in self.query_children("ToastRack"):  # Textual's own (none when notifications are off)
            rack.styles.margin = (0, 0, 1 + lines, 0)

    def action_everything(self) -> None:
        """Esc on the board: every case again. A filter bar left open (Tab gave the keys to the
        board) closes too, as Esc in the bar closes it: it would go on showing a filter no longer in force."""
        if self.filter_text or self.view is not View.ALL:
            self.filter_text = ""
            self.saved = None
            self.view = View.ALL
            self._narrow()
        if self.query_one(FilterBar).display:
            self._close_filter_bar()

    def set_filter(self, query: str, saved: SavedView | None = None) -> bool:
        """Narrow the board to `query`: False (and the bar says why) when it does not read, and the
        board keeps the last filter that did. The rows are rebuilt only when what shows changed."""
        query = query.strip()
        try:
            parsed = parse_filter(query)
        except CasewatchError as exc:
            self._show_filter_error(str(exc))
            return False
        self._show_filter_error(None)
        changed = query != self.filter_text or saved != self.saved
        before = self._filter
        self.filter_text, self._filter, self.saved = query, parsed, saved
        if changed:
            self._narrow(before)
        return True

    def _narrow(self, before: CaseFilter | None = None) -> None:
        """After the filter changed, as it is typed: the rows that no longer match leave (in one
        batch per pane), those that match now join, and only the panes that changed are sorted
        again; the cursor stays on its case while it shows. A filter that only adds to `before`
        (the rows shown were chosen by it, over every case) looks at the rows shown alone."""
        now = self.app.now()
        now_us = to_us(now)
        state = self.app.state
        within = None
        if (before is not None and self.view is View.ALL and self._shown_for == (View.ALL, before.text)
                and self._filter.narrows(before)):
            within = list(self._rows)
        shown = self._shown(now, within)
        self._shown_for = (self.view, self._filter.text)
        if all(len(shown[s]) == len(self._order[s]) and set(shown[s]) == set(self._order[s]) for s in Severity):
            self._show_titles()  # the same cases (`sev` after `se`): only the words in the titles change
            self._show_status()
            return
        with self.app.batch_update():
            for severity, pane in self._panes.items():
                wanted = set(shown[severity])
                order = self._order[severity]
                stays = [case_id for case_id in order if case_id in wanted]
                new = [case_id for case_id in shown[severity] if case_id not in self._rows]
                if len(stays) == len(order) and not new:
                    continue
                gone = [case_id for case_id in order if case_id not in wanted]
                keep = self._cursor_case(severity, pane.table)
                removed = pane.table.remove_rows(gone)
                many = len(gone) > len(stays)  # most rows left: count the few that stay instead
                for case_id in gone:
                    row = self._rows.pop(case_id)
                    case = state.cases.get(case_id)
                    if case is not None and case_id in removed:
                        self._parked[case_id] = (case.version, row, removed[case_id])
                    if not many:
                        self._count_row(case_id, row, -1)
                if many:
                    self._count_pane(severity, stays)
                pane.table.append_rows([(case_id, self._row_values(state.cases[case_id], now_us)) for case_id in new])
                for case_id in new:
                    self._count_row(case_id, self._rows[case_id], 1)
                self._order[severity] = stays + new
                self._fit_clocks(severity)
                if new:
                    self._resort(severity, keep)
                else:  # rows only left: those that stay are still in order
                    self._restore_cursor(pane.table, keep)
                if keep is not None and keep not in wanted:
                    self._homes[severity] = (keep, pane.table.selected_id())
            self._show_titles()
            self._show_status()
            self._size_panes()
        # the rows in view as of now (those that came into view among them); the rest keep to the
        # ticks, as always: reading every row's clocks again cost a tenth of the keystroke
        self._tick(now, frozenset())
        current = self._current_table()
        if current is None or not current.row_count:
            first = next((pane.table for pane in self._panes.values() if pane.table.row_count), None)
            if first is not None:
                self._select(first)

    def _count_row(self, case_id: str, row: _Row, step: int) -> None:
        """A row joins (1) or leaves (-1) what its pane's title counts, as the filter changes:
        a keystroke that moves a few rows does not count the other thousands again."""
        counts = self._counts[row.severity]
        counts.shown += step
        counts.late += step * row.late
        counts.unowned += step * is_unowned(self.app.state.cases[case_id])

    def _count_pane(self, severity: Severity, case_ids: list[str]) -> None:
        """What a pane's title counts of its rows, counted afresh from `case_ids` (its whole floor's total stays)."""
        counts, cases = self._counts[severity], self.app.state.cases
        counts.shown = len(case_ids)
        counts.late = sum(self._rows[case_id].late for case_id in case_ids)
        counts.unowned = sum(is_unowned(cases[case_id]) for case_id in case_ids)

    def _shown(self, now: datetime, within: Iterable[str] | None = None) -> dict[Severity, list[str]]:
        """The cases the view and the filter in force show, by pane: one pass, one `Seen`. Over
        every case, or over `within` when only those can show (see `_narrow`)."""
        state, actor = self.app.state, self.app.actor
        lead = state.shift_lead
        if self._filter.text != self.filter_text:
            self._filter = parse_filter(self.filter_text)
        chosen, view = self._filter, self.view
        seen = Seen(actor, now, state.clocks, self.app.marks.unread, haystacks=self._haystacks, shift_lead=lead)
        by_severity: dict[Severity, list[str]] = {s: [] for s in Severity}
        cases, clocks = state.cases, state.clocks
        candidates: Iterable[tuple[str, Case]] = cases.items() if within is None else (
            (case_id, cases[case_id]) for case_id in within if case_id in cases)  # (closed: its change is on the way)
        if chosen:
            candidates = chosen.select(candidates, seen)
        every = view is View.ALL
        for case_id, case in candidates:
            if every or in_view(view, case, clocks[case_id], actor, now, lead):
                by_severity[case.severity].append(case_id)
        return by_severity

    # -------------------------------------------------------------- saved views

    @property
    def saved_views(self) -> tuple[SavedView, ...]:
        return self.app.saved_views

    def _name_view_bindings(self) -> None:
        """F1 to F9 say which saved view they show (help, palette); keys beyond the views do nothing."""
        named = {f"board.view_{view.number}": view for view in self.saved_views}
        for key, bindings in self._bindings.key_to_bindings.items():
            self._bindings.key_to_bindings[key] = [
                replace(binding, description=f"View: {view.name}",
                        tooltip=f"View: {view.name} — {view.query} (again: all)")
                if (view := named.get(binding.id or "")) is not None else binding
                for binding in bindings]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "saved_view":
            return isinstance(number := parameters[0], int) and number <= len(self.saved_views)
        return super().check_action(action, parameters)

    def action_saved_view(self, number: int) -> None:
        if number <= len(self.saved_views):
            self.show_saved_view(self.saved_views[number - 1])

    def show_saved_view(self, view: SavedView) -> None:
        """The view's filter over every case (the one-key view is left); the same view again: all."""
        self.view = View.ALL
        query, saved = ("", None) if self.saved == view else (view.query, view)
        self.set_filter(query, saved=saved)
        self.query_one(FilterBar).hold(query)  # an open filter bar shows the view's query, to edit

    # --------------------------------------------------------------- sort, zoom

    def action_sort(self) -> None:
        """`S`: the focused pane's next order, the cursor kept on its case."""
        table = self._current_table()
        if table is None:
            return
        severity = next(s for s, pane in self._panes.items() if pane.table is table)
        self._sorts[severity] = self._sorts[severity].next()
        self._resort(severity, table.selected_id())
        self._show_titles()

    def action_zoom(self) -> None:
        """`z`: the focused pane alone fills the board; again, every pane comes back."""
        table = self._current_table()
        if self.zoomed is not None:
            self.zoomed = None
        elif table is not None:
            self.zoomed = next(s for s, pane in self._panes.items() if pane.table is table)
        self._size_panes()
        self._show_titles()

    def _zoom_to(self, table: CaseTable) -> None:
        """A zoomed board follows the cursor into another pane (a number key, `]`): that pane zooms."""
        severity = next(s for s, pane in self._panes.items() if pane.table is table)
        if self.zoomed is not None and self.zoomed is not severity:
            self.zoomed = severity
            self._size_panes()
            self._show_titles()

    def action_view(self, name: str) -> None:
        """One view at a time; its key again goes back to every case. The filter stays."""
        view = View(name)
        self.view = View.ALL if view is self.view else view
        self._rebuild()

    def _shows(self, case: Case, now: datetime) -> bool:
        """The case is on the board under the view and the filter in force."""
        state = self.app.state
        return (self._matches(case, now)
                and in_view(self.view, case, state.clocks[case.id], self.app.actor, now, state.shift_lead))

    def _matches(self, case: Case, now: datetime) -> bool:
        """The case passes the filter in force (parsed once per filter text, see core.case_filter)."""
        if self._filter.text != self.filter_text:
            self._filter = parse_filter(self.filter_text)
        state = self.app.state
        return not self._filter or self._filter.matches(
            case, Seen(self.app.actor, now, state.clocks, self.app.marks.unread, haystacks=self._haystacks,
                       shift_lead=state.shift_lead))

    def _rebuild(self) -> None:
        """After the view or the filter changed: the rows that show now, the cursor on a pane that has some."""
        self._build(self._layout)
        self._tick(self.app.now())
        current = self._current_table()
        if current is None or not current.row_count:
            first = next((pane.table for pane in self._panes.values() if pane.table.row_count), None)
            if first is not None:
                self._select(first)

    def shown_ids(self) -> list[str]:
        return [case_id for severity in Severity for case_id in self._order[severity]]

    def show_marks(self, case_ids: Iterable[str]) -> None:
        case_ids = list(case_ids)
        self._unpark(case_ids)
        with self.app.batch_update():
            for case_id in case_ids:
                row = self._rows.get(case_id)
                if row is not None:
                    self._set_cells(row, case_id, {"id": self.id_cell(case_id)})
        self._show_status()

    def action_alerts(self) -> None:
        from casewatch.tui.screens.alerts import AlertHistoryScreen

        self.app.push_screen(AlertHistoryScreen(), self._go_to_case)

    def go_to_case(self, case_id: str) -> None:
        self._go_to_case(case_id)

    def _go_to_case(self, case_id: str | None) -> None:
        """From the alert history: the cursor to the case (when the board shows it) and its screen."""
        if case_id is None:
            return
        if case_id not in self.app.state.cases:
            self.app.notify(f"{case_id} is no longer open", severity="warning")
            return
        row = self._rows.get(case_id)
        if row is not None:
            self._select(row.table)
            self._restore_cursor(row.table, case_id)
        self.open_case(case_id)

    @on(CaseTable.PastEdge)
    def step_into_next_pane(self, message: CaseTable.PastEdge) -> None:
        """`j` past a pane's last case goes on to the first case of the next pane with cases (`k`
        before the first, to the last case of the previous one), as the panes read as one list."""
        if self.zoomed is not None:
            return  # the zoomed pane is the whole board
        panes = [pane.table for pane in self._panes.values()]
        index = panes.index(message.table)
        following = panes[index + 1:] if message.step > 0 else panes[:index][::-1]
        table = next((t for t in following if t.row_count), None)
        if table is not None:
            self._select(table)
            table.move_cursor(row=0 if message.step > 0 else table.row_count - 1, animate=False)

    def action_focus_pane(self, name: str) -> None:
        table = self.query_one(f"#table-{name}", CaseTable)
        self._zoom_to(table)
        table.focus()

    def action_attention(self, step: int) -> None:
        """`]` / `[`: the panes read top to bottom as one list, from the case under the cursor."""
        state, now = self.app.state, self.app.now()
        order = [case_id for severity in Severity for case_id in self._order[severity]]
        current = self.selected_case()
        target = next_match(order, current.id if current else None, step,
                            lambda case_id: needs_attention(state.cases[case_id], state.clocks[case_id], now))
        if target is None:
            self.app.notify("No breached case and none that needs an owner on the board")
            return
        table = self._rows[target].table
        self._zoom_to(table)
        table.focus()
        self._restore_cursor(table, target)

    def action_handoff(self) -> None:
        from casewatch.tui.screens.handoff import HandoffScreen

        self.app.push_screen(HandoffScreen())

    def action_metrics(self) -> None:
        from casewatch.tui.screens.metrics import MetricsScreen

        self.app.push_screen(MetricsScreen())

    def action_open_case(self) -> None:
        case = self.selected_case()
        if case is not None:
            self.open_case(case.id)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_case(event.row_key.value)

    def open_case(self, case_id: str) -> None:
        self.app.open_case(case_id)

    def on_screen_resume(self) -> None:
        if self.view is View.BREACHED:  # clocks may have breached while another screen was in front
            self._rebuild()
        else:
            self._tick(self.app.now())
        self._show_status()
