"""The severity policy: what each severity changes in the workflow, as team-owned TOML data.

`parse_policy` validates a whole file and reports every problem with the line (where it can be
found) and the key; `Policy` is the validated, immutable result with compiled calendars.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import NamedTuple

import holidays as holiday_data

from casewatch.core.calendars import ALWAYS, ONE_US, WEEKDAYS, BusinessCalendar, WorkingTime, parse_hours
from casewatch.core.durations import format_duration, parse_duration
from casewatch.core.errors import CasewatchError, PolicyInvalid
from casewatch.core.models import Severity, check_zone, parse_route

SEVERITY_KEYS = {
    "label", "owner_within", "customer_update_every", "internal_review_every", "route",
    "must_involve", "calendar", "pause_updates_while_waiting", "warn_at",
}
REQUIRED_SEVERITY_KEYS = ("owner_within", "customer_update_every", "internal_review_every", "route")
CALENDAR_KEYS = {"timezone", "days", "hours", "holidays", "holidays_country"}

DEFAULT_POLICY_TOML = """\
# casewatch severity policy. Durations: a number with s, m, h or d (d = 24 h).
# Under a business calendar a duration counts working time only.

[severities.SEV1]
label = "Critical"
owner_within = "15m"            # time to a named internal owner
customer_update_every = "20m"   # PagerDuty: at least every 20 min early in a major incident
internal_review_every = "1h"
route = "incident"
must_involve = ["lead", "incident-commander"]
calendar = "24x7"
pause_updates_while_waiting = false
warn_at = 0.25

[severities.SEV2]
label = "High"
owner_within = "30m"            # Zendesk sample SLA: 30 min first response for high
customer_update_every = "1h"
internal_review_every = "4h"
route = "support"
must_involve = ["lead"]
calendar = "24x7"
pause_updates_while_waiting = false
warn_at = 0.25

[severities.SEV3]
label = "Normal"
owner_within = "4h"
customer_update_every = "8h"     # one business day
internal_review_every = "16h"
route = "support"
must_involve = []
calendar = "business"
pause_updates_while_waiting = true
warn_at = 0.2

[severities.SEV4]
label = "Low"
owner_within = "8h"
customer_update_every = "24h"    # three business days
internal_review_every = "40h"
route = "support"
must_involve = []
calendar = "business"
pause_updates_while_waiting = true
warn_at = 0.2

[calendars.business]
timezone = "UTC"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00-17:00"]
holidays = []
"""


@dataclass(frozen=True)
class CalendarSpec:
    name: str
    timezone: str
    days: tuple[str, ...]
    hours: tuple[tuple[int, int], ...]
    holidays: tuple[date, ...] = ()
    holidays_country: str | None = None

    def compile(self) -> BusinessCalendar:
        return BusinessCalendar(
            self.name, self.timezone, list(self.days), list(self.hours), list(self.holidays), self.holidays_country
        )


@dataclass(frozen=True)
class SeverityPolicy:
    severity: Severity
    label: str
    owner_within: timedelta
    customer_update_every: timedelta
    internal_review_every: timedelta
    route: str
    must_involve: tuple[str, ...] = ()
    calendar: str = ALWAYS
    pause_updates_while_waiting: bool = False
    warn_at: float = 0.25


class Timing(NamedTuple):
    calendar: WorkingTime
    owner_us: int
    update_us: int
    review_us: int
    warn_at: float
    pause_while_waiting: bool


@dataclass(frozen=True)
class Policy:
    """A validated policy. `version` is its number in the database (0 when not stored yet)."""

    severities: dict[Severity, SeverityPolicy]
    calendars: dict[str, CalendarSpec] = field(default_factory=dict)
    version: int = 0
    source: str = ""

    def __getitem__(self, severity: Severity) -> SeverityPolicy:
        return self.severities[severity]

    @cached_property
    def _compiled(self) -> dict[str, WorkingTime]:
        compiled: dict[str, WorkingTime] = {ALWAYS: WorkingTime()}
        compiled.update({name: spec.compile() for name, spec in self.calendars.items()})
        return compiled

    def calendar_for(self, severity: Severity) -> WorkingTime:
        return self._compiled[self.severities[severity].calendar]

    @cached_property
    def timings(self) -> dict[Severity, Timing]:
        """Per severity, what the clocks need in integer microseconds: computed once per policy."""
        return {
            sev: Timing(
                calendar=self._compiled[sp.calendar],
                owner_us=sp.owner_within // ONE_US,
                update_us=sp.customer_update_every // ONE_US,
                review_us=sp.internal_review_every // ONE_US,
                warn_at=sp.warn_at,
                pause_while_waiting=sp.pause_updates_while_waiting,
            )
            for sev, sp in self.severities.items()
        }

    def to_toml(self) -> str:
        """The policy as TOML; the stored source when there is one, so comments survive."""
        return self.source or render_policy(self)


def render_policy(policy: Policy) -> str:
    lines: list[str] = []
    for sev, sp in sorted(policy.severities.items()):
        roles = ", ".join(f'"{r}"' for r in sp.must_involve)
        lines += [
            f"[severities.{sev.value}]",
            f'label = "{sp.label}"',
            f'owner_within = "{format_duration(sp.owner_within)}"',
            f'customer_update_every = "{format_duration(sp.customer_update_every)}"',
            f'internal_review_every = "{format_duration(sp.internal_review_every)}"',
            f'route = "{sp.route}"',
            f"must_involve = [{roles}]",
            f'calendar = "{sp.calendar}"',
            f"pause_updates_while_waiting = {'true' if sp.pause_updates_while_waiting else 'false'}",
            f"warn_at = {sp.warn_at}",
            "",
        ]
    for name, cal in sorted(policy.calendars.items()):
        hours = ", ".join(f'"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"' for s, e in cal.hours)
        lines += [
            f"[calendars.{name}]",
            f'timezone = "{cal.timezone}"',
            "days = [" + ", ".join(f'"{d}"' for d in cal.days) + "]",
            f"hours = [{hours}]",
            "holidays = [" + ", ".join(f'"{d.isoformat()}"' for d in cal.holidays) + "]",
        ]
        if cal.holidays_country:
            lines.append(f'holidays_country = "{cal.holidays_country}"')
        lines.append("")
    return "\n".join(lines)


class _Problems:
    """Collects problems, each prefixed with the source name and, where found, the line."""

    def __init__(self, source_name: str, text: str):
        self.source_name = source_name
        self.lines = text.splitlines()
        self.items: list[str] = []

    def add(self, path: list[str], message: str) -> None:
        where = self.source_name
        line = self._locate(path)
        if line:
            where += f":{line}"
        self.items.append(f"{where}: {'.'.join(path)}: {message}" if path else f"{where}: {message}")

    def _locate(self, path: list[str]) -> int | None:
        """Best-effort line of a key: its [table] header, then the key inside that table."""
        if not path:
            return None
        header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(p) for p in path[:2]) + r"\s*\]")
        for i, text in enumerate(self.lines):
            if header.match(text):
                if len(path) <= 2:
                    return i + 1
                key = re.compile(r"^\s*" + re.escape(path[2]) + r"\s*=")
                for j in range(i + 1, len(self.lines)):
                    if self.lines[j].lstrip().startswith("["):
                        break
                    if key.match(self.lines[j]):
                        return j + 1
                return i + 1
        return None


def parse_policy(text: str, source_name: str = "policy") -> Policy:
    """Validate a TOML policy; raise PolicyInvalid listing every problem found."""
    problems = _Problems(source_name, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyInvalid([f"{source_name}: not valid TOML: {exc}"]) from None

    for key in data:
        if key not in ("severities", "calendars"):
            problems.add([key], "unknown key (expected [severities.*] and [calendars.*] tables)")
    calendars = _parse_calendars(data.get("calendars", {}), problems)
    raw_calendars = data.get("calendars", {})
    declared = set(raw_calendars) if isinstance(raw_calendars, dict) else set()
    severities = _parse_severities(data.get("severities"), calendars, declared, problems)
    if problems.items:
        raise PolicyInvalid(problems.items)
    return Policy(severities=severities, calendars=calendars, source=text)


def _parse_calendars(raw: object, problems: _Problems) -> dict[str, CalendarSpec]:
    if not isinstance(raw, dict):
        problems.add(["calendars"], "must be a table of calendars")
        return {}
    calendars = {}
    for name, body in raw.items():
        path = ["calendars", name]
        if name == ALWAYS:
            problems.add(path, f"{ALWAYS!r} is built in and cannot be redefined")
            continue
        if not isinstance(body, dict):
            problems.add(path, "must be a table")
            continue
        before = len(problems.items)
        for key in body:
            if key not in CALENDAR_KEYS:
                problems.add(path + [key], f"unknown key (expected one of {', '.join(sorted(CALENDAR_KEYS))})")
        zone = body.get("timezone")
        if not isinstance(zone, str):
            problems.add(path + ["timezone"], "required: an IANA zone such as America/New_York")
        else:
            try:
                check_zone(zone)
            except CasewatchError as exc:
                problems.add(path + ["timezone"], str(exc))
        days = body.get("days", ["mon", "tue", "wed", "thu", "fri"])
        if not isinstance(days, list) or not all(isinstance(d, str) and d.lower() in WEEKDAYS for d in days):
            problems.add(path + ["days"], f"must be a list of {', '.join(WEEKDAYS)}")
            days = []
        days = [d.lower() for d in days]
        if len(set(days)) != len(days):
            problems.add(path + ["days"], "a day is listed twice")
        hours = _parse_hour_ranges(body.get("hours"), path + ["hours"], problems)
        holidays = _parse_holidays(body.get("holidays", []), path + ["holidays"], problems)
        country = body.get("holidays_country")
        if country is not None:
            if not isinstance(country, str) or country.upper() not in holiday_data.list_supported_countries():
                problems.add(path + ["holidays_country"],
                             f"unknown holiday country {country!r} (use an ISO code such as US or DE)")
                country = None
            else:
                country = country.upper()
        if len(problems.items) == before:
            if not days or not hours:
                problems.add(path, "has zero working hours in a week")
                continue
            calendars[name] = CalendarSpec(name, zone, tuple(days), tuple(hours), tuple(holidays), country)
    return calendars


def _parse_hour_ranges(raw: object, path: list[str], problems: _Problems) -> list[tuple[int, int]]:
    if not isinstance(raw, list) or not raw:
        problems.add(path, 'required: a non-empty list such as ["09:00-17:00"]')
        return []
    ranges = []
    for item in raw:
        try:
            ranges.append(parse_hours(item))
        except ValueError as exc:
            problems.add(path, str(exc))
    ranges.sort()
    for (s1, e1), (s2, e2) in zip(ranges, ranges[1:], strict=False):
        if s2 < e1:
            problems.add(path, f"overlapping hours {s1 // 60:02d}:{s1 % 60:02d}-{e1 // 60:02d}:{e1 % 60:02d} "
                               f"and {s2 // 60:02d}:{s2 % 60:02d}-{e2 // 60:02d}:{e2 % 60:02d}")
    return ranges


def _parse_holidays(raw: object, path: list[str], problems: _Problems) -> list[date]:
    if not isinstance(raw, list):
        problems.add(path, 'must be a list of dates such as ["2026-12-25"]')
        return []
    days = []
    for item in raw:
        if isinstance(item, date) and not hasattr(item, "hour"):
            days.append(item)
            continue
        try:
            days.append(date.fromisoformat(item))
        except (TypeError, ValueError):
            problems.add(path, f"bad date {item!r}: expected YYYY-MM-DD")
    return days


def _parse_severities(
    raw: object, calendars: dict[str, CalendarSpec], declared: set[str], problems: _Problems
) -> dict[Severity, SeverityPolicy]:
    """Severities; a calendar that is declared but invalid was reported already, so skip it here."""
    if not isinstance(raw, dict):
        problems.add(["severities"], "required: a [severities.SEV1] … [severities.SEV4] table each")
        return {}
    result = {}
    for name in raw:
        if name not in Severity.__members__:
            problems.add(["severities", name], "unknown severity (expected SEV1, SEV2, SEV3 or SEV4)")
    for severity in Severity:
        path = ["severities", severity.value]
        body = raw.get(severity.value)
        if body is None:
            problems.add(path, "missing: every severity SEV1–SEV4 needs a policy")
            continue
        if not isinstance(body, dict):
            problems.add(path, "must be a table")
            continue
        before = len(problems.items)
        for key in body:
            if key not in SEVERITY_KEYS:
                problems.add(path + [key], f"unknown key (expected one of {', '.join(sorted(SEVERITY_KEYS))})")
        for key in REQUIRED_SEVERITY_KEYS:
            if key not in body:
                problems.add(path + [key], "required field is missing")
        durations = {}
        for key in ("owner_within", "customer_update_every", "internal_review_every"):
            if key in body:
                try:
                    durations[key] = parse_duration(body[key])
                except CasewatchError as exc:
                    problems.add(path + [key], str(exc))
        route = body.get("route")
        if route is not None:
            try:
                route = parse_route(route)
            except CasewatchError as exc:
                problems.add(path + ["route"], str(exc))
        involve = body.get("must_involve", [])
        if not isinstance(involve, list) or not all(isinstance(r, str) and r.strip() for r in involve):
            problems.add(path + ["must_involve"], "must be a list of role names")
            involve = []
        calendar = body.get("calendar", ALWAYS)
        if not isinstance(calendar, str) or (calendar != ALWAYS and calendar not in declared):
            problems.add(path + ["calendar"], f"calendar {calendar!r} is referenced but not defined")
        calendar_broken = isinstance(calendar, str) and calendar in declared and calendar not in calendars
        pause = body.get("pause_updates_while_waiting", False)
        if not isinstance(pause, bool):
            problems.add(path + ["pause_updates_while_waiting"], "must be true or false")
        warn_at = body.get("warn_at", 0.25)
        if isinstance(warn_at, bool) or not isinstance(warn_at, (int, float)) or not 0 <= warn_at <= 1:
            problems.add(path + ["warn_at"], f"must be a number from 0 to 1, got {warn_at!r}")
        label = body.get("label", severity.value)
        if not isinstance(label, str):
            problems.add(path + ["label"], "must be a string")
        if len(problems.items) == before and not calendar_broken:
            result[severity] = SeverityPolicy(
                severity=severity,
                label=label,
                owner_within=durations["owner_within"],
                customer_update_every=durations["customer_update_every"],
                internal_review_every=durations["internal_review_every"],
                route=route,
                must_involve=tuple(r.strip() for r in involve),
                calendar=calendar,
                pause_updates_while_waiting=pause,
                warn_at=float(warn_at),
            )
    return result


def default_policy() -> Policy:
    return parse_policy(DEFAULT_POLICY_TOML, "default policy")
