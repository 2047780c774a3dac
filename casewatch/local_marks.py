"""One person's marks on their machine: what they last saw of each case (unread marks), the alerts
they acknowledged and the cases they snoozed. A small JSON file in the config folder
(`paths.marks_path`), one section per database, written whole and atomically.

A file that cannot be read is ignored (the caller says so once) and replaced at the next write:
marks are a convenience, never a reason for the board not to open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from casewatch import paths
from casewatch.core.alert_marks import AlertMarks, Snooze
from casewatch.core.errors import CasewatchError
from casewatch.core.models import Severity, iso_z, parse_timestamp
from casewatch.core.unread import LastSeen

FORMAT = 1


@dataclass
class LocalMarks:
    path: Path
    database: str  # the database's description (a path, or a URL without its password)
    seen: LastSeen
    alerts: AlertMarks = field(default_factory=AlertMarks)
    others: dict[str, Any] = field(default_factory=dict)  # the other databases' sections, kept as read
    fresh: bool = False  # no marks were kept for this database: they begin now (write them down)

    def save(self, open_ids: set[str] | frozenset[str], now: datetime) -> None:
        """Write the file (the marks of cases still open); CasewatchError when it cannot be written."""
        alerts = self.alerts.kept(open_ids, now)
        section = {
            "since": iso_z(self.seen.since), "seen": self.seen.kept(open_ids),
            "acknowledged": sorted(alerts.acknowledged),
            "snoozed": {case_id: {"until": iso_z(s.until), "severity": s.severity.value}
                        for case_id, s in alerts.snoozed.items()},
        }
        text = json.dumps({"format": FORMAT, "databases": {**self.others, self.database: section}}, indent=1)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(self.path.name + ".partial")
            partial.write_text(text + "\n", encoding="utf-8")
            partial.replace(self.path)  # nothing half-written
        except OSError as exc:
            raise CasewatchError(f"cannot write {self.path}: {exc.strerror or exc}") from None


def load_marks(person: str, database: str, now: datetime, path: Path | None = None) -> tuple[LocalMarks, str | None]:
    """The person's marks on this database, and why the file was ignored (None: it was fine or
    absent). With no marks yet, everything counts as read as of `now`."""
    path = path or paths.marks_path(person)
    sections, problem = _read(path)
    others = {name: section for name, section in sections.items() if name != database}
    try:
        seen, alerts = _section(sections.get(database), now)
    except (KeyError, TypeError, ValueError, AttributeError, CasewatchError) as exc:
        seen, alerts, problem = LastSeen(since=now), AlertMarks(), f"{path}: its {database} section is damaged ({exc})"
    if problem is not None:
        problem += "; unread marks start again from now"
    fresh = problem is not None or database not in sections
    return LocalMarks(path, database, seen, alerts, others, fresh), problem


def read_seen(person: str, database: str, path: Path | None = None) -> tuple[LastSeen | None, str | None]:
    """For `casewatch cases`: the person's last looks on this database (None: no marks kept yet),
    and why the file was ignored. Nothing is written."""
    path = path or paths.marks_path(person)
    sections, problem = _read(path)
    if database not in sections:
        return None, problem
    try:
        return _section(sections[database], None)[0], None
    except (KeyError, TypeError, ValueError, AttributeError, CasewatchError) as exc:
        return None, f"{path}: its {database} section is damaged ({exc})"


def _read(path: Path) -> tuple[dict[str, Any], str | None]:
    if not path.exists():
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, f"{path} could not be read ({type(exc).__name__}), so it was ignored"
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("databases"), dict):
        return {}, f"{path} is not a casewatch marks file, so it was ignored"
    return data["databases"], None


def _section(section: Any, now: datetime | None) -> tuple[LastSeen, AlertMarks]:
    if section is None:
        assert now is not None  # (read_seen looks up present sections only)
        return LastSeen(since=now), AlertMarks()
    seen = LastSeen(since=parse_timestamp(section["since"]),
                    versions={str(case_id): int(version) for case_id, version in section.get("seen", {}).items()})
    snoozed = {str(case_id): Snooze(parse_timestamp(s["until"]), Severity(s["severity"]))
               for case_id, s in section.get("snoozed", {}).items()}
    acknowledged = {str(key) for key in section.get("acknowledged", [])}
    return seen, AlertMarks(acknowledged, snoozed)

