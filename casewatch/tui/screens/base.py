"""What every casewatch screen shares: the typed app, and worker failures reported by the app."""

from __future__ import annotations

from typing import TypeVar

from textual import getters, on
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from casewatch.tui.app import CasewatchApp

Result = TypeVar("Result")


class CasewatchScreen(Screen[None]):
    """A full screen of the app."""

    app = getters.app(CasewatchApp)

    @on(Worker.StateChanged)
    def _pass_worker_state_to_app(self, event: Worker.StateChanged) -> None:
        """Worker.StateChanged does not bubble; the app reports every worker's failure in one place."""
        self.app.post_message(event)


class CasewatchModal(ModalScreen[Result]):
    """A dialog over another screen; it returns a `Result` through `dismiss`."""

    app = getters.app(CasewatchApp)
