"""What the metrics screen shows beyond the numbers: the windows a lead picks, weekly trends, and
the operating model's failure signal for each metric that is going the wrong way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from casewatch.core.metrics import RATES, Metrics
from casewatch.core.models import day_start

METRICS = ("time_to_named_owner", *RATES)
LABELS = {
    "time_to_named_owner": "Time to named owner",
    "customer_update_miss_rate": "Customer update miss rate",
    "escalation_rework_rate": "Escalation rework rate",
    "severity_mismatch_rate": "Severity mismatch rate",
    "avoidable_escalation_rate": "Avoidable escalation rate",
}
FAILURE_SIGNALS = {
    "time_to_named_owner": "Many people are aware before anyone is accountable",
    "customer_update_miss_rate": "Customers experience silence instead of progress",
    "escalation_rework_rate": "The receiving team asks for basics already known upstream",
    "severity_mismatch_rate": "Teams misjudge urgency or impact repeatedly",
    "avoidable_escalation_rate": "L2 and investigation systems are too weak",
}
"""From the operating model (support-escalation-management): what a rising metric means on the floor."""

WEEK = timedelta(days=7)


def windows(now: datetime, tz: str, shift_started: datetime | None) -> dict[str, tuple[datetime, datetime]]:
    """The windows a lead picks from, each [since, now): today (from midnight in the viewer's zone),
    this shift (when one was started), the last 7 and 30 days."""
    found = {"today": (day_start(now.astimezone(ZoneInfo(tz)).date(), tz), now)}
    if shift_started is not None:
        found["shift"] = (shift_started, now)
    return found | {"7 days": (now - WEEK, now), "30 days": (now - 30 * WEEK / 7, now)}


def weekly_windows(now: datetime, weeks: int = 8) -> list[tuple[datetime, datetime]]:
    """`weeks` consecutive 7-day windows ending at `now`, oldest first."""
    return [(now - (weeks - i) * WEEK, now - (weeks - i - 1) * WEEK) for i in range(weeks)]


def headline(metrics: Metrics, name: str) -> float | None:
    """One number per metric: the median time to a named owner in seconds, or the rate."""
    if name == "time_to_named_owner":
        median = metrics.as_dict()[name]["median_s"]
        return None if median is None else float(median)
    rate: float | None = getattr(metrics, name).rate
    return rate


def going_wrong_way(series: Sequence[float | None]) -> bool:
    """For every metric lower is better. Wrong way: the latest week with data is worse than the
    average of the weeks before it that have data, and at least two such earlier weeks exist (one
    week is not a trend)."""
    values = [value for value in series if value is not None]
    if len(values) < 3:
        return False
    *earlier, latest = values
    return latest > sum(earlier) / len(earlier)
