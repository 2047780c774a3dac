"""Command palette: every case action, the policy, and jumping to a case by id or title."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

ACTIONS = (
    ("Assign internal owner", "assign"), ("Assign comms owner", "comms"), ("Set route authority", "authority"),
    ("Involve someone", "involve"), ("Change severity", "severity"), ("Change or confirm route", "route"),
    ("Log customer update", "update"), ("Log internal review", "review"), ("Change status", "status"),
    ("Add note", "note"), ("Escalate a new case", "new_case"),
)


class CasewatchCommands(Provider):
    def _commands(self):
        screen = self.screen
        yield "Show severity policy", self._show_policy, "The active policy as TOML"
        if hasattr(screen, "selected_case"):
            case = screen.selected_case()
            suffix = f" ({case.id})" if case else ""
            for label, action in ACTIONS:
                yield f"{label}{suffix}", partial(screen.run_action, action), "Same as its key on the board"
        app = self.app
        if app.state is not None and hasattr(screen, "open_case"):
            for case in app.state.cases.values():
                yield f"Open {case.id} {case.title}", partial(screen.open_case, case.id), case.customer

    def _show_policy(self) -> None:
        from casewatch.tui.screens.policy import PolicyScreen

        self.app.push_screen(PolicyScreen())

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            if not name.startswith("Open "):
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
