"""The line under the board's header: the view and filter in force, the floor's counts, when the
board last heard from the database, and whether it is live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.widgets import Static

from casewatch.core.text import visible
from casewatch.core.views import View
from casewatch.storage.feed import FeedState, FeedStatus
from casewatch.tui.widgets.cells import Colours

VIEW_LABELS = {
    View.ALL: "all cases",
    View.MINE: "mine",
    View.UNOWNED: "unowned",
    View.WAITING: "waiting",  # on the customer, as the board's status column says it
    View.BREACHED: "breached",
}
NOT_FOLLOWING = "not following changes"


@dataclass(frozen=True)
class Status:
    view: View
    filter_text: str
    shown: int
    open: int
    late: int
    unowned: int
    refreshed_at: datetime | None
    connection: FeedStatus | None
    marked: int = 0  # rows marked for a bulk action


def status_text(status: Status, zone: ZoneInfo, colours: Colours, width: int) -> Text:
    """What is shown goes left; the counts, the refresh time and the connection go right, shorter
    when the line is narrow. When the line is still short of room the filter's words give way
    (the view and how many cases are shown stay)."""
    narrowed = status.view is not View.ALL or bool(status.filter_text)
    label = Text(f" {VIEW_LABELS[status.view]}", style="bold" if status.view is not View.ALL else "")
    shown = Text(f" · {status.shown} shown " if narrowed else " ")
    if status.marked:
        shown = Text(f" · {status.marked} marked{shown.plain}", style="bold")
    words = visible(status.filter_text)
    right = _counts_and_connection(status, zone, colours, short=False)
    if label.cell_len + shown.cell_len + (len(words) + 5 if words else 0) + right.cell_len > width:
        right = _counts_and_connection(status, zone, colours, short=True)
    if status.marked and label.cell_len + shown.cell_len + right.cell_len > width:
        shown = Text(f" · {status.marked} marked ", style="bold")  # what a bulk action will touch comes first
    left = label.copy()
    if words:
        room = width - right.cell_len - label.cell_len - shown.cell_len - 5  # " · “" and "”"
        if room < len(words):
            words = words[:max(room - 1, 0)] + "…"
        left.append(" · “")
        left.append(words, style="bold")
        left.append("”")
    left.append(shown)
    room = width - right.cell_len
    if left.cell_len > room:
        left.truncate(max(room - 1, 0), overflow="ellipsis")
        left.append(" ")
    left.append(" " * max(room - left.cell_len, 0))
    return left + right


def _counts_and_connection(status: Status, zone: ZoneInfo, colours: Colours, *, short: bool) -> Text:
    text = Text()
    text.append(f"{status.open} open · ")
    late_style = f"bold {colours.get('clock-breached', '')}".strip() if status.late else ""
    text.append(f"{status.late} late", style=late_style)
    text.append(f" · {status.unowned} unowned")
    if status.refreshed_at is not None:
        local = status.refreshed_at.astimezone(zone)
        text.append(f" · ↻ {local:%H:%M %Z}" if short else f" · refreshed {local:%H:%M:%S %Z}")
    connection = status.connection
    if connection is None:
        text.append(f" · {'○ off' if short else NOT_FOLLOWING}", style="dim")
    elif connection.state is FeedState.LIVE:
        text.append(f" · ● {connection.label}", style=colours.get("clock-met", ""))
    else:
        text.append(f" · ◌ {connection.label}", style=f"bold {colours.get('clock-warning', '')}".strip())
    text.append(" ")
    return text


class StatusLine(Static):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name for it
        super().__init__(id=id)
        self._shown: tuple | None = None

    def show(self, status: Status, zone: ZoneInfo, colours: Colours) -> None:
        """Called every second; the line is only made again when something on it changed."""
        width = self.size.width or self.app.size.width
        if (status, zone, colours, width) == self._shown:
            return
        self._shown = (status, zone, dict(colours), width)
        self.update(status_text(status, zone, colours, width), layout=False)  # repaint, no re-layout
