"""Keys of the screen underneath, and what the clock marks mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from casewatch.core.clocks import ClockState
from casewatch.tui.widgets.cells import GLYPH

MEANING = {
    ClockState.RUNNING: "running",
    ClockState.WARNING: "warning: little of the window is left",
    ClockState.BREACHED: "breached: the deadline has passed",
    ClockState.PAUSED: "paused while waiting on the customer",
    ClockState.MET: "met: an owner was named",
    ClockState.STOPPED: "stopped: the case is resolved",
}


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Back")]

    def compose(self) -> ComposeResult:
        below = self.app.screen_stack[-1] if self.app.screen_stack else self.app.screen
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        keys.add_column(style="dim")
        seen = set()
        for _key, binding in below._bindings:
            if binding.action in seen or not binding.description:
                continue
            seen.add(binding.action)
            keys.add_row(Text(binding.key_display or binding.key), Text(binding.description), Text(binding.tooltip))
        for key, what in (("Tab / Shift+Tab", "next / previous pane"), ("Ctrl+P", "command palette"),
                          ("?", "this help"), ("q", "quit")):
            keys.add_row(Text(key), Text(what), Text(""))
        marks = Table.grid(padding=(0, 2))
        for state, meaning in MEANING.items():
            marks.add_row(Text(GLYPH[state], style="bold"), Text(meaning))
        with VerticalScroll(classes="form wide") as frame:
            frame.border_title = "Help"
            yield Static(Text("Keys", style="bold underline"))
            yield Static(keys)
            yield Static(Text("\nClock marks (countdowns are deadline minus now; times in the calendar's zone)",
                              style="bold underline"))
            yield Static(marks)
            yield Static(Text("\n⚑ marks a case lacking an owner, a comms owner, a required role, or a route review.",
                              style="dim"))
