"""The metrics screen's windows, weekly trend and failure signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from casewatch.core.metric_trends import going_wrong_way, headline, weekly_windows, windows
from casewatch.core.metrics import CaseFacts, Metrics
from casewatch.core.models import Severity

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST on the morning Berlin moved to summer time


def test_today_starts_at_midnight_in_the_viewers_zone():
    got = windows(NOW, "Europe/Berlin", shift_started=None)
    assert got["today"] == (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), NOW)  # 00:00 CET
    assert "shift" not in got
    assert got["7 days"] == (NOW - timedelta(days=7), NOW) and got["30 days"][0] == NOW - timedelta(days=30)
    assert windows(NOW, "America/Los_Angeles", NOW - timedelta(hours=2))["today"][0] == datetime(
        2026, 3, 28, 7, 0, tzinfo=UTC)  # 00:00 PDT on the 28th


def test_weekly_windows_are_consecutive_and_end_now():
    weeks = weekly_windows(NOW, 3)
    assert weeks == [(NOW - timedelta(days=21), NOW - timedelta(days=14)),
                     (NOW - timedelta(days=14), NOW - timedelta(days=7)), (NOW - timedelta(days=7), NOW)]


def test_wrong_way_needs_a_trend_and_a_worse_latest_week():
    assert going_wrong_way([0.1, 0.1, 0.3])
    assert not going_wrong_way([0.3, 0.3, 0.1])
    assert not going_wrong_way([None, 0.1, 0.9])  # two weeks of data are not a trend
    assert going_wrong_way([0.1, None, 0.2, None, 0.4])  # empty weeks are skipped
    assert not going_wrong_way([0.2, 0.2, 0.2])


def test_headline_is_the_median_owner_time_or_the_rate():
    metrics = Metrics()
    for owner_after, breached in ((60, True), (600, False), (None, False)):
        metrics.add(CaseFacts(case_id="x", escalated_at=NOW, initial_severity=Severity.SEV1,
                              owner_after_s=owner_after, update_breached=breached, returned=False,
                              severity_changed=False))
    assert headline(metrics, "time_to_named_owner") == 60.0  # nearest rank of [60, 600]
    assert headline(metrics, "customer_update_miss_rate") == 1 / 3
    assert headline(metrics, "avoidable_escalation_rate") is None  # nothing reviewed
