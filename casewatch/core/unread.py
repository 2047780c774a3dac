"""Unread marks: which cases someone else changed since this person last opened them.

Looking at a case is not an event, so "last seen" is kept per person on their machine (see
casewatch.local_marks), never in the shared log: the version of each case they last opened, and
`since`, when the marks began. A case they never opened counts as read if nobody else changed it
after `since` (a first start marks the whole board read as of then). What counts is the latest
change by someone else: the case's last change, or, when that one is the viewer's own, the one a
case keeps beside it (`Case.others_version`), so your own change never reads someone else's for you.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime

from casewatch.core.models import Case


@dataclass
class LastSeen:
    """One person's last look at each case of one database."""

    since: datetime
    versions: dict[str, int] = field(default_factory=dict)  # case id -> the version last opened

    def is_unread(self, case: Case, viewer: str) -> bool:
        if case.updated_by != viewer:
            version, at = case.version, case.updated_at
        elif case.others_at is not None:  # the last change is the viewer's own: the one before it by another
            version, at = case.others_version, case.others_at
        else:
            return False  # nobody else ever changed it
        seen = self.versions.get(case.id)
        return version > seen if seen is not None else at > self.since

    def saw(self, case: Case) -> bool:
        """The viewer opened (or marked read) the case as it is now; whether that changed anything."""
        if self.versions.get(case.id) == case.version:
            return False
        self.versions[case.id] = case.version
        return True

    def kept(self, open_ids: Set[str]) -> dict[str, int]:
        """What is worth writing down: the cases still open (a case reopened later counts from `since`)."""
        return {case_id: version for case_id, version in self.versions.items() if case_id in open_ids}


class Unread(Set[str]):
    """The ids of the unread cases among `cases`, read at each look-up (one dict look-up and a
    compare): what a filter's `is:unread` asks about a case at a time, with no pass over the board."""

    def __init__(self, cases: Mapping[str, Case], seen: LastSeen, viewer: str):
        self._cases, self._seen, self._viewer = cases, seen, viewer

    def __contains__(self, case_id: object) -> bool:
        case = self._cases.get(case_id) if isinstance(case_id, str) else None
        return case is not None and self._seen.is_unread(case, self._viewer)

    def __iter__(self) -> Iterator[str]:
        return (case_id for case_id in self._cases if case_id in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)
