"""One timeline event in full: everything it says, the whole customer message included, shown
literally in a scrollable read-only text (a row of the timeline shows only the start of it)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, TextArea

from casewatch.core.models import Event, iso_z
from casewatch.core.text import visible
from casewatch.core.views import describe_event
from casewatch.core.zones import local, zone_label
from casewatch.tui.screens.base import CasewatchModal
from casewatch.tui.widgets.cells import literal

LONG_FIELDS = {"message": "Message sent", "value": "Value"}  # payload text the timeline line leaves out


def event_text(event: Event, zone: ZoneInfo) -> str:
    """The event as the screen shows it: when and who, the timeline line, and any long text."""
    when = local(event.occurred_at, zone)
    lines = [f"When: {when:%a %d %b %Y %H:%M:%S} {zone_label(zone, when)} ({iso_z(event.occurred_at)})",
             f"Who: {event.actor}"]
    if event.backfilled:
        lines.append(f"Recorded: {iso_z(event.recorded_at)} (backfilled)")
    lines += ["", describe_event(event)]
    for key, label in LONG_FIELDS.items():
        value = event.payload.get(key)
        if isinstance(value, str) and value:
            lines += ["", f"{label}:", value]
    return visible("\n".join(lines), multiline=True)


class EventScreen(CasewatchModal[None]):
    BINDINGS = [
        Binding("y", "copy", "Copy", id="event.copy", tooltip="Copy the event's text (the message, if one was sent)"),
        Binding("escape,q", "app.pop_screen", "Close", id="event.close", tooltip="Back to the case"),
    ]

    def __init__(self, case_id: str, event: Event):
        super().__init__()
        self.case_id = case_id
        self.event = event

    def compose(self) -> ComposeResult:
        with Vertical(classes="form wide", id="event") as frame:
            frame.border_title = literal(f"{self.case_id}: {self.event.type.value.replace('_', ' ')}")
            yield TextArea(event_text(self.event, self.app.zone), id="event-text", read_only=True, soft_wrap=True,
                           show_line_numbers=False)
            yield Label("↑↓ PgUp PgDn scroll · y copies · Esc closes", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#event-text", TextArea).focus()

    def action_copy(self) -> None:
        message = self.event.payload.get("message")
        text = message if isinstance(message, str) and message else describe_event(self.event)
        self.app.copy_text(text, "The message" if text is message else "The event's text")
