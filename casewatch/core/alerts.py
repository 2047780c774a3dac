"""Which clock turns alert the viewer, and what an alert says: pure rules, time passed in.

A clock alerts when it turns worse: running (or paused, met) to warning, anything but breached to
breached. The board keeps each case's clock states from one look to the next; a turn is seen once,
so it alerts once. What was already late when the board opened, or turned while it was
reconnecting, is not a storm of alerts but one summary (`summary_text`) of `alerts_for(...,
since_last_look=True)`.

Who is alerted for what is the `[alerts]` table of the config file (`AlertSettings`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import Field

from casewatch.core.calendars import from_us
from casewatch.core.clocks import CaseClocks, ClockKind, ClockState
from casewatch.core.models import Case, Severity, iso_z
from casewatch.core.text import visible
from casewatch.core.toml_file import TomlTable, rule
from casewatch.core.views import is_mine
from casewatch.core.write_back import Delivery
from casewatch.core.zones import zoned

States = tuple[ClockState, ClockState, ClockState]
"""A case's clock states, in `KINDS` order."""

KINDS = (ClockKind.OWNER, ClockKind.CUSTOMER_UPDATE, ClockKind.INTERNAL_REVIEW)
_RANK = {ClockState.WARNING: 1, ClockState.BREACHED: 2}
ALERTING = (ClockState.WARNING, ClockState.BREACHED)
DUE_WORDS = {ClockKind.OWNER: "owner due", ClockKind.CUSTOMER_UPDATE: "customer update due",
             ClockKind.INTERNAL_REVIEW: "internal review due"}


class Scope(StrEnum):
    """Whose cases alert: `auto` is the viewer's own, and every case while they lead the shift."""

    AUTO = "auto"
    MINE = "mine"
    ALL = "all"
    NONE = "none"


def _scope(value: Any) -> Scope:
    try:
        return Scope(value)
    except ValueError:
        raise ValueError(f"must be one of {', '.join(s.value for s in Scope)}") from None


def _states(value: Any) -> tuple[ClockState, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError('must be a list of clock states, e.g. ["warning", "breached"]')
    names = {state.value: state for state in ALERTING}
    unknown = [item for item in value if item not in names]
    if unknown:
        raise ValueError(f"unknown state {unknown[0]!r} (expected warning or breached)")
    return tuple(names[item] for item in dict.fromkeys(value))


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _argv(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError('must be a list of strings: the program and its arguments, e.g. ["notify-send", "casewatch"]')
    if value and not value[0].strip():
        raise ValueError("the program (the first string) is empty")
    if any("\0" in item for item in value):
        raise ValueError("a string holds a NUL character")
    return tuple(value)


_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError('must be a list of environment variable names, e.g. ["SLACK_WEBHOOK_URL"]')
    bad = next((item for item in value if not _VARIABLE.fullmatch(item)), None)
    if bad is not None:
        raise ValueError(f"{visible(bad)!r} is not an environment variable name (letters, digits and '_')")
    return tuple(dict.fromkeys(value))


class AlertSettings(TomlTable):
    """The config file's `[alerts]` table. `env` names the variables of the board's environment the
    command may see beyond the few it always gets (see alert_command): a webhook URL, say."""

    cases: Annotated[Scope, rule(_scope)] = Scope.AUTO
    states: Annotated[tuple[ClockState, ...], rule(_states)] = ALERTING
    bell: Annotated[bool, rule(_flag)] = True
    command: Annotated[tuple[str, ...], rule(_argv)] = Field(default=())
    env: Annotated[tuple[str, ...], rule(_names)] = Field(default=())


def clock_states(clocks: CaseClocks, now_us: int) -> States:
    return (clocks.owner.state_at(now_us)[0], clocks.customer_update.state_at(now_us)[0],
            clocks.internal_review.state_at(now_us)[0])


def next_turn_us(clocks: CaseClocks, now_us: int) -> int | None:
    """The next instant after `now_us` at which one of the case's clock states changes by itself."""
    best = None
    for plan in clocks:  # plain loops: the board runs this for every open case when it opens
        if plan.fixed is None:
            warn, due = plan.warn_us, plan.due_us
            if warn is not None and warn > now_us and (best is None or warn < best):
                best = warn
            if due is not None and due > now_us and (best is None or due < best):
                best = due
    return best


def turned(before: ClockState, after: ClockState) -> bool:
    """Worse than before: into warning from running (paused, met), into breached from anything else."""
    return _RANK.get(after, 0) > _RANK.get(before, 0)


def watched(case: Case, viewer: str, shift_lead: str | None, settings: AlertSettings) -> bool:
    scope = settings.cases
    if scope is Scope.NONE:
        return False
    if scope is Scope.ALL or (scope is Scope.AUTO and shift_lead == viewer):
        return True
    return is_mine(case, viewer)


@dataclass(frozen=True)
class Alert:
    """One clock that turned: what the toast, the history and the alert command are told."""

    case_id: str
    title: str
    severity: Severity
    clock: ClockKind
    state: ClockState
    due: datetime | None
    at: datetime  # when the board saw it
    missed: bool = False  # seen at start-up or after a reconnect: part of a summary, not alerted alone

    def due_text(self, zone: ZoneInfo) -> str:
        return zoned(self.due, zone, "%a %H:%M") if self.due is not None else "no due time"

    def text(self, zone: ZoneInfo) -> str:
        """One line, literal (the title is what someone typed, shown escaped)."""
        return (f"{visible(self.case_id)} ({self.severity.value}) {self.state.value}: "
                f"{DUE_WORDS[self.clock]} {self.due_text(zone)} — {visible(self.title)}")

    def environment(self, zone: ZoneInfo) -> dict[str, str]:
        """The alert command's variables (values escaped: a variable can hold no control character)."""
        return {
            "CASEWATCH_ALERT": "clock",
            "CASEWATCH_CASE_ID": visible(self.case_id),
            "CASEWATCH_SEVERITY": self.severity.value,
            "CASEWATCH_CLOCK": self.clock.value,
            "CASEWATCH_STATE": self.state.value,
            "CASEWATCH_DUE": iso_z(self.due) or "",
            "CASEWATCH_DUE_LOCAL": self.due_text(zone) if self.due is not None else "",
            "CASEWATCH_TITLE": visible(self.title),
            "CASEWATCH_MESSAGE": self.text(zone),
            "CASEWATCH_COUNT": "1",
        }


def alerts_for(before: Mapping[str, States], after: Mapping[str, States], cases: Mapping[str, Case],
               clocks: Mapping[str, CaseClocks], *, viewer: str, shift_lead: str | None, settings: AlertSettings,
               now: datetime, since_last_look: bool = False, joined: Collection[str] = ()) -> list[Alert]:
    """The watched clocks that turned between two looks. A case absent from `before` was not seen:
    it does not alert, unless it counts as having run until now: it `joined` the board live (created,
    imported, reopened: what is late already alerts now, as a turn would), or `since_last_look`
    (start-up, reconnect: for the summary)."""
    found = []
    running = (ClockState.RUNNING,) * len(KINDS)
    unseen = running if since_last_look else None
    for case_id, now_states in after.items():
        then = before.get(case_id, running if case_id in joined else unseen)
        if then is None or then == now_states:
            continue
        turns = [(kind, new) for kind, old, new in zip(KINDS, then, now_states, strict=True)
                 if new in settings.states and turned(old, new)]
        case = cases[case_id]
        if not turns or not watched(case, viewer, shift_lead, settings):
            continue
        plans = clocks[case_id]
        for kind, new in turns:
            due_us = plans[KINDS.index(kind)].due_us
            due = from_us(due_us) if due_us is not None else None
            found.append(Alert(case_id, case.title, case.severity, kind, new, due, now, since_last_look))
    found.sort(key=lambda alert: (alert.severity, alert.due or now, alert.case_id))
    return found


SINCE_LAST_LOOK = "since you last looked"


def summary_text(alerts: Sequence[Alert], when: str = SINCE_LAST_LOOK) -> str | None:
    """"3 clocks breached since you last looked" (and how many turned to warning); None when none did."""
    breached = sum(alert.state is ClockState.BREACHED for alert in alerts)
    warning = len(alerts) - breached
    parts = [f"{count} clock{'s' if count != 1 else ''} {what}"
             for count, what in ((breached, "breached"), (warning, "in warning")) if count]
    return f"{' and '.join(parts)} {when}" if parts else None


def summary_environment(alerts: Sequence[Alert], text: str) -> dict[str, str]:
    """The alert command's variables for a summary: no single case, the worst state, the count."""
    worst = ClockState.BREACHED if any(a.state is ClockState.BREACHED for a in alerts) else ClockState.WARNING
    return {"CASEWATCH_ALERT": "summary", "CASEWATCH_CASE_ID": "", "CASEWATCH_SEVERITY": "", "CASEWATCH_CLOCK": "",
            "CASEWATCH_STATE": worst.value, "CASEWATCH_DUE": "", "CASEWATCH_DUE_LOCAL": "", "CASEWATCH_TITLE": "",
            "CASEWATCH_MESSAGE": text, "CASEWATCH_COUNT": str(len(alerts))}


@dataclass(frozen=True)
class DeliveryAlert:
    """A customer update (or note) that did not reach its ticket: in the alert history of every
    watcher's board; rung (toast, bell, command) once, by the first board that sees it (the outbox
    row remembers: `delivery.alerted`)."""

    case_id: str
    title: str
    severity: Severity
    delivery: Delivery
    at: datetime  # when the board saw it
    missed = False  # (as Alert's: never part of a summary)

    @property
    def rung_elsewhere(self) -> bool:
        return self.delivery.alerted

    def text(self) -> str:
        d = self.delivery
        return (f"{visible(self.case_id)} ({self.severity.value}) {d.kind} not delivered to {visible(d.source)} "
                f"ticket {visible(d.ticket)}: {visible(d.last_error or d.state)} — {visible(self.title)}")

    def environment(self) -> dict[str, str]:
        return {"CASEWATCH_ALERT": "delivery", "CASEWATCH_CASE_ID": visible(self.case_id),
                "CASEWATCH_SEVERITY": self.severity.value, "CASEWATCH_CLOCK": "",
                "CASEWATCH_STATE": self.delivery.state,
                "CASEWATCH_DUE": "", "CASEWATCH_DUE_LOCAL": "", "CASEWATCH_TITLE": visible(self.title),
                "CASEWATCH_MESSAGE": self.text(), "CASEWATCH_COUNT": "1"}


def delivery_alerts(undelivered: Mapping[str, Sequence[Delivery]], cases: Mapping[str, Case], *, viewer: str,
                    shift_lead: str | None, settings: AlertSettings, now: datetime,
                    told: Collection[tuple[str, int]] = ()) -> list[DeliveryAlert]:
    """The failed deliveries of watched open cases this board has not listed yet (`told`, by case
    id and event id); those another board rang already say so (`rung_elsewhere`)."""
    found = []
    for case_id, deliveries in sorted(undelivered.items()):
        case = cases.get(case_id)
        if case is None or not watched(case, viewer, shift_lead, settings):
            continue
        found += [DeliveryAlert(case_id, case.title, case.severity, d, now) for d in deliveries
                  if (case_id, d.event_id) not in told]
    return found


@dataclass
class AlertPace:
    """At most one look at the alerts (a toast, the bell, the alert command) every `every`: on a floor
    of thousands a clock turns every second or so, and a toast and a bell each second is noise nobody
    reads. What turns between two looks waits for the next, where several make one summary."""

    every: timedelta
    held: list[Alert] = field(default_factory=list)
    last: datetime | None = None  # when the last look was shown

    def look(self, turned: Sequence[Alert], now: datetime) -> list[Alert]:
        """The alerts to show now: empty until a look is due and something waits for it."""
        self.held += turned
        if not self.held or (self.last is not None and now - self.last < self.every):
            return []
        shown, self.held, self.last = self.held, [], now
        return shown
