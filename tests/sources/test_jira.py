"""The Jira search's query: the configured JQL, the window since the last sync plus the overlap (a
relative time, whatever the Jira user's zone), and the sync's own order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from casewatch.sources.jira import search_jql

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_the_query_adds_the_window_and_its_own_order():
    saved = (NOW - timedelta(minutes=5)).isoformat()
    assert search_jql("project = SUP order by priority DESC", saved, NOW) == (
        "(project = SUP) AND updated >= -15m ORDER BY updated ASC")  # 5 minutes since, and 10 of overlap
    assert search_jql("labels = escalated", None, NOW).startswith("(labels = escalated) AND updated >= -43210m")


def test_a_saved_cursor_that_is_no_time_a_sync_saves_is_doubted():
    from datetime import UTC, datetime

    from casewatch.sources.jira import cursor_doubt

    now = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    assert cursor_doubt("2026-11-27T13:59:00+00:00", now) is None
    assert cursor_doubt("2026-11-27T13:59:00", now) == "a time without its offset"
    assert cursor_doubt("2099-01-01T00:00:00+00:00", now) == "a time in the future"
    assert cursor_doubt("x" * 70000, now) == "70000 characters long"
    assert cursor_doubt("soon", now) == "not a time"
