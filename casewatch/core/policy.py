"""The severity policy: what each severity changes in the workflow, as team-owned TOML data.

The file's tables are pydantic models (`PolicyFile`); `parse_policy` validates a whole file and
reports every problem as `file:line: key.path: what is wrong` (core/toml_file.py). `Policy` is the
validated, immutable result with compiled calendars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from string import Formatter
from typing import Annotated, Any, NamedTuple

from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, ValidationInfo, model_validator

from casewatch.core.calendars import (
    ALWAYS,
    ONE_US,
    WEEKDAYS,
    BusinessCalendar,
    WorkingTime,
    parse_hours,
    to_us,
)
from casewatch.core.durations import format_countdown, parse_duration
from casewatch.core.errors import PolicyInvalid
from casewatch.core.evidence import DEFAULT_ITEMS, LEGACY_KEYS, ChecklistItem, render_checklist
from casewatch.core.models import Severity, check_zone, parse_route
from casewatch.core.text import LIMITS, check_team, text_problem
from casewatch.core.toml_file import MAX_FILE_BYTES, TomlTable, load_toml, locate, problem, rule, string, validate

DEFAULT_CAUSES = ("product-defect", "configuration", "infrastructure", "integration", "account-specific",
                  "user-error", "unknown")
"""The root-cause categories of a post-case review, unless the policy lists its own in `causes`."""

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
""" + render_checklist(DEFAULT_ITEMS) + """
# The root causes a post-case review (`casewatch case close --cause`) may name.
[review]
causes = [""" + ", ".join(f'"{cause}"' for cause in DEFAULT_CAUSES) + """]
"""


WORKDAYS = WEEKDAYS[:5]
ZONE_REQUIRED = "required: an IANA zone such as America/New_York"
HOURS_REQUIRED = 'required: a non-empty list such as ["09:00-17:00"]'
_ITEM_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def _zone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(ZONE_REQUIRED)
    return check_zone(value)


def _weekdays(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(d, str) and d.lower() in WEEKDAYS for d in value):
        raise ValueError(f"must be a list of {', '.join(WEEKDAYS)}")
    days = tuple(d.lower() for d in value)
    if len(set(days)) != len(days):
        raise ValueError("a day is listed twice")
    return days


def _hours_list(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise problem(HOURS_REQUIRED)
    return value


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _without_overlaps(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    ordered = tuple(sorted(ranges))
    for (s1, e1), (s2, e2) in zip(ordered, ordered[1:], strict=False):
        if s2 < e1:
            raise problem(f"overlapping hours {_hhmm(s1)}-{_hhmm(e1)} and {_hhmm(s2)}-{_hhmm(e2)}")
    return ordered


def _dates_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise problem('must be a list of dates such as ["2026-12-25"]')
    return value


def _holiday(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"bad date {value!r}: expected YYYY-MM-DD") from None


def _holiday_country(value: Any) -> str:
    import holidays as holiday_data  # only for a policy that names a country (see core.calendars)

    if not isinstance(value, str) or value.upper() not in holiday_data.list_supported_countries():
        raise ValueError(f"unknown holiday country {value!r} (use an ISO code such as US or DE)")
    return value.upper()


def _not_built_in(name: str) -> str:
    if name == ALWAYS:
        raise ValueError(f"{ALWAYS!r} is built in and cannot be redefined")
    return name


HoursRange = Annotated[tuple[int, int], rule(parse_hours)]
Holiday = Annotated[date, rule(_holiday)]
CalendarName = Annotated[str, rule(_not_built_in)]


class CalendarSpec(TomlTable):
    """[calendars.<name>]: a business calendar that durations can count in."""

    timezone: Annotated[str, rule(_zone)]
    days: Annotated[tuple[str, ...], rule(_weekdays)] = WORKDAYS
    hours: Annotated[tuple[HoursRange, ...], BeforeValidator(_hours_list), AfterValidator(_without_overlaps)]
    holidays: Annotated[tuple[Holiday, ...], BeforeValidator(_dates_list)] = ()
    holidays_country: Annotated[str | None, rule(_holiday_country)] = None

    @model_validator(mode="after")
    def _works_some_time(self) -> CalendarSpec:
        if not self.days:
            raise problem("has zero working hours in a week")
        return self

    @classmethod
    def explain(cls, kind: str, key: str) -> str:
        if kind == "missing" and key in ("timezone", "hours"):
            return ZONE_REQUIRED if key == "timezone" else HOURS_REQUIRED
        return super().explain(kind, key)

    def compile(self, name: str) -> BusinessCalendar:
        return BusinessCalendar(name, self.timezone, self.days, self.hours, self.holidays, self.holidays_country)


def _new(info: ValidationInfo) -> bool:
    """A policy being checked or applied, not one stored earlier: that one is read back as it was
    written (and shown through `visible`), so a rule added later never locks a database out."""
    return bool((info.context or {}).get("new"))


def _typed(limit: int, *, multiline: bool = False) -> PlainValidator:
    """Text of a policy (a label, a hint) under the rules of typed text (core.text) and `limit`."""

    def check(value: Any, info: ValidationInfo) -> str:
        try:
            text = string(value)
        except ValueError as exc:
            raise problem(str(exc)) from None
        found = text_problem(text, multiline=multiline, limit=limit) if _new(info) else None
        if found is not None:
            raise problem(found)
        return text

    return PlainValidator(check)


Label = Annotated[str, _typed(LIMITS["policy label"])]
Hint = Annotated[str, _typed(LIMITS["policy hint"], multiline=True)]


def _roles(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(r, str) and r.strip() for r in value):
        raise problem("must be a list of role names")
    for role in value:
        found = text_problem(role.strip(), limit=LIMITS["role"]) if _new(info) else None
        if found is not None:
            raise problem(f"role {role.strip()[:LIMITS['role']]!r}: {found}")
    return tuple(r.strip() for r in value)


def _declared_calendar(value: Any, info: ValidationInfo) -> str:
    """ALWAYS or a calendar the file declares (valid or not: an invalid one is reported where it is)."""
    declared = (info.context or {}).get("calendars", set())
    if not isinstance(value, str) or (value != ALWAYS and value not in declared):
        raise problem(f"calendar {value!r} is referenced but not defined")
    return value


def _true_or_false(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"must be a number from 0 to 1, got {value!r}")
    return float(value)


Duration = Annotated[timedelta, rule(parse_duration)]


class SeverityPolicy(TomlTable):
    """[severities.SEVn]: the clocks, the route and the roles a severity brings."""

    label: Label  # defaults to the severity's name (see Severities)
    owner_within: Duration
    customer_update_every: Duration
    internal_review_every: Duration
    route: Annotated[str, rule(parse_route)]
    must_involve: Annotated[tuple[str, ...], PlainValidator(_roles)] = ()
    calendar: Annotated[str, PlainValidator(_declared_calendar)] = ALWAYS
    pause_updates_while_waiting: Annotated[bool, rule(_true_or_false)] = False
    warn_at: Annotated[float, rule(_fraction)] = 0.25
    shift_lead_is_lead: Annotated[bool, rule(_true_or_false)] = True  # the shift lead fills must_involve's "lead"


_SEVERITY_NAMES = [s.value for s in Severity]


class Severities(TomlTable):
    """[severities.SEV1] … [severities.SEV4]: every severity needs a policy (one field per `Severity`)."""

    SEV1: SeverityPolicy
    SEV2: SeverityPolicy
    SEV3: SeverityPolicy
    SEV4: SeverityPolicy

    @model_validator(mode="before")
    @classmethod
    def _label_defaults_to_the_name(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {name: {"label": name, **body} if isinstance(body, dict) else body for name, body in data.items()}

    @classmethod
    def explain(cls, kind: str, key: str) -> str:
        if kind == "unknown":
            return f"unknown severity (expected {', '.join(_SEVERITY_NAMES[:-1])} or {_SEVERITY_NAMES[-1]})"
        if kind == "missing":
            return f"missing: every severity {_SEVERITY_NAMES[0]}–{_SEVERITY_NAMES[-1]} needs a policy"
        return super().explain(kind, key)

    def by_severity(self) -> dict[Severity, SeverityPolicy]:
        return {severity: getattr(self, severity.value) for severity in Severity}


def _item_key(value: Any) -> str:
    if not isinstance(value, str) or not _ITEM_KEY.match(value):
        raise ValueError(f"bad item key {value!r}: use lower-case letters, digits and '_'")
    if value in LEGACY_KEYS:
        raise ValueError(f"{value!r} is the old name of {LEGACY_KEYS[value]!r}: use that key")
    return value


def _teams(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('must be a list of team names such as ["database", "network"]')
    return tuple(check_team(v.strip()) for v in value)


def _severity_names(value: Any) -> tuple[Severity, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of severities such as [{', '.join(repr(s) for s in _SEVERITY_NAMES)}]")
    return tuple(Severity.parse(v) for v in value)


def _route_patterns(value: Any) -> tuple[str, ...]:
    """Routes, or patterns such as "specialist:*" (any specialist team)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('must be a list of routes such as ["specialist:database"]')
    for route in value:
        parse_route(route.replace("*", "x"))
    return tuple(route.strip().lower() for route in value)


class EvidenceItemSpec(TomlTable):
    """One [[evidence.items]] entry: an item every case's checklist has, and when it is required."""

    key: Annotated[str, rule(_item_key)]
    label: Label
    hint: Hint = ""
    required_for: Annotated[tuple[Severity, ...], rule(_severity_names)] = tuple(Severity)
    required_for_routes: Annotated[tuple[str, ...], rule(_route_patterns)] = ()

    def item(self) -> ChecklistItem:
        return ChecklistItem(self.key, self.label, self.hint, self.required_for, self.required_for_routes)


class EvidenceSection(TomlTable):
    """[evidence]: the checklist template, in the order the editor and the packet show it."""

    items: tuple[EvidenceItemSpec, ...]

    @model_validator(mode="after")
    def _keys_once(self) -> EvidenceSection:
        keys = [spec.key for spec in self.items]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise problem(f"item key {twice[0]!r} is listed twice")
        if not keys:
            raise problem("needs at least one [[evidence.items]] entry")
        return self


CAUSE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


def _causes(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
        raise ValueError("must be a non-empty list of cause names, e.g. [\"product-defect\", \"unknown\"]")
    bad = next((c for c in value if not CAUSE.fullmatch(c)), None)
    if bad is not None:
        raise ValueError(f"cause {bad!r} must be lower-case letters, digits and hyphens, e.g. \"user-error\"")
    twice = sorted({c for c in value if value.count(c) > 1})
    if twice:
        raise ValueError(f"cause {twice[0]!r} is listed twice")
    return tuple(value)


class ReviewSection(TomlTable):
    """[review]: what a post-case review may say."""

    causes: Annotated[tuple[str, ...], rule(_causes)] = DEFAULT_CAUSES


PLACEHOLDERS = ("customer", "title", "severity", "next_update_local", "ticket")
"""What a customer-update template may name, in braces: `{customer}` (see core.templates)."""


def _template_text(value: Any, info: ValidationInfo) -> str:
    """A template field: typed text whose `{placeholders}` are all known (`{{` and `}}` are braces)."""
    try:
        text = string(value)
        fields = [(name, conversion, spec) for _, name, spec, conversion in Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise problem(f"{exc} (a literal brace is written twice: {{{{ or }}}})") from None
    for name, conversion, spec in fields:
        if name not in PLACEHOLDERS or conversion or spec:
            raise problem(f"unknown placeholder {{{name}}}: use {', '.join(f'{{{p}}}' for p in PLACEHOLDERS)}")
    found = text_problem(text, multiline=True, limit=LIMITS["long text"]) if _new(info) else None
    if found is not None:
        raise problem(found)
    return text


TemplateText = Annotated[str, PlainValidator(_template_text)]


class TemplateSpec(TomlTable):
    """One [[templates]] entry: a customer update's three texts, offered for these severities."""

    name: Label
    severities: Annotated[tuple[Severity, ...], rule(_severity_names)] = tuple(Severity)
    known: TemplateText = ""
    investigating: TemplateText = ""
    next_milestone: TemplateText = ""


def _names_once(templates: tuple[TemplateSpec, ...]) -> tuple[TemplateSpec, ...]:
    names = [template.name.strip().casefold() for template in templates]
    twice = next((template.name for template, name in zip(templates, names, strict=True) if names.count(name) > 1),
                 None)
    if twice is not None:
        raise problem(f"template name {twice!r} is used twice")
    if any(not name for name in names):
        raise problem("a template needs a name")
    return templates


class PolicyFile(TomlTable):
    """The whole file: a policy per severity, the business calendars they count in, the
    evidence checklist (the built-in one when the file has no [evidence] table), the specialist
    teams a route may name besides those of the roster (`teams = [...]`, before the tables), and the
    causes a post-case review may name ([review]), and the customer-update templates ([[templates]])."""

    teams: Annotated[tuple[str, ...], rule(_teams)] = ()
    severities: Severities
    calendars: dict[CalendarName, CalendarSpec] = Field(default_factory=dict)
    evidence: EvidenceSection | None = None
    review: ReviewSection = Field(default_factory=ReviewSection)
    templates: Annotated[tuple[TemplateSpec, ...], AfterValidator(_names_once)] = ()

    @classmethod
    def explain(cls, kind: str, key: str) -> str:
        if kind == "unknown":
            tables = " and ".join(f"[{name}.*]" for name in cls.model_fields if name != "teams")
            return f"unknown key (expected teams = [...] and {tables} tables)"
        if key == "severities":
            return f"required: a [severities.{_SEVERITY_NAMES[0]}] … [severities.{_SEVERITY_NAMES[-1]}] table each"
        if key == "calendars":
            return "must be a table of calendars"
        return super().explain(kind, key)


class Timing(NamedTuple):
    calendar: WorkingTime
    owner_us: int
    update_us: int
    review_us: int
    warn_at: float
    pause_while_waiting: bool


@dataclass(frozen=True)
class Policy:
    """A validated policy: the TOML `source` it was read from and its `version` in the database
    (0 when not stored yet)."""

    severities: dict[Severity, SeverityPolicy]
    calendars: dict[str, CalendarSpec]
    source: str
    version: int = 0
    evidence: tuple[ChecklistItem, ...] = DEFAULT_ITEMS  # the evidence checklist template
    causes: tuple[str, ...] = DEFAULT_CAUSES  # the categories a post-case review may name
    teams: tuple[str, ...] = ()  # specialist teams a route may name besides the roster's
    templates: tuple[TemplateSpec, ...] = ()  # customer-update templates ([[templates]])

    def __getitem__(self, severity: Severity) -> SeverityPolicy:
        return self.severities[severity]

    @cached_property
    def _compiled(self) -> dict[str, WorkingTime]:
        compiled: dict[str, WorkingTime] = {ALWAYS: WorkingTime()}
        compiled.update({name: spec.compile(name) for name, spec in self.calendars.items()})
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
        """The policy as the team wrote it, comments and all."""
        return self.source


CLOCK_KEYS = ("owner_within", "customer_update_every", "internal_review_every")
REACH_FROM = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday; any instant serves: weeks repeat, holidays aside
REACH_YEARS = 10


def _unreachable(policy: Policy, text: str, source_name: str) -> list[str]:
    """A clock must come due. A duration longer than its calendar's working time in ten years would
    leave every board unable to plan it (boards search a calendar further, so what passes here plans)."""
    lines, found = text.splitlines(), []
    start, year = to_us(REACH_FROM), 366 * 24 * 3600 * 1_000_000
    for severity, spec in policy.severities.items():
        calendar = policy.calendar_for(severity)
        if max(getattr(spec, key) for key in CLOCK_KEYS) // ONE_US <= calendar.worked_us(start, start + year):
            continue  # one year holds every clock (ten hold more): spare building ten years of calendar
        worked = calendar.worked_us(start, start + REACH_YEARS * year)
        for key in CLOCK_KEYS:
            duration: timedelta = getattr(spec, key)
            if duration // ONE_US <= worked:
                continue
            line = locate(lines, ("severities", severity.value, key))
            where = f"{source_name}:{line}: " if line else f"{source_name}: "
            found.append(f"{where}severities.{severity.value}.{key}: {format_countdown(int(duration.total_seconds()))} "
                         f"of working time takes calendar {spec.calendar!r} more than {REACH_YEARS} years "
                         f"({format_countdown(worked // 1_000_000)} in all); give it more hours or the clock less time")
    return found


def parse_policy(text: str, source_name: str = "policy", version: int = 0) -> Policy:
    """Validate a TOML policy; raise PolicyInvalid listing every problem found, each with its line."""
    return _parse_policy(text, source_name, version)


@lru_cache(maxsize=16)
def _parse_policy(text: str, source_name: str, version: int) -> Policy:
    """Every write transaction reads the policy and its history, and validating one (its calendars
    included) takes milliseconds: the same text is parsed once (a Policy is immutable)."""
    new = version == 0  # being checked or applied; a stored one is read back as it was written
    data = load_toml(text, source_name, PolicyInvalid, limit=MAX_FILE_BYTES if new else None)
    declared = data.get("calendars")
    context = {"calendars": set(declared) if isinstance(declared, dict) else set(), "new": new}
    parsed = validate(PolicyFile, data, text, source_name, invalid=PolicyInvalid, context=context)
    evidence = tuple(spec.item() for spec in parsed.evidence.items) if parsed.evidence else DEFAULT_ITEMS
    policy = Policy(parsed.severities.by_severity(), dict(parsed.calendars), source=text, version=version,
                    evidence=evidence, teams=parsed.teams, causes=parsed.review.causes,
                    templates=parsed.templates)
    problems = _unreachable(policy, text, source_name)
    if problems:
        raise PolicyInvalid(problems)
    return policy


def default_policy() -> Policy:
    return parse_policy(DEFAULT_POLICY_TOML, "default policy")
