"""Escalation metrics, exactly as the README defines them, from the event history.

One case's history at a time becomes a `CaseFacts` (what the metrics need to know about it); the
facts of the population are then counted. Nothing holds more than one case's events at once, so a
store can stream the log case by case.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from casewatch.core.breaches import overdue_between
from casewatch.core.clocks import ClockKind
from casewatch.core.models import Case, Event, EventType, Severity, iso_z, utc
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.projection import apply, in_history_order
from casewatch.core.stored import check_time

RATES = ("customer_update_miss_rate", "escalation_rework_rate", "severity_mismatch_rate",
         "avoidable_escalation_rate")


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the metrics need from one escalation's history up to the as-of instant."""

    case_id: str
    escalated_at: datetime
    initial_severity: Severity
    owner_after_s: int | None  # first internal owner set, seconds after escalation; None: still unowned
    update_breached: bool  # the customer-update clock breached at least once
    returned: bool  # sent back for missing context at least once
    severity_changed: bool  # severity changed after escalation
    final_severity: Severity | None = None  # from the post-case review, when there is one
    avoidable: bool | None = None  # from the post-case review; None: not reviewed


    def as_json(self) -> dict[str, Any]:
        """What the store keeps beside a case's projection (a report looks up the shift lead as it counts)."""
        return {"case_id": self.case_id, "escalated_at": iso_z(self.escalated_at),
                "initial_severity": self.initial_severity.value, "owner_after_s": self.owner_after_s,
                "update_breached": self.update_breached, "returned": self.returned,
                "severity_changed": self.severity_changed,
                "final_severity": self.final_severity.value if self.final_severity else None,
                "avoidable": self.avoidable}

    @classmethod
    def from_json(cls, data: Any, case_id: str) -> CaseFacts:
        """The facts kept beside the row of `case_id`, as `as_json` wrote them: the row is one members
        can write, so any other shape is a ValueError (storage then replays the case's history)."""
        if not isinstance(data, dict) or data.get("case_id") != case_id:
            raise ValueError(f"the facts of {case_id} are not its facts")
        escalated_at = datetime.fromisoformat(data["escalated_at"])
        check_time(escalated_at, "escalated_at")
        owner_after, final, avoidable = data["owner_after_s"], data["final_severity"], data["avoidable"]
        if owner_after is not None and type(owner_after) is not int:
            raise ValueError(f"owner_after_s {owner_after!r} is not a number of seconds")
        breached, returned, changed = (data[key] for key in ("update_breached", "returned", "severity_changed"))
        if any(type(flag) is not bool for flag in (breached, returned, changed, False if avoidable is None
                                                   else avoidable)):
            raise ValueError(f"the facts of {case_id} hold a flag that is not true or false")
        return cls(case_id=case_id, escalated_at=utc(escalated_at), initial_severity=Severity(data["initial_severity"]),
                   owner_after_s=owner_after, update_breached=breached, returned=returned, severity_changed=changed,
                   final_severity=Severity(final) if final is not None else None, avoidable=avoidable)


def _update_overdue(case: Case, policies: PolicyHistory, stop: datetime, *, last: bool) -> bool:
    """The customer-update clock overdue between the case's last event and `stop` (core.breaches' rule,
    each part of the span under the policy then in force)."""
    return overdue_between(case, ClockKind.CUSTOMER_UPDATE, policies, case.last_occurred_at, stop, last=last)


def next_facts(facts: CaseFacts | None, before: Case | None, event: Event, policies: PolicyHistory) -> CaseFacts:
    """The facts after one more event of a case's history (in history order), `before` being the case
    as the events so far leave it. The store keeps these per case as it writes, so counting the
    metrics reads one row per case instead of replaying the log."""
    if facts is None or before is None:
        if event.type is not EventType.CASE_CREATED:
            raise ValueError(f"a case's history starts with its escalation, not {event.type}")
        return CaseFacts(case_id=event.case_id or "", escalated_at=event.occurred_at,
                         initial_severity=Severity(event.payload["severity"]), owner_after_s=None,
                         update_breached=False, returned=False, severity_changed=False)
    changes: dict[str, Any] = {}
    if not facts.update_breached and _update_overdue(before, policies, event.occurred_at, last=False):
        changes["update_breached"] = True  # overdue before this event came
    kind, payload = event.type, event.payload
    if kind is EventType.OWNER_ASSIGNED and payload.get("after") and facts.owner_after_s is None:
        changes["owner_after_s"] = int((event.occurred_at - facts.escalated_at).total_seconds())
    elif kind is EventType.CASE_RETURNED:
        changes["returned"] = True
    elif kind is EventType.SEVERITY_CHANGED:
        changes["severity_changed"] = True
    elif kind is EventType.CASE_CLOSED:
        changes |= {"final_severity": Severity(payload["final_severity"]), "avoidable": payload["avoidable"]}
    return replace(facts, **changes) if changes else facts


def facts_as_of(facts: CaseFacts, case: Case, policies: PolicyHistory, as_of: datetime) -> CaseFacts:
    """The facts at `as_of` from those after the case's last event (`case` as it left it): the
    customer-update clock may have breached since."""
    if facts.update_breached or not _update_overdue(case, policies, as_of, last=True):
        return facts
    return replace(facts, update_breached=True)


def fold_facts(history: Iterable[Event], policies: PolicyHistory) -> tuple[CaseFacts, Case]:
    """The facts and the case after a whole history (in history order, starting with its escalation)."""
    facts: CaseFacts | None = None
    case: Case | None = None
    for event in history:
        facts, case = next_facts(facts, case, event, policies), apply(case, event)
    if facts is None or case is None:
        raise ValueError("an empty history has no facts")
    return facts, case


def case_facts(events: Iterable[Event], policies: PolicyHistory, as_of: datetime) -> CaseFacts | None:
    """The facts of one case from its events up to `as_of`; None when it was not escalated by then."""
    history = [e for e in in_history_order(events) if e.occurred_at <= as_of]
    if not history or history[0].type is not EventType.CASE_CREATED:
        return None
    facts, case = fold_facts(history, policies)
    return facts_as_of(facts, case, policies, as_of)


class ShiftLeads:
    """Who led the floor at any instant, from the `shift_started` events."""

    def __init__(self, floor_events: Iterable[Event]):
        starts = [e for e in in_history_order(floor_events) if e.type is EventType.SHIFT_STARTED]
        self._times = [e.occurred_at for e in starts]
        self._leads = [str(e.payload["lead"]) for e in starts]

    def at(self, instant: datetime) -> str | None:
        """The lead at `instant` (escalations are never after the as-of instant, so later shifts never count)."""
        index = bisect_right(self._times, instant)
        return self._leads[index - 1] if index else None


def nearest_rank(sorted_values: list[int], percent: int) -> int | None:
    """The nearest-rank percentile: the smallest value with at least `percent`% of values at or below it."""
    if not sorted_values:
        return None
    return sorted_values[max(1, math.ceil(percent * len(sorted_values) / 100)) - 1]


@dataclass
class Rate:
    numerator: int = 0
    denominator: int = 0

    def count(self, hit: bool, counts: bool = True) -> None:
        if counts:
            self.denominator += 1
            self.numerator += hit

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def as_dict(self) -> dict[str, Any]:
        return {"numerator": self.numerator, "denominator": self.denominator, "rate": self.rate}


@dataclass
class Metrics:
    """The five metrics over one population (the whole window, or one severity or lead in it)."""

    owner_times_s: list[int] = field(default_factory=list)
    unowned: int = 0
    customer_update_miss_rate: Rate = field(default_factory=Rate)
    escalation_rework_rate: Rate = field(default_factory=Rate)
    severity_mismatch_rate: Rate = field(default_factory=Rate)
    avoidable_escalation_rate: Rate = field(default_factory=Rate)

    def add(self, facts: CaseFacts) -> None:
        if facts.owner_after_s is None:
            self.unowned += 1
        else:
            self.owner_times_s.append(facts.owner_after_s)
        self.customer_update_miss_rate.count(facts.update_breached)
        self.escalation_rework_rate.count(facts.returned)
        misjudged = facts.severity_changed or (
            facts.final_severity is not None and facts.final_severity is not facts.initial_severity)
        self.severity_mismatch_rate.count(misjudged)
        self.avoidable_escalation_rate.count(bool(facts.avoidable), counts=facts.avoidable is not None)

    def as_dict(self) -> dict[str, Any]:
        times = sorted(self.owner_times_s)
        owner = {"count": len(times), "median_s": nearest_rank(times, 50), "p90_s": nearest_rank(times, 90),
                 "unowned": self.unowned}
        return {"time_to_named_owner": owner} | {name: getattr(self, name).as_dict() for name in RATES}


@dataclass
class Report:
    """The metrics of the escalations in [since, until) as of an instant, with their breakdowns."""

    since: datetime | None
    until: datetime | None
    as_of: datetime
    leads: ShiftLeads
    overall: Metrics = field(default_factory=Metrics)
    by_severity: dict[str, Metrics] = field(default_factory=dict)
    by_lead: dict[str, Metrics] = field(default_factory=dict)

    def in_window(self, facts: CaseFacts) -> bool:
        return ((self.since is None or facts.escalated_at >= self.since)
                and (self.until is None or facts.escalated_at < self.until))

    def add_history(self, events: Iterable[Event], policies: PolicyHistory) -> None:
        """Count one case from its events; a store streams the log through this one case at a time."""
        facts = case_facts(events, policies, self.as_of)
        if facts is not None:
            self.add(facts)

    def add(self, facts: CaseFacts) -> None:
        if not self.in_window(facts):
            return
        self.overall.add(facts)
        self.by_severity.setdefault(facts.initial_severity.value, Metrics()).add(facts)
        lead = self.leads.at(facts.escalated_at)  # who led the floor when it was escalated
        self.by_lead.setdefault(lead or "(no shift lead)", Metrics()).add(facts)

    def as_dict(self) -> dict[str, Any]:
        return self.overall.as_dict() | {
            "by_severity": {key: self.by_severity[key].as_dict() for key in sorted(self.by_severity)},
            "by_lead": {key: self.by_lead[key].as_dict() for key in sorted(self.by_lead)},
        }


def report(histories: Iterable[Iterable[Event]], floor_events: Iterable[Event], policies: PolicyHistory, *,
           as_of: datetime, since: datetime | None = None, until: datetime | None = None) -> Report:
    """The metrics of the escalations in [since, until), each history read up to `as_of`."""
    result = Report(since=since, until=until, as_of=as_of, leads=ShiftLeads(floor_events))
    for events in histories:
        result.add_history(events, policies)
    return result
