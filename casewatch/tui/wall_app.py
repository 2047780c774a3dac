"""The wall display's app: the board's store, tick and change feed, and nothing that writes.

It runs as a viewer of its own (which core refuses every change anyway), raises no alerts, has no
command palette and no bindings of the board's; every command is refused before it runs.
"""

from __future__ import annotations

from textual.screen import Screen

from casewatch.core.alerts import AlertSettings, Scope
from casewatch.storage.store import Clock, system_clock
from casewatch.storage.target import Target
from casewatch.themes import DEFAULT_THEME
from casewatch.tui.app import CasewatchApp

SILENT = AlertSettings(cases=Scope.NONE, bell=False)  # a wall rings no bell and runs no alert command


class WallApp(CasewatchApp, inherit_bindings=False):
    KEEPS_MARKS = False  # a shared display: nobody's unread marks
    CSS_PATH = ["styles/app.tcss", "styles/wall.tcss"]  # type: ignore[assignment]  # Textual takes a list too
    TITLE = "casewatch wall"
    ENABLE_COMMAND_PALETTE = False
    COMMANDS = set()
    BINDINGS = []

    def __init__(self, target: Target, actor: str, zone: str = "UTC", theme: str = DEFAULT_THEME,
                 clock: Clock = system_clock, live: bool = True, interactive: bool = False):
        super().__init__(target, actor, zone=zone, theme=theme, clock=clock, live=live, alerts=SILENT)
        self.interactive = interactive  # keys may navigate (--interactive-read-only); never write

    @property
    def read_only(self) -> str | None:
        return "The wall is read-only."

    def first_screen(self) -> Screen:
        from casewatch.tui.screens.wall import WallScreen  # screens import the app module for its type

        return WallScreen(interactive=self.interactive)
