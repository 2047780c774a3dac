"""Command palette: every casewatch binding of the screen it was opened on (the same bindings the
footer shows, hidden ones included, with their keys as remapped), the policy, and jumping to a case
(by id, ticket, title or customer), resolved ones included.

Names and case titles are user text: hits are built as Content, never parsed as markup, and shown
through `visible`; a query matches them with their invisible characters removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.screen import ModalScreen

from casewatch.core.errors import CasewatchError
from casewatch.core.models import Case, Status
from casewatch.core.text import unseen_removed, visible
from casewatch.core.views import linked_title
from casewatch.tui.app import CasewatchApp

Command = tuple[str, Callable[[], object], str, str | None]  # shows, runs, help text, the case it opens


NAMED_FIRST = 1e9  # the score of opening a case the query names: above any fuzzy match
TICKET_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*-\d+")


RESOLVED_SHOWN = 2000  # the most recently changed resolved cases the palette searches


class CasewatchCommands(Provider):
    resolved: list[Case] = []  # read from the store when the palette opens (the board holds open cases only)

    async def startup(self) -> None:
        if self._opens_cases():
            try:
                self.resolved = await self.casewatch_app.store.listed_cases(Status.RESOLVED, newest=RESOLVED_SHOWN)
            except CasewatchError as exc:
                self.casewatch_app.notify(str(exc), title="Resolved cases not searched", severity="warning")

    def _opens_cases(self) -> bool:
        """Cases are offered on every full screen; a dialog is answered (or closed) first."""
        return not isinstance(self.screen, ModalScreen)

    @property
    def casewatch_app(self) -> CasewatchApp:
        """The app, typed (a Provider is not a DOM node, so `getters.app` does not apply)."""
        app = self.app
        if not isinstance(app, CasewatchApp):
            raise TypeError("the casewatch palette runs in the casewatch app")
        return app

    def _commands(self) -> Iterator[Command]:
        from casewatch.tui.screens.board import BoardScreen
        from casewatch.tui.screens.case_actions import ON_THE_CASE, CaseActions
        from casewatch.tui.screens.policy import PolicyScreen

        app, screen = self.casewatch_app, self.screen
        yield "Show severity policy", partial(app.push_screen, PolicyScreen()), "The active policy as TOML", None
        case = screen.selected_case() if isinstance(screen, CaseActions) else None
        offered: set[str] = set()
        for active in screen.active_bindings.values():  # by key: a binding with two keys (g, home) comes twice
            binding = active.binding
            if not binding.id or binding.action == "command_palette" or binding.id in offered \
                    or binding.action.startswith("saved_view"):
                continue  # Textual's own bindings (cursor keys, copy), this palette, one already offered, a view
            offered.add(binding.id)
            name = binding.tooltip or binding.description
            if case is not None and binding.id in ON_THE_CASE:
                name += f" ({case.id})"
            run = partial(app.run_action, binding.action, active.node)
            yield name, run, f"{app.get_key_display(binding)} · {binding.description}", None
        if isinstance(screen, BoardScreen):  # every saved view, those past F9 too
            for view in screen.saved_views:
                keys = f"{view.key.upper()} · " if view.key else ""
                yield f"View: {view.name}", partial(screen.show_saved_view, view), f"{keys}{view.query}", None
        if self._opens_cases():
            for case in app.state.cases.values():
                yield f"Open {case.id} {_listed(case)}", partial(app.open_case, case.id), "Open the case screen", \
                    case.id
            for case in self.resolved:
                yield f"Open {case.id} {_listed(case)} (resolved)", \
                    partial(app.open_case, case.id), "Open the resolved case (o reopens it there)", case.id

    def _highlight(self, matcher: Matcher, shown: str) -> Content:
        content = Content(shown)
        _score, offsets = matcher.fuzzy_search.match(matcher.query, shown)
        for offset in offsets:
            content = content.stylize(self.match_style or "reverse", offset, offset + 1)
        return content

    def _named(self, query: str) -> set[str]:
        """The cases a query names outright: by id (`cw-1061` too), by the ticket a case is linked to
        (`SUP-42`), or by a ticket key (`T-4821`) that stands as a word in the case's title, customer
        or summary."""
        word = query.strip()
        if not TICKET_KEY.fullmatch(word):
            return set()
        key = word.casefold()
        cases = [*self.casewatch_app.state.cases.values(), *self.resolved]
        named = {case.id for case in cases if case.id.casefold() == key
                 or (case.source is not None and key in (case.source.key.casefold(), case.source.id.casefold()))}
        if named:
            return named
        pattern = re.compile(rf"(?<![\w-]){re.escape(key)}(?![\w-])")
        return {case.id for case in cases
                if any(pattern.search(text.casefold()) for text in (case.title, case.customer, case.summary))}

    async def discover(self) -> Hits:
        for name, callback, help_text, _opens in self._commands():
            if not name.startswith("Open "):
                yield DiscoveryHit(Content(visible(name)), callback, text=visible(name), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(unseen_removed(query))
        named = self._named(unseen_removed(query)) if self._opens_cases() else set()
        for name, callback, help_text, opens in self._commands():
            score = NAMED_FIRST if opens in named else matcher.match(unseen_removed(name))
            if score > 0:
                shown = visible(name)
                yield Hit(score, self._highlight(matcher, shown), callback, text=shown, help=help_text)


def _listed(case: Case) -> str:
    """A case as the palette lists it: its ticket key (so typing the ticket's id finds it), title
    and customer, as stored (the search matches them without invisible characters and shows them
    escaped: a tracker's text may hold control characters)."""
    return f"{linked_title(case.source, case.title)} · {case.customer}"
