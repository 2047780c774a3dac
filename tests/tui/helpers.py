"""Pilot helpers: read what the terminal shows, and wait for messages instead of sleeping."""

from __future__ import annotations

import asyncio

from textual.worker import WorkerCancelled

from casewatch.core.models import Severity
from casewatch.tui.widgets.case_table import CaseTable


def table(app, severity: str) -> CaseTable:
    return app.screen.query_one(f"#table-{severity}", CaseTable)


async def focus_pane(app, pilot, severity: str) -> str:
    """Focus a severity's pane on the board, as Tab or its number key would; the selected case's id."""
    pane = table(app, severity)
    pane.focus()
    await pilot.pause()
    case_id = pane.selected_id()
    assert case_id is not None
    return case_id


async def workers_done(app) -> None:
    """Wait until no worker of the app runs. A worker cancelled meanwhile counts as done: the
    palette cancels the search of a query typed over, and Textual's `wait_for_complete` raised
    WorkerCancelled for it when a loaded machine had the older search still running. Any other
    error of a worker still fails the test."""
    while running := [worker for worker in app.workers if not worker.is_finished]:
        for result in await asyncio.gather(*(worker.wait() for worker in running), return_exceptions=True):
            if isinstance(result, BaseException) and not isinstance(result, WorkerCancelled):
                raise result


async def settled(app, pilot) -> None:
    """Wait until what the last keys started has finished: the palette's search (a worker per query),
    a write, a load; then until the messages those posted are handled. Instead of a fixed pause."""
    await pilot.pause()
    await workers_done(app)
    await pilot.pause()


async def escape_keeps(app, pilot, dialog: type, text: str) -> None:
    """Esc on a dialog holding typed `text` asks first, and both answers that keep it (Esc again,
    n) leave the dialog open with the text as it was."""
    from casewatch.tui.screens.forms import Confirm

    for keep in ("escape", "n"):
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press(keep)
        await pilot.pause()
        assert isinstance(app.screen, dialog) and app.screen.query_one("TextArea").text == text


class Posted:
    """A message hook (for `run_test`) that keeps the app's messages of one kind and lets a test
    wait for the one it expects, instead of sleeping."""

    def __init__(self, kind: type):
        self.kind = kind
        self.messages: list = []
        self._arrived = asyncio.Event()

    def __call__(self, message) -> None:
        if isinstance(message, self.kind):
            self.messages.append(message)
            self._arrived.set()

    async def wait_for_all(self, predicate, since: int = 0, timeout: float = 10.0) -> list:
        """Wait until the messages from index `since` on, together, satisfy `predicate(messages)`."""
        async with asyncio.timeout(timeout):
            while not predicate(self.messages[since:]):
                self._arrived.clear()
                await self._arrived.wait()
        return self.messages[since:]

    async def wait_for(self, predicate, since: int = 0, timeout: float = 10.0):
        """The first message from index `since` on that satisfies `predicate`, as soon as it is posted."""
        async with asyncio.timeout(timeout):
            while True:
                found = next((m for m in self.messages[since:] if predicate(m)), None)
                if found is not None:
                    return found
                self._arrived.clear()
                await self._arrived.wait()


def rendered_rows(widget) -> list[str]:
    """The widget's lines as drawn on the terminal."""
    return ["".join(segment.text for segment in widget.render_line(y)) for y in range(widget.size.height)]


async def measured_rows(pilot, table) -> list[str]:
    """A DataTable's lines once its idle step has measured the rows just added: `render_line` draws
    with the column widths it has now, and a table rebuilt with auto-width columns has them only
    after that step (a loaded run read it a step early, its ids cut to two letters)."""
    for _ in range(100):
        if not (table._require_update_dimensions or table._new_rows):
            return rendered_rows(table)
        await pilot.pause()
    raise AssertionError("the table never measured its new rows")


def screen_text(app) -> str:
    """The whole screen as drawn on the terminal, one line per row."""
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


def notifications(app) -> str:
    """Every notification on screen, as rendered."""
    return "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))


def shown_ids(app) -> set[str]:
    return {row.value for s in Severity for row in table(app, s.value.lower()).rows}


async def palette_hits(app, pilot, query: str) -> list[str]:
    """Open the command palette, type `query`, and read the first line of each hit it lists."""
    await pilot.press("ctrl+p", *query)
    await workers_done(app)  # the palette searches in a worker
    await pilot.pause()
    return [str(option.prompt).split("\n")[0] for option in app.screen.query_one("CommandList").options]
