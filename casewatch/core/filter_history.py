"""The filters a person used on the board, newest first, for `↑` and `↓` in the filter bar.

Kept per person in one small JSON file in the config folder (`{"dana": ["sev:1 is:unowned", …]}`):
looking at the board is not an event, so it never goes to the shared log. Reading and writing
the file is the TUI's (tui.filter_history); this is what it holds and how it is read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from casewatch.core.errors import InvalidInput

HISTORY_KEPT = 20


def remembered(history: Sequence[str], query: str, kept: int = HISTORY_KEPT) -> list[str]:
    """`history` with `query` as the newest (moved up if it was there); a blank one changes nothing."""
    query = query.strip()
    if not query:
        return list(history)
    return [query, *(earlier for earlier in history if earlier != query)][:kept]


def read_histories(text: str) -> dict[str, list[str]]:
    """The file's histories by person; InvalidInput (one line) when it is not such a file."""
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"not JSON ({exc})") from None
    if not isinstance(found, dict) or not all(
            isinstance(person, str) and isinstance(history, list) and all(isinstance(q, str) for q in history)
            for person, history in found.items()):
        raise InvalidInput('not a filter history (expected {"person": ["filter", …]})')
    return {person: history[:HISTORY_KEPT] for person, history in found.items()}


def histories_text(histories: dict[str, list[str]]) -> str:
    return json.dumps(histories, ensure_ascii=False, indent=1) + "\n"


class Recall:
    """`↑` and `↓` through earlier filters, from what is being typed: `↑` goes back one filter at
    a time, `↓` forward again, and past the newest to the text that was being typed."""

    def __init__(self, history: Sequence[str], typed: str):
        self.history = list(history)
        self.typed = typed
        self.at = -1  # -1: the text being typed; 0: the newest earlier filter

    def older(self) -> str | None:
        """The filter before the one shown, or None at the oldest. A filter the same as the typed
        text (the filter in force, which the bar opens with) is passed over both ways: `↑` and `↓`
        always change what the bar holds."""
        at = self.at + 1
        while at < len(self.history) and self.history[at] == self.typed:
            at += 1
        if at >= len(self.history):
            return None
        self.at = at
        return self.history[at]

    def newer(self) -> str | None:
        """The filter after the one shown (the typed text after the newest), or None when typing."""
        if self.at < 0:
            return None
        self.at -= 1
        while self.at >= 0 and self.history[self.at] == self.typed:
            self.at -= 1
        return self.typed if self.at < 0 else self.history[self.at]
