"""The board's filter bar: a one-line Input under the panes that narrows the board as it is typed.

It only says what was typed (`Typed` on every change, `Kept` on Enter, `Cleared` on Esc, `Left` on
Tab); the board reads the filter and tells the bar its error, if any (`show_error`). `↑` and `↓` go
through the person's earlier filters (core.filter_history). What is typed is shown as typed, never
as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from casewatch.core.filter_history import Recall
from casewatch.core.text import visible
from casewatch.tui.widgets.plain_paste import PlainInput

RECALL = Binding.Group("Earlier/later filters", compact=True)
"""↑ and ↓ share one place in the footer."""

FILTER_HINT = "words, owner:ravi sev:1,2 customer:acme route:specialist:* status:waiting is:unowned…"


class FilterBar(Vertical):
    """Hidden until `open`; Enter keeps the filter, Esc clears it, and either closes the bar."""

    BINDINGS = [
        # Enter, ↑ and ↓ take priority over the Input's own (submit, and scrolling it never does):
        # those came first, so the footer showed them (hidden) instead of these.
        Binding("enter", "keep", "Keep filter", id="filter.keep", priority=True,
                tooltip="Keep the filter, remember it and close the filter bar (one that does not read keeps it open)"),
        Binding("escape", "clear", "Clear filter", id="filter.clear",
                tooltip="Clear the filter, show every case again and close the filter bar"),
        Binding("up", "recall(1)", "Earlier filter", id="filter.older", priority=True, group=RECALL,
                tooltip="The filter used before this one (the last 20 are kept, per person)"),
        Binding("down", "recall(-1)", "Later filter", id="filter.newer", priority=True, group=RECALL,
                tooltip="The filter used after this one, then what you were typing"),
        # before the screen's Tab (the next focusable widget: always the first pane, the bar being first)
        Binding("tab,shift+tab", "leave", "Back to the board", id="filter.leave", show=False,
                tooltip="Give the keys back to the pane they came from; the bar stays open on its filter"),
    ]

    class Typed(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    class Kept(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    class Cleared(Message):
        pass

    class Left(Message):
        """Tab or shift+Tab: the keys go back to the board, the bar stays open as it is."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name for it
        super().__init__(id=id)
        self._recall = Recall([], "")
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield PlainInput(placeholder=FILTER_HINT, id="filter-input", select_on_focus=True)
        yield Static(id="filter-error")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    def open(self, current: str, earlier: Sequence[str]) -> None:
        """Show the bar holding the filter in force (selected: typing replaces it, → edits it)."""
        self._recall = Recall(earlier, current)
        self.display = True
        self.show_error(None)
        with self.input.prevent(Input.Changed):
            self.input.value = current
        self.screen.set_focus(self.input)  # now, not a call later: the footer shows the bar's keys at once

    def hold(self, text: str) -> None:
        """While the bar is open, show `text` (the filter put in force by other means: a saved view)."""
        if self.display:
            with self.input.prevent(Input.Changed):
                self.input.value = text
            self.input.cursor_position = len(text)  # typing goes on after it
            self.show_error(None)

    @property
    def lines(self) -> int:
        """The lines the open bar takes: the Input's, and its error's when there is one, wrapped
        to the screen's width as Textual will draw it (up to the error line's max-height)."""
        if self.error is None:
            return 1
        line, screen = self.query_one("#filter-error", Static), self.screen.size
        width = max(0, screen.width - line.styles.gutter.width)  # 0 (no lines) before the screen's first layout
        height = line.get_content_height(screen, screen, width)
        most = line.styles.max_height
        return 1 + (height if most is None else min(height, int(most.value)))

    def close(self) -> None:
        self.display = False

    def show_error(self, error: str | None) -> None:
        """The filter's problem under the Input, wrapped to be read whole (None: there is none)."""
        self.error = error
        line = self.query_one("#filter-error", Static)
        line.display = error is not None
        line.update(Text(f"✖ {visible(' '.join((error or '').split()))} (the board shows the last filter that read)"))

    @on(Input.Changed, "#filter-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Typed(event.value))

    def action_keep(self) -> None:
        self.post_message(self.Kept(self.input.value))

    def action_clear(self) -> None:
        self.post_message(self.Cleared())

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def action_recall(self, step: int) -> None:
        typed = self.input.value
        if self._recall.at < 0:
            self._recall.typed = typed  # what was being typed comes back after the newest
        found = self._recall.older() if step > 0 else self._recall.newer()
        if found is not None:
            self.input.value = found  # Changed follows: the board narrows to it
            self.input.cursor_position = len(found)
