"""The active severity policy, as `casewatch policy show` prints it."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from casewatch.tui.screens.base import CasewatchModal


class PolicyScreen(CasewatchModal[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="policy.close", tooltip="Back")]

    def compose(self) -> ComposeResult:
        policy = self.app.state.policy
        with VerticalScroll(classes="form wide") as frame:
            frame.border_title = f"Severity policy v{policy.version} (apply changes with `casewatch policy apply FILE`)"
            yield Static(Syntax(policy.to_toml(), "toml", theme="ansi_dark", background_color="default"),
                         id="policy-text")
