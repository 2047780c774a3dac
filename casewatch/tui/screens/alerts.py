"""The alerts since the board opened, newest first: clocks that turned and updates not delivered
to their tickets. Enter goes to the case, `a` acknowledges the clock alert under the cursor (it
greys out), `z` snoozes its case's alerts for a while (`SnoozePicker`). A dialog takes none of the
app's keys, so it has its own `?` and footer.
Both are the person's own (the app's `PersonMarks`); the shift lead's acknowledgement on a team
database is an event as well, written by the app."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Label, OptionList
from textual.widgets.option_list import Option

from casewatch.core.alert_marks import SNOOZE_FOR, snooze_words
from casewatch.core.alerts import Alert, DeliveryAlert, Scope
from casewatch.core.clocks import ClockState
from casewatch.core.write_back import DEAD, FAILED
from casewatch.core.zones import zone_label
from casewatch.tui.messages import ClockTick
from casewatch.tui.screens.base import CasewatchModal
from casewatch.tui.screens.handoff import SHORT_CLOCK
from casewatch.tui.widgets import cells
from casewatch.tui.widgets.footer import CasewatchFooter

MISSED = "↺"
DELIVERY_STATE = {FAILED: "⚠ failed", DEAD: "⚠ refused"}  # a delivery's row: will retry, or stopped
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
ACKNOWLEDGED = "dim"
SNOOZED = "snoozed until"  # before the title of a snoozed case's alerts


class AlertHistoryScreen(CasewatchModal[str | None]):
    """Dismissed with the chosen alert's case id, or None."""

    BINDINGS = [
        Binding("escape,q,exclamation_mark", "dismiss", "Back", id="alerts.close", tooltip="Back to the board"),
        Binding("question_mark", "app.help", "Help", id="alerts.help", tooltip="The keys of this screen"),
        Binding("enter", "open", "Open", id="alerts.open", priority=True,
                tooltip="Open the case of the alert under the cursor"),
        Binding("a", "acknowledge", "Acknowledge", id="alerts.acknowledge",
                tooltip="Acknowledge the alert under the cursor: it greys out (the shift lead's shows on "
                        "every board of a team database as 'ack by NAME')"),
        Binding("z", "snooze", "Snooze", id="alerts.snooze",
                tooltip="Snooze the case's alerts for 15 m, 30 m or 1 h: its clocks still show, nothing rings "
                        "(a rise in severity ends it)"),
        Binding("j", "move(1)", "Down", id="alerts.down", show=False, tooltip="Next alert"),
        Binding("k", "move(-1)", "Up", id="alerts.up", show=False, tooltip="Previous alert"),
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
            yield Label(f"a acknowledges the alert (greys it out) · z snoozes the case's alerts · {MISSED} late "
                        "already when the board opened or reconnected", classes="hint", markup=False)
        yield CasewatchFooter()  # a dialog's own keys, not those of the board under it

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

    def _cells(self, alert: Alert | DeliveryAlert) -> list[Text]:
        shown = self._shown_cells(alert)
        if isinstance(alert, Alert) and self.app.marks.acknowledged(alert):  # greyed out: someone has it in hand
            return [Text(cell.plain, style=ACKNOWLEDGED, no_wrap=True, overflow="ellipsis") for cell in shown]
        return shown

    def _shown_cells(self, alert: Alert | DeliveryAlert) -> list[Text]:
        app = self.app
        zone, colours = app.zone, app.colours
        seen = alert.at.astimezone(zone).strftime("%H:%M:%S")
        if isinstance(alert, DeliveryAlert):  # an update or note that did not reach its ticket
            d = alert.delivery
            return [Text(f" {seen}"), cells.plain(alert.case_id), cells.severity_cell(alert.severity, colours),
                    Text("ticket"), Text(DELIVERY_STATE.get(d.state, d.state), style=colours.get("flag", "")),
                    Text(""), cells.plain(f"{d.kind} to {d.source} {d.ticket}: {d.last_error or d.state} — "
                                          f"{alert.title}")]
        state = Text(f"{cells.GLYPH[alert.state]} {alert.state.value}",
                     style=colours.get(f"clock-{alert.state.value}", "")
                     + (" bold" if alert.state is ClockState.BREACHED else ""))
        snoozed = app.marks.snoozed_until(alert.case_id, app.now())
        title = (f"{SNOOZED} {snoozed.astimezone(zone):%H:%M} {zone_label(zone, snoozed)} · {alert.title}"
                 if snoozed else alert.title)
        return [Text(f"{MISSED if alert.missed else ' '}{seen}"), cells.plain(alert.case_id),
                cells.severity_cell(alert.severity, colours), Text(SHORT_CLOCK[alert.clock]), state,
                Text(alert.due_text(zone)), cells.plain(title)]

    def _redraw(self, case_id: str) -> None:
        """The rows of one case's alerts (acknowledged or snoozed since they were drawn)."""
        table, watch = self.query_one(DataTable), self.app.alert_watch
        for row_key in list(table.rows):
            index = int(row_key.value or -1) - watch.dropped
            if 0 <= index < len(watch.history) and watch.history[index].case_id == case_id:
                for (_label, column, _width), cell in zip(COLUMNS, self._cells(watch.history[index]), strict=True):
                    table.update_cell(row_key, column, cell)

    def _alert_under_cursor(self) -> Alert | DeliveryAlert | None:
        table = self.query_one(DataTable)
        watch = self.app.alert_watch
        if not table.row_count:
            self.app.notify("No alert to act on", severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is None or int(key) < watch.dropped:
            return None
        return watch.history[int(key) - watch.dropped]

    def action_acknowledge(self) -> None:
        alert = self._alert_under_cursor()
        if alert is None:
            return
        if isinstance(alert, DeliveryAlert):
            self.app.notify(f"{alert.case_id}: a delivery is not acknowledged; `casewatch deliver --retry "
                            f"{alert.case_id}` tries it again", severity="warning")
            return
        if self.app.marks.acknowledged(alert):
            self.app.notify(f"{alert.case_id}: acknowledged already")
            return
        self.app.acknowledge(alert)
        self._redraw(alert.case_id)

    def action_snooze(self) -> None:
        alert = self._alert_under_cursor()
        if alert is None:
            return
        case = self.app.state.cases.get(alert.case_id)
        if case is None:
            self.app.notify(f"{alert.case_id} is no longer open", severity="warning")
            return

        def chosen(length: timedelta | None) -> None:
            if length is not None and case.id in self.app.state.cases:
                until = self.app.marks.snooze(case, length, self.app.now())
                self._redraw(case.id)
                zone = self.app.zone
                when = f"{until.astimezone(zone):%H:%M} {zone_label(zone, until)}"
                self.app.notify(f"{case.id} snoozed until {when}: its clocks still show, its alerts are listed here "
                                f"but do not ring (unless it goes above {case.severity.value})", title="Snoozed")

        self.app.push_screen(SnoozePicker(case.id), chosen)

    def action_move(self, step: int) -> None:
        """j and k, as on the board."""
        table = self.query_one(DataTable)
        table.action_cursor_down() if step > 0 else table.action_cursor_up()

    def action_open(self) -> None:
        alert = self._alert_under_cursor()
        if alert is not None:
            self.dismiss(alert.case_id)

    @on(DataTable.RowSelected)
    def _clicked(self, event: DataTable.RowSelected) -> None:
        """A click on the row under the cursor (Enter is the screen's own key, for the footer)."""
        watch = self.app.alert_watch
        if event.row_key.value is not None and int(event.row_key.value) >= watch.dropped:
            self.dismiss(watch.history[int(event.row_key.value) - watch.dropped].case_id)


class SnoozePicker(CasewatchModal[timedelta | None]):
    """How long a case's alerts stay quiet: Enter picks, Esc leaves them ringing."""

    BINDINGS = [Binding("escape", "dismiss", "Cancel", id="snooze.cancel", tooltip="Leave the alerts ringing")]

    def __init__(self, case_id: str):
        super().__init__()
        self.case_id = case_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="form") as frame:
            frame.border_title = cells.literal(f"Snooze {self.case_id}'s alerts")
            yield OptionList(*(Option(Content(f"for {snooze_words(length)}"), id=str(index))
                               for index, length in enumerate(SNOOZE_FOR)))
            yield Label("Its clocks still show; nothing rings until then, unless its severity rises.",
                        classes="hint", markup=False)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(SNOOZE_FOR[int(event.option.id or 0)])
