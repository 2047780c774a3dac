"""The keys of the screen the user came from, as they are bound now, and what the clock marks mean."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from casewatch.core.clocks import ClockState
from casewatch.tui.screens.base import CasewatchModal
from casewatch.tui.widgets.cells import GLYPH

MEANING = {
    ClockState.RUNNING: "running",
    ClockState.WARNING: "warning: little of the window is left (`▲ 11m w`: 11 minutes of working time, on a"
                        " clock that waits for business hours)",
    ClockState.BREACHED: "breached: the deadline has passed",
    ClockState.PAUSED: "paused while waiting on the customer",
    ClockState.MET: "met: an owner was named",
    ClockState.STOPPED: "stopped: the case is resolved",
}


def _rank(active: ActiveBinding) -> int:
    """The screen's keys first, then the focused widget's, then the app's."""
    node = active.node
    return 2 if isinstance(node, App) else 0 if isinstance(node, Screen) else 1


def key_rows(bindings: Sequence[ActiveBinding], key_display: Callable[[Binding], str]) -> list[tuple[str, str, str]]:
    """(keys, what, tooltip) per action: keys bound to the same action share a row. Only casewatch's
    keys (each has an id and says what it does): Textual's generic ones (focus, copy, scrolling)
    told a lead nothing ("^pgup Page Left")."""
    rows: dict[tuple[bool, str], tuple[list[str], Binding]] = {}
    for active in sorted(bindings, key=_rank):
        binding = active.binding
        if not binding.id or not binding.description or binding.system:
            continue
        keys, _ = rows.setdefault((isinstance(active.node, App), binding.action), ([], binding))
        keys.append(key_display(binding))
    return [(" / ".join(keys), binding.description, binding.tooltip) for keys, binding in rows.values()]


class HelpScreen(CasewatchModal[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Back")]

    def __init__(self, bindings: Sequence[ActiveBinding]):
        super().__init__()
        self.bindings = bindings  # the active bindings of the screen underneath, remapped keys included

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        keys.add_column(style="dim")
        for key, what, tooltip in key_rows(self.bindings, self.app.get_key_display):
            keys.add_row(Text(key), Text(what), Text(tooltip))
        marks = Table.grid(padding=(0, 2))
        for state, meaning in MEANING.items():
            marks.add_row(Text(GLYPH[state], style="bold"), Text(meaning))
        with VerticalScroll(classes="form wide") as frame:
            frame.border_title = "Help"
            yield Static(Text("Keys", style="bold underline"))
            yield Static(keys)
            yield Static(Text("\nClock marks (countdowns are deadline minus now; due times in your zone)",
                              style="bold underline"))
            yield Static(marks)
            yield Static(Text("\n⚑ marks a case lacking an owner, a comms owner, a required role, or a route review;"
                              " in the ⚑ column of a narrow board, a case that needs owners"
                              " (no internal or no comms owner). ⚠ before a title: an update or note did not"
                              " reach the case's ticket (the case screen says why). The ! column counts what"
                              " needs a lead's attention"
                              " besides the clocks (⚑2: two things): owners, roles, a route review, evidence, a"
                              " return; the case screen lists them under Needs attention. Tab and Shift+Tab move"
                              " between panes; j and k go on into the next or previous pane.",
                              style="dim"))
