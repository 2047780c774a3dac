"""The line under the board's header: the view and filter in force, the floor's counts, when the
board last heard from the database, and whether it is live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.widgets import Static

from casewatch.core.text import visible
from casewatch.core.views import NEED_OWNERS, View
from casewatch.storage.feed import FeedState, FeedStatus
from casewatch.tui.widgets.cells import Colours

VIEW_LABELS = {
    View.ALL: "all cases",
    View.MINE: "mine",
    View.UNOWNED: NEED_OWNERS,
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
    quarantined: int = 0  # events the rules kept out of the state (a lead's count; `casewatch db audit`)
    sources: tuple[tuple[str, bool], ...] = ()  # each tracker sync's label ("zd ✓ 40s ago") and whether it fails
    marked: int = 0  # rows marked for a bulk action
    saved: str | None = None  # the saved view in force (its filter is `filter_text`)


def status_text(status: Status, zone: ZoneInfo, colours: Colours, width: int) -> Text:
    """What is shown goes left; the counts, the refresh time and the connection go right. Why the
    board is short of cases wins the room: the right side gets shorter (then terse, then only the
    late count and the connection mark) before the filter's words give way; the view and how many
    cases are shown always stay whole."""
    narrowed = status.view is not View.ALL or bool(status.filter_text)
    label = Text(f" {VIEW_LABELS[status.view]}", style="bold" if status.view is not View.ALL else "")
    if status.saved is not None:  # a saved view is a filter: its name says which (after a one-key view's)
        label = Text(f"{label.plain + ' ·' if status.view is not View.ALL else ''} view {visible(status.saved)}",
                     style="bold")
    shown = Text(f" · {status.shown} shown " if narrowed else " ")
    if status.marked:
        shown = Text(f" · {status.marked} marked{shown.plain}", style="bold")
    words = visible(status.filter_text)
    wanted = label.cell_len + shown.cell_len + (len(words) + 5 if words else 0)  # " · “" and "”"
    for level in range(_LEVELS):
        right = _counts_and_connection(status, zone, colours, level=level)
        if wanted + GAP + right.cell_len <= width:
            break
    if status.marked and label.cell_len + shown.cell_len + GAP + right.cell_len > width:
        shown = Text(f" · {status.marked} marked ", style="bold")  # what a bulk action will touch comes first
    left = label.copy()
    if words:
        room = width - right.cell_len - label.cell_len - shown.cell_len - GAP - 5
        if room < len(words):
            words = words[:max(room - 1, 0)] + "…"
        left.append(" · “")
        left.append(words, style="bold")
        left.append("”")
    left.append(shown)
    room = width - right.cell_len
    if left.cell_len + GAP > room:
        left.truncate(max(room - GAP - 1, 0), overflow="ellipsis")
        left.append(" ")
    if room - left.cell_len < 2 * GAP:  # close up, "all cases 59 open" would read as one phrase
        left.append("·")
    left.append(" " * max(room - left.cell_len, 0))
    return left + right


_LEVELS = 4  # full, short, terse, least
GAP = 2  # the cells kept between what is shown and the counts: "·" when no wider gap is left


def _counts_and_connection(status: Status, zone: ZoneInfo, colours: Colours, *, level: int) -> Text:
    """The right side at a level of shortness: 0 says everything, 1 shortens the refresh time and
    the connection, 2 is terse (`12⚑`, no zone), 3 keeps only the late count and the connection mark."""
    text = Text()
    if level < 3:
        text.append(f"{status.open} open · ")
    late_style = f"bold {colours.get('clock-breached', '')}".strip() if status.late else ""
    text.append(f"{status.late} late", style=late_style)
    if level < 2:
        text.append(f" · {status.unowned} {NEED_OWNERS}")
    elif level == 2:
        text.append(f" · {status.unowned}⚑")
    if status.quarantined:
        text.append(f" · ⚠ {status.quarantined} quarantined (db audit)" if level == 0 else f" · ⚠ {status.quarantined}",
                    style=f"bold {colours.get('clock-breached', '')}".strip())
    if status.refreshed_at is not None and level < 3:
        local = status.refreshed_at.astimezone(zone)
        when = {0: f"refreshed {local:%H:%M:%S %Z}", 1: f"↻ {local:%H:%M %Z}"}.get(level, f"↻ {local:%H:%M}")
        text.append(f" · {when}")
    for label, failing in status.sources:
        if level < 2 or failing:  # a terse line keeps only the syncs that fail
            text.append(" · ")
            text.append(visible(label), style=f"bold {colours.get('clock-warning', '')}".strip() if failing else "")
    connection = status.connection
    if connection is None:
        text.append(f" · {NOT_FOLLOWING if level == 0 else '○ off' if level < 3 else '○'}", style="dim")
    elif connection.state is FeedState.LIVE:
        text.append(f" · ● {connection.label}" if level < 3 else " · ●", style=colours.get("clock-met", ""))
    else:
        text.append(f" · ◌ {connection.label}" if level < 3 else " · ◌",
                    style=f"bold {colours.get('clock-warning', '')}".strip())
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
