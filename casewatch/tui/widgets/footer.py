"""The footer of every casewatch screen: the keys that orient come first.

Textual's footer lists the focused widget's keys, then the screen's, then the app's, and cuts what
does not fit on the right: at 80 columns `?` (help) and `q` (quit, or back) were cut off. They
lead here, so they stay in view at any width; so does `u Undo` while an undo is offered.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

LEADING_ACTIONS = ("app.pop_screen", "dismiss", "quit", "help", "app.help", "undo")
"""Back (q or Esc on a screen over the board, or a dialog's), quit, help (the app's, or a dialog's own:
a dialog does not take the app's keys), and undo (shown only for the few seconds it is offered)."""


def _leading(key: object) -> int:
    if isinstance(key, FooterKey) and key.action in LEADING_ACTIONS:
        return LEADING_ACTIONS.index(key.action)
    return len(LEADING_ACTIONS)


class CasewatchFooter(Footer):
    def compose(self) -> ComposeResult:
        yield from sorted(super().compose(), key=_leading)  # stable: the rest keep their order
