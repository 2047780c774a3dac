"""Text fields whose paste keeps only what the field accepts.

Textual inserts a paste as it came, so an escape sequence copied from a terminal sat in the field
and reached the terminal again as the field was drawn, scrambling the screen. These fields drop what
the field would refuse anyway (`casewatch.core.text.pasted`) before Textual inserts the rest.
"""

from __future__ import annotations

from textual import events
from textual.keys import REPLACED_KEYS, key_to_character
from textual.widgets import Input, TextArea

from casewatch.core.text import pasted


class PlainInput(Input):
    """A one-line field: a paste gives its first line, without control or invisible characters."""

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # Input's own handler would insert the text as it came
        super()._on_paste(events.Paste(pasted(event.text, multiline=False)))
        event.stop()

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Every printable key is typed, `/` too. Textual 8.2.8 finds no character for the keys it
        renames (`slash`, `minus`, `at`…), so a screen's binding on one of them stayed in the footer
        over a field that types it (the board's `/ Filter` over the filter bar)."""
        return super().check_consume_key(key, character or key_to_character(REPLACED_KEYS.get(key, key)))


class PlainTextArea(TextArea):
    """A multi-line field: a paste keeps newlines and tabs, and drops other control characters."""

    async def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()
        await super()._on_paste(events.Paste(pasted(event.text, multiline=True)))
        event.stop()
