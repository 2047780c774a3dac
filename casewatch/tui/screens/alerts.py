"""The alerts since the board opened, newest first; Enter goes to the case."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from casewatch.core.alerts import Alert, Scope
from casewatch.core.clocks import ClockState
from casewatch.tui.messages import ClockTick
from casewatch.tui.screens.base import CasewatchModal
from casewatch.tui.screens.handoff import SHORT_CLOCK
from casewatch.tui.widgets import cells

MISSED = "↺"
COLUMNS = (("Seen", "seen", 9), ("Case", "case", 8), ("Sev", "sev", 4), ("Clock", "clock", 6), ("State", "state", 10),
           ("Due", "due", 13), ("Title", "title", 0))  # 0: what is left of the dialog's width
FRAME = 100  # the dialog's width (.form.wide), at most 95 % of the screen's
WHOSE = {
    Scope.AUTO: "Alerts come for your cases (internal owner, comms owner, route authority), "
                "and for every case while you lead the shift.",
    Scope.MINE: "Alerts come for your cases (internal owner, comms owner, route authority).",
    Scope.ALL: "Alerts come for every case.",
    Scope.NONE: 'Alerts are off (cases = "none" in the [alerts] table of the config file).',
}
REPLAY = "A replay of the past raises no alerts."


class AlertHistoryScreen(CasewatchModal[str | None]):
    """Dismissed with the chosen alert's case id, or None."""

    BINDINGS = [
        Binding("escape,q,exclamation_mark", "dismiss", "Close", id="alerts.close", tooltip="Back to the board"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shown = -1  # how many alerts since the board opened the table has taken in

    def compose(self) -> ComposeResult:
        with Vertical(classes="form wide", id="alert-history") as frame:
            frame.border_title = "Alerts since the board opened"
            whose = WHOSE[self.app.alert_settings.cases] if self.app.replay_at is None else REPLAY
            yield Label(whose, classes="hint", markup=False)
            yield Label(id="alert-empty")
            yield DataTable(id="alert-table", cursor_type="row", zebra_stripes=True)
            yield Label(f"Enter opens the case · {MISSED} already so when the board opened or reconnected "
                        "(in a summary) · Esc closes", classes="hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        inner = min(FRAME, int(self.app.size.width * 0.95)) - 4  # border and padding
        rest = inner - sum(width + 2 for *_, width in COLUMNS) - 2 - 2  # cell padding, the title's own, scrollbar
        for label, key, width in COLUMNS:
            table.add_column(label, key=key, width=width or max(rest, 8))
        self._fill()

    @on(ClockTick)
    def _new_alerts(self) -> None:
        self._fill()

    def _fill(self) -> None:
        """Rows are keyed by alert number since the board opened, so a key names the same alert
        after older ones are no longer kept."""
        watch = self.app.alert_watch
        history = watch.history
        if watch.recorded == self._shown:
            return
        added = watch.recorded - max(self._shown, 0)
        self._shown = watch.recorded
        table = self.query_one(DataTable)
        if watch.dropped:
            self.query_one(".form").border_title = (f"The newest {len(history):,} of {watch.recorded:,} "
                                                    "alerts since the board opened")
        table.display = bool(history)
        self.query_one("#alert-empty", Label).update("" if history else "No alerts since the board opened.")
        self.query_one("#alert-empty", Label).display = not history
        keep = table.cursor_row
        newest_first = sorted(range(len(history)), key=lambda i: (-history[i].at.timestamp(), i))
        with self.app.batch_update():
            table.clear()
            for index in newest_first:  # alerts seen at once keep their order: the most severe first
                table.add_row(*self._cells(history[index]), key=str(watch.dropped + index))
        if table.row_count:
            table.move_cursor(row=min(keep + added, table.row_count - 1) if keep else 0, animate=False)

    def _cells(self, alert: Alert) -> list[Text]:
        app = self.app
        zone, colours = app.zone, app.colours
        seen = alert.at.astimezone(zone).strftime("%H:%M:%S")
        state = Text(f"{cells.GLYPH[alert.state]} {alert.state.value}",
                     style=colours.get(f"clock-{alert.state.value}", "")
                     + (" bold" if alert.state is ClockState.BREACHED else ""))
        return [Text(f"{MISSED if alert.missed else ' '}{seen}"), cells.plain(alert.case_id),
                cells.severity_cell(alert.severity, colours), Text(SHORT_CLOCK[alert.clock]), state,
                Text(alert.due_text(zone)), cells.plain(alert.title)]

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        watch = self.app.alert_watch
        if event.row_key.value is not None and int(event.row_key.value) >= watch.dropped:
            self.dismiss(watch.history[int(event.row_key.value) - watch.dropped].case_id)
