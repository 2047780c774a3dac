"""The escalation packet as it will be pasted: its Markdown, shown literally, and copied on `y`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, TextArea

from casewatch.core.errors import CasewatchError
from casewatch.core.packet import case_packet, packet_markdown
from casewatch.tui.screens.base import CasewatchModal


class PacketScreen(CasewatchModal[None]):
    BINDINGS = [
        Binding("y", "copy", "Copy", id="packet.copy", tooltip="Copy the packet's Markdown to the clipboard"),
        Binding("escape,q", "app.pop_screen", "Close", id="packet.close", tooltip="Close the preview"),
    ]

    def __init__(self, case_id: str):
        super().__init__()
        self.case_id = case_id
        self.markdown = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="form wide", id="packet") as frame:
            frame.border_title = f"Escalation packet {self.case_id}"
            yield TextArea(id="packet-text", read_only=True, soft_wrap=True, show_line_numbers=False)
            yield Label("y copies it as Markdown · Esc closes", classes="hint")

    def on_mount(self) -> None:
        self.run_worker(self._load(), name="Load packet", group="packet-load", exclusive=True, exit_on_error=False)

    async def _load(self) -> None:
        app = self.app
        try:
            case = await app.store.get_case(self.case_id)
            events = await app.store.case_events(self.case_id)
        except CasewatchError as exc:
            app.notify(str(exc), severity="error")
            return
        shift = app.state.lead.shift
        self.markdown = packet_markdown(case_packet(case, app.state.policy, events, app.zone.key, app.now(),
                                                    shift.lead if shift else None))
        self.query_one("#packet-text", TextArea).load_text(self.markdown)

    def action_copy(self) -> None:
        if self.markdown:
            self.app.copy_text(self.markdown, f"The packet of {self.case_id}")
