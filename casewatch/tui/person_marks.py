"""The app's keeper of the acting person's marks on this machine (casewatch.local_marks): unread
marks, acknowledged alerts, snoozed cases. Screens ask it; each change is written at once, and
screens hear which cases to redraw (`MarksChanged`). A file that cannot be read or written is said
once in a notice; the board works on without it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from datetime import UTC, datetime, timedelta

from casewatch.core.alert_marks import AlertMarks, alert_key
from casewatch.core.alerts import Alert
from casewatch.core.errors import CasewatchError
from casewatch.core.models import Case
from casewatch.core.unread import LastSeen, Unread
from casewatch.local_marks import LocalMarks, load_marks
from casewatch.tui.state import AppState

Say = Callable[[str, str], None]  # (text, title): a warning notice


class PersonMarks:
    def __init__(self, state: AppState, viewer: str, say: Say, kept: LocalMarks | None = None):
        """`kept` None: nothing unread and nothing written (a replay, the wall); acks and snoozes in memory."""
        self._state, self._viewer, self._say = state, viewer, say
        self._kept = kept
        self.seen = kept.seen if kept else LastSeen(since=datetime.max.replace(tzinfo=UTC))
        self.alerts = kept.alerts if kept else AlertMarks()
        self._failed = False
        self._unread = Unread(state.cases, self.seen, viewer)

    @classmethod
    def load(cls, state: AppState, viewer: str, database: str, now: datetime, say: Say) -> PersonMarks:
        """The person's marks (with none yet, every case counts as read as of `now`, written down at once)."""
        kept, problem = load_marks(viewer, database, now)
        if problem is not None:
            say(problem, "Marks ignored")
        marks = cls(state, viewer, say, kept)
        if kept.fresh:
            marks._write(now)
        return marks

    # ---------------------------------------------------------------- unread

    @property
    def unread(self) -> Set[str]:
        """Which cases are unread, looked up one at a time (`is:unread`): one object for the app's
        life, reading the cases and the marks as they are at each look-up."""
        return self._unread

    def is_unread(self, case: Case) -> bool:
        return self.seen.is_unread(case, self._viewer)

    def saw(self, case_ids: Iterable[str], now: datetime) -> list[str]:
        """The person opened these cases (or marked them read) as they are now: the ids whose mark went."""
        cases = self._state.cases
        gone = [case_id for case_id in case_ids if case_id in cases and self.is_unread(cases[case_id])]
        changed = [case_id for case_id in case_ids if case_id in cases and self.seen.saw(cases[case_id])]
        if changed:
            self._write(now)
        return gone

    # ---------------------------------------------------------------- alerts

    def rings(self, alert: Alert, now: datetime) -> bool:
        """Not while its case is snoozed (a snooze its case's severity rise ended is forgotten)."""
        snoozes = len(self.alerts.snoozed)
        ringing = self.alerts.rings(alert, now)
        if len(self.alerts.snoozed) != snoozes:
            self._write(now)
        return ringing

    def acknowledged(self, alert: Alert) -> bool:
        return alert_key(alert) in self.alerts.acknowledged

    def acknowledge(self, alert: Alert, now: datetime) -> None:
        self.alerts.acknowledged.add(alert_key(alert))
        self._write(now)

    def snooze(self, case: Case, length: timedelta, now: datetime) -> datetime:
        until = self.alerts.snooze(case.id, case.severity, now, length).until
        self._write(now)
        return until

    def snoozed_until(self, case_id: str, now: datetime) -> datetime | None:
        snooze = self.alerts.snoozed.get(case_id)
        return snooze.until if snooze is not None and snooze.until > now else None

    # ----------------------------------------------------------------- file

    def _write(self, now: datetime) -> None:
        if self._kept is None:
            return
        try:
            self._kept.save(set(self._state.cases), now)
            self._failed = False
        except CasewatchError as exc:
            if not self._failed:  # once, until it works again
                self._failed = True
                self._say(f"{exc}; unread marks, acknowledgements and snoozes are kept until the board closes",
                          "Marks not saved")
