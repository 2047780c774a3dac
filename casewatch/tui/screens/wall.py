"""The wall display: the floor at a glance, read from across a room.

Big digits per severity (open, breached, unowned, waiting on the customer), the next deadlines
with their countdowns, the shift lead with their local time, any handoff waiting, and each
source's sync state. No key here writes anything: the wall app refuses every command anyway.
Counts are only recomputed when cases change or a clock edge passes; a tick moves the countdowns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import DataTable, Digits, Label, Static

from casewatch.core.calendars import from_us, to_us
from casewatch.core.clocks import ClockKind, ClockState
from casewatch.core.durations import format_countdown
from casewatch.core.handoff import LeadView
from casewatch.core.models import Severity
from casewatch.core.text import visible
from casewatch.core.wall import DEADLINES_SHOWN, Figures, WallView, wall_view
from casewatch.core.zones import zone_label, zone_named_once
from casewatch.tui.messages import CasesChanged, ClockTick, LeadChanged
from casewatch.tui.screens.base import CasewatchScreen
from casewatch.tui.widgets import cells

FIGURES = ("open", "breached", "unowned", "waiting")
CLOCK_NAMES = {ClockKind.OWNER: "owner", ClockKind.CUSTOMER_UPDATE: "update", ClockKind.INTERNAL_REVIEW: "review"}
ALL = "all"
ROWS = (*(severity.value.lower() for severity in Severity), ALL)  # a row of digits each; the floor's total last
NARROW = 150  # columns: below this the deadlines go under the digits


@dataclass(frozen=True)
class SourceSync:
    """One case source's sync state, as the wall shows it (sources come with the tracker import)."""

    name: str
    state: str
    healthy: bool


def lead_text(lead: LeadView, now: datetime) -> Text:
    """"Shift lead dana · 15:00 CET there · 3h00m into the shift", or that nobody leads."""
    shift = lead.shift
    if shift is None:
        return Text("No shift lead", style="bold")
    there = now.astimezone(ZoneInfo(shift.tz))
    text = Text("Shift lead ")
    text.append(visible(shift.lead), style="bold")
    text.append(f" · {there:%H:%M} {zone_named_once(shift.tz, now)} there")
    text.append(f" · {format_countdown(int(shift.age(now).total_seconds()))} into the shift")
    return text


def handoff_text(lead: LeadView, now: datetime) -> Text | None:
    """The handoff waiting for its incoming lead, and for how long; None when none waits."""
    pending = lead.pending
    if pending is None:
        return None
    packet = pending.packet
    waited = format_countdown(int(pending.waiting_for(now).total_seconds()))
    text = Text(f"⇄ Handoff {pending.id} waiting: {visible(packet.outgoing.name)} → {visible(packet.incoming.name)}, "
                f"not accepted for {waited}")
    if pending.overdue(now):
        text.append(" — overdue", style="bold")
    return text


class WallScreen(CasewatchScreen):
    """Drawn from `core.wall.wall_view`. With `--interactive-read-only` the deadlines take the
    arrow keys and Enter opens a case, whose write keys the app refuses."""

    def __init__(self, interactive: bool = False) -> None:
        super().__init__()
        self.interactive = interactive
        self.view = WallView()
        self._shown: dict[tuple[str, str], str] = {}  # (row, figure) -> the digits shown
        self._deadline_keys: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(id="wall-top")
        yield Static(id="wall-lead")
        yield Static(id="wall-handoff")
        with Horizontal(id="wall-body"):
            with Grid(id="wall-figures"):
                yield Label("")
                for name in FIGURES:
                    yield Label(name.upper(), classes="figure-head")
                for row in ROWS:
                    yield Label(row.upper(), classes=f"figure-sev {row}")
                    for name in FIGURES:
                        yield Digits("0", id=f"{name}-{row}", classes=f"figure {name}")
            with Vertical(id="wall-right"):
                yield Label(f"NEXT {DEADLINES_SHOWN} DEADLINES", id="wall-deadlines-title")
                yield DataTable(id="wall-deadlines", cursor_type="row" if self.interactive else "none",
                                show_cursor=self.interactive, zebra_stripes=True)
                yield Static(id="wall-sources")

    def on_mount(self) -> None:
        table = self.query_one("#wall-deadlines", DataTable)
        zone = zone_label(self.app.zone, self.app.now())
        for key, label in (("due", f"Due ({zone})"), ("in", "In"), ("clock", "Clock"), ("id", "Case"),
                           ("sev", "Sev"), ("title", "Title")):
            table.add_column(label, key=key)
        table.can_focus = self.interactive
        if self.interactive:
            table.focus()
        self.set_class(self.app.size.width < NARROW, "-narrow")
        self.show_sources(())
        self._recount(self.app.now())

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    # ------------------------------------------------------------------ drawing

    def _recount(self, now: datetime) -> None:
        state = self.app.state
        self.view = wall_view(((case, state.clocks[cid]) for cid, case in state.cases.items()), to_us(now))
        for severity, figures in self.view.figures.items():
            self._show_figures(severity.value.lower(), figures)
        self._show_figures(ALL, self.view.total)
        self._fill_deadlines(now)
        self._show_header(now)

    def _show_figures(self, row: str, figures: Figures) -> None:
        for name in FIGURES:
            value = str(getattr(figures, name))
            key = (row, name)
            if self._shown.get(key) != value:
                self._shown[key] = value
                self.query_one(f"#{name}-{row}", Digits).update(value)

    def _fill_deadlines(self, now: datetime) -> None:
        """The rows, rebuilt only when the deadlines listed changed; otherwise only countdowns move."""
        table = self.query_one("#wall-deadlines", DataTable)
        keys = [f"{d.case_id}:{d.kind.value}" for d in self.view.deadlines]
        if keys == self._deadline_keys:
            self._tick_deadlines(now)
            return
        self._deadline_keys = keys
        colours = self.app.colours
        with self.app.batch_update():
            table.clear()
            for key, deadline in zip(keys, self.view.deadlines, strict=True):
                due = from_us(deadline.due_us).astimezone(self.app.zone)
                table.add_row(cells.plain(f"{due:%a %H:%M}"), self._countdown(deadline.due_us, deadline.state, now),
                              cells.plain(CLOCK_NAMES[deadline.kind]), cells.plain(deadline.case_id),
                              cells.severity_cell(deadline.severity, colours), cells.plain(deadline.title), key=key)

    def _countdown(self, due_us: int, state: ClockState, now: datetime) -> Text:
        remaining = (due_us - to_us(now)) // 1_000_000
        return cells.clock_cell(cells.countdown_label(state, remaining, compact=True), state, self.app.colours)

    def _tick_deadlines(self, now: datetime) -> None:
        table = self.query_one("#wall-deadlines", DataTable)
        for key, deadline in zip(self._deadline_keys, self.view.deadlines, strict=True):
            text = self._countdown(deadline.due_us, deadline.state, now)
            if table.get_cell(key, "in").plain != text.plain:
                table.update_cell(key, "in", text)

    def _show_header(self, now: datetime) -> None:
        app = self.app
        local = now.astimezone(app.zone)
        top = Text()
        top.append(" casewatch wall ", style="bold reverse")
        top.append(f"  {local:%a %d %b %H:%M:%S} {zone_named_once(app.zone, now)}", style="bold")
        connection = app.connection
        if connection is not None:
            top.append(f"  ·  {'●' if connection.state.value == 'live' else '◌'} {connection.label}")
        self.query_one("#wall-top", Static).update(top, layout=False)
        self.query_one("#wall-lead", Static).update(lead_text(app.state.lead, now), layout=False)
        banner = self.query_one("#wall-handoff", Static)
        handoff = handoff_text(app.state.lead, now)
        banner.display = handoff is not None
        if handoff is not None:
            banner.update(handoff, layout=False)

    def show_sources(self, sources: Sequence[SourceSync]) -> None:
        """Each source's sync state, one line each; the panel is hidden while there are none."""
        panel = self.query_one("#wall-sources", Static)
        panel.display = bool(sources)
        text = Text()
        for source in sources:
            mark = "●" if source.healthy else "◌"
            text.append(f"{mark} {visible(source.name)}: {visible(source.state)}\n")
        panel.update(text)

    # ------------------------------------------------------------------ updates

    @on(ClockTick)
    def _on_tick(self, message: ClockTick) -> None:
        if to_us(message.now) >= self.view.changes_at_us:
            self._recount(message.now)
            return
        self._tick_deadlines(message.now)
        self._show_header(message.now)

    @on(CasesChanged)
    def _cases_changed(self) -> None:
        self._recount(self.app.now())

    @on(LeadChanged)
    def _lead_changed(self) -> None:
        self._show_header(self.app.now())

    @on(DataTable.RowSelected)
    def _open_case(self, event: DataTable.RowSelected) -> None:
        """Enter on a deadline (only the interactive wall's table takes focus) opens its case, read-only."""
        if self.interactive and event.row_key.value is not None:
            self.app.open_case(event.row_key.value.split(":")[0])
