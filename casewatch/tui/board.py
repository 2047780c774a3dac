"""The live board: one pane per severity, rows sorted by the nearest deadline.

Rows are keyed by case id and updated by diff inside `batch_update()`: only cells whose text
changed are touched, rows are added and removed by key, and the cursor follows its case, never
its index. Countdowns are recomputed on the app's single tick as deadline minus now.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from casewatch.core.calendars import to_us
from casewatch.core.clocks import CaseClocks, ClockPlan
from casewatch.core.models import Case, Severity
from casewatch.core.views import case_flags
from casewatch.tui import cells
from casewatch.tui.actions import CASE_BINDINGS, CaseActions
from casewatch.tui.clockbar import ClockBar
from casewatch.tui.layout import Layout, choose_layout, column_width, pane_heights
from casewatch.tui.messages import CasesChanged, ClockTick

FAR = 2**63


class CaseTable(DataTable):
    """A severity pane's table. Row keys are case ids."""

    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value


class SeverityPane(Vertical):
    def __init__(self, severity: Severity):
        super().__init__(id=f"pane-{severity.value.lower()}", classes=f"pane {severity.value.lower()}")
        self.severity = severity

    def compose(self) -> ComposeResult:
        yield CaseTable(id=f"table-{self.severity.value.lower()}", cursor_type="row", zebra_stripes=True)

    @property
    def table(self) -> CaseTable:
        return self.query_one(CaseTable)


class BoardScreen(CaseActions, Screen):
    BINDINGS = [
        Binding("enter", "open_case", "Open", id="board.open", tooltip="Open the case screen"),
        *CASE_BINDINGS,
        Binding("1", "focus_pane('sev1')", "SEV1", id="board.sev1", show=False, tooltip="Jump to the SEV1 pane"),
        Binding("2", "focus_pane('sev2')", "SEV2", id="board.sev2", show=False, tooltip="Jump to the SEV2 pane"),
        Binding("3", "focus_pane('sev3')", "SEV3", id="board.sev3", show=False, tooltip="Jump to the SEV3 pane"),
        Binding("4", "focus_pane('sev4')", "SEV4", id="board.sev4", show=False, tooltip="Jump to the SEV4 pane"),
    ]

    def __init__(self):
        super().__init__()
        self.board_layout: Layout | None = None
        self._pane_of: dict[str, Severity] = {}
        self._shown: dict[str, dict[str, tuple[str, str]]] = {}  # case id -> column -> (text, style)
        self._order: dict[Severity, list[str]] = {s: [] for s in Severity}
        self._titles: dict[Severity, str] = {}
        self._last_table: CaseTable | None = None

    def compose(self) -> ComposeResult:
        yield ClockBar(id="clockbar")
        with Vertical(id="panes"):
            for severity in Severity:
                yield SeverityPane(severity)
        yield Footer()

    def panes(self) -> dict[Severity, SeverityPane]:
        return {pane.severity: pane for pane in self.query(SeverityPane)}

    def on_mount(self) -> None:
        self._build(choose_layout(self.size.width or self.app.size.width))
        now = self.app.now()
        self.query_one(ClockBar).show(now)
        self._tick(now)
        first = next((p.table for p in self.panes().values() if p.table.row_count), None)
        (first or self.panes()[Severity.SEV1].table).focus()

    # ------------------------------------------------------------------ rows

    def _zone(self, severity: Severity) -> ZoneInfo:
        return self.app.state.policy.calendar_for(severity).zone or self.app.zone

    def _static_cells(self, case: Case) -> dict[str, Text]:
        palette = self.app.palette
        return {
            "id": cells.plain(case.id),
            "sev": cells.severity_cell(case.severity, palette),
            "flags": cells.flag_cell(len(case_flags(case, self.app.state.policy)), palette),
            "title": cells.plain(case.title),
            "customer": cells.plain(case.customer),
            "status": cells.plain(case.status.value.replace("_", " ")),
            "route": cells.plain(case.route),
            "owner": cells.person_cell(case.internal_owner, palette),
            "comms": cells.person_cell(case.comms_owner, palette),
            "evidence": cells.plain(f"{case.evidence_done}/{len(case.evidence)}"),
        }

    def _clock_cell(self, plan: ClockPlan, now_us: int, zone: ZoneInfo | None) -> Text:
        reading = plan.read(now_us)
        return cells.clock_cell(cells.clock_label(reading, zone), reading.state, self.app.palette)

    def _clock_cells(self, case: Case, clocks: CaseClocks, now_us: int) -> dict[str, Text]:
        zone = self._zone(case.severity) if self.board_layout.show_due else None
        return {
            "owner_clock": self._clock_cell(clocks.owner, now_us, zone),
            "update_clock": self._clock_cell(clocks.customer_update, now_us, zone),
        }

    def _sort_key(self, case_id: str) -> tuple:
        due = self.app.state.clocks[case_id].nearest_due_us
        return (FAR if due is None else due, case_id)

    def _build(self, layout: Layout) -> None:
        """(Re)create columns for a layout and fill every pane. Only on mount and on a layout change."""
        self.board_layout = layout
        self._shown.clear()
        self._pane_of.clear()
        state = self.app.state
        now_us = to_us(self.app.now())
        by_severity: dict[Severity, list[str]] = {s: [] for s in Severity}
        for case_id, case in state.cases.items():
            by_severity[case.severity].append(case_id)
        with self.app.batch_update():
            for severity, pane in self.panes().items():
                table = pane.table
                keep = table.selected_id()
                table.clear(columns=True)
                for column in layout.columns:
                    table.add_column(column.label, key=column.key, width=column_width(column, layout))
                order = sorted(by_severity[severity], key=self._sort_key)
                for case_id in order:
                    self._add_row(table, state.cases[case_id], now_us)
                self._order[severity] = order
                self._restore_cursor(table, keep)
            self._update_titles(now_us)
            self._size_panes()

    def _add_row(self, table: CaseTable, case: Case, now_us: int) -> None:
        values = self._static_cells(case) | self._clock_cells(case, self.app.state.clocks[case.id], now_us)
        table.add_row(*(values[key] for key in self.board_layout.keys), key=case.id)
        self._shown[case.id] = {key: (values[key].plain, str(values[key].style)) for key in self.board_layout.keys}
        self._pane_of[case.id] = case.severity

    def _set_cells(self, table: CaseTable, case_id: str, values: dict[str, Text]) -> None:
        shown = self._shown[case_id]
        for key, value in values.items():
            if key not in shown:
                continue
            fingerprint = (value.plain, str(value.style))
            if shown[key] != fingerprint:
                table.update_cell(case_id, key, value)
                shown[key] = fingerprint

    def _restore_cursor(self, table: CaseTable, case_id: str | None) -> None:
        if case_id is not None and case_id in table.rows:
            table.move_cursor(row=table.get_row_index(case_id), animate=False)

    # -------------------------------------------------------------- updates

    @on(CasesChanged)
    def apply_changes(self, message: CasesChanged) -> None:
        state = self.app.state
        now_us = to_us(self.app.now())
        panes = self.panes()
        touched: set[Severity] = set()
        cursors = {s: p.table.selected_id() for s, p in panes.items()}
        changed = set(state.cases) if message.everything else set(message.changed)
        with self.app.batch_update():
            for case_id in set(message.removed) | {i for i in changed if i in self._pane_of
                                                    and (i not in state.cases
                                                         or state.cases[i].severity != self._pane_of[i])}:
                severity = self._pane_of.pop(case_id, None)
                if severity is not None:
                    panes[severity].table.remove_row(case_id)
                    self._shown.pop(case_id, None)
                    self._order[severity].remove(case_id)
                    touched.add(severity)
            for case_id in changed:
                case = state.cases.get(case_id)
                if case is None:
                    continue
                table = panes[case.severity].table
                if case_id in self._pane_of:
                    values = self._static_cells(case) | self._clock_cells(case, state.clocks[case_id], now_us)
                    self._set_cells(table, case_id, values)
                else:
                    self._add_row(table, case, now_us)
                    self._order[case.severity].append(case_id)
                touched.add(case.severity)
            for severity in touched:
                self._resort(panes[severity].table, severity, cursors[severity])
            self._update_titles(now_us)
            self._size_panes()

    def _resort(self, table: CaseTable, severity: Severity, keep: str | None) -> None:
        order = sorted(self._order[severity], key=self._sort_key)
        if order != [row.value for row in table.rows] or order != self._order[severity]:
            positions = {case_id: index for index, case_id in enumerate(order)}
            table.sort("id", key=lambda cell: positions[cell.plain])
        self._order[severity] = order
        self._restore_cursor(table, keep)

    @on(ClockTick)
    def _on_tick(self, message: ClockTick) -> None:
        self.query_one(ClockBar).show(message.now)
        self._tick(message.now)

    def _tick(self, now: datetime) -> None:
        state = self.app.state
        now_us = to_us(now)
        panes = self.panes()
        with self.app.batch_update():
            for case_id, severity in self._pane_of.items():
                case = state.cases[case_id]
                self._set_cells(panes[severity].table, case_id, self._clock_cells(case, state.clocks[case_id], now_us))
            self._update_titles(now_us)

    def _update_titles(self, now_us: int) -> None:
        state = self.app.state
        for severity, pane in self.panes().items():
            ids = self._order[severity]
            late = sum(1 for i in ids if any(p.active and now_us >= p.due_us for p in
                                             (state.clocks[i].owner, state.clocks[i].customer_update)))
            unowned = sum(1 for i in ids if state.cases[i].internal_owner is None)
            title = f"{severity.value} {state.policy[severity].label} · {len(ids)} case{'s' if len(ids) != 1 else ''}"
            if late:
                title += f" · {late} late"
            if unowned:
                title += f" · {unowned} unowned"
            if self._titles.get(severity) != title:
                pane.border_title = Text(title)
                self._titles[severity] = title

    def _size_panes(self) -> None:
        panes = self.panes()
        available = self.query_one("#panes").size.height or (self.app.size.height - 2)
        needs = [panes[s].table.row_count + 3 for s in Severity]  # border (2) and header (1)
        for severity, height in zip(Severity, pane_heights(available, needs)):
            panes[severity].styles.height = height

    def on_resize(self) -> None:
        layout = choose_layout(self.size.width)
        if self.board_layout is not None and layout != self.board_layout:
            self._build(layout)
        self.call_after_refresh(self._size_panes)

    # -------------------------------------------------------------- selection

    def on_descendant_focus(self, event) -> None:
        if isinstance(event.widget, CaseTable):
            self._last_table = event.widget

    def selected_case(self) -> Case | None:
        table = self.focused if isinstance(self.focused, CaseTable) else self._last_table
        case_id = table.selected_id() if table is not None else None
        return self.app.state.cases.get(case_id) if case_id else None

    def action_focus_pane(self, name: str) -> None:
        self.query_one(f"#table-{name}", CaseTable).focus()

    def action_open_case(self) -> None:
        case = self.selected_case()
        if case is not None:
            self.open_case(case.id)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_case(event.row_key.value)

    def open_case(self, case_id: str) -> None:
        from casewatch.tui.case_screen import CaseScreen

        self.app.push_screen(CaseScreen(case_id))

    def on_screen_resume(self) -> None:
        self._tick(self.app.now())
