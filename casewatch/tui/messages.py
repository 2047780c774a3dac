"""Messages the app posts to its screens; tests assert on them too."""

from __future__ import annotations

from datetime import datetime

from textual.message import Message


class CasesChanged(Message):
    """Cases were added, changed or closed (by us or by another writer)."""

    def __init__(self, changed: frozenset[str], removed: frozenset[str], everything: bool = False):
        super().__init__()
        self.changed = changed
        self.removed = removed
        self.everything = everything  # the policy or roster changed: redraw all rows


class OutboxChanged(Message):
    """A write-back delivery moved on (sent, failed, refused, retried): a case screen reads its own again."""


class LeadChanged(Message):
    """Who leads the shift, or the handoff waiting, changed (the app's state holds the new view)."""


class ClockTick(Message):
    """One tick of the app-level clock; countdowns are recomputed as deadline minus `now`. `turned`:
    the cases whose clock states changed since the last tick (a view of breached cases takes them in)."""

    def __init__(self, now: datetime, turned: frozenset[str] = frozenset()):
        super().__init__()
        self.now = now
        self.turned = turned


class ActionDone(Message):
    """A write succeeded (`ok`) or was refused (`conflict` when the case had moved on, to
    `version`); `text` is what the user was told, `command` what was asked."""

    def __init__(self, ok: bool, text: str, case_id: str | None = None, *, command: object = None,
                 conflict: bool = False, version: int | None = None):
        super().__init__()
        self.ok = ok
        self.text = text
        self.case_id = case_id
        self.command = command
        self.conflict = conflict
        self.version = version


class BulkDone(Message):
    """A bulk action was written: `done` the cases it changed, `refused` each other case's reason."""

    def __init__(self, done: tuple[str, ...], refused: dict[str, str]):
        super().__init__()
        self.done = done
        self.refused = refused


class MarksChanged(Message):
    """The person's unread marks changed for these cases (opened, marked read): redraw their rows."""

    def __init__(self, case_ids: frozenset[str]):
        super().__init__()
        self.case_ids = case_ids
