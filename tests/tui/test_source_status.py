"""The board's status line shows each tracker sync's state: when it last succeeded, or what has
been failing since when (in the viewer's zone, labelled)."""

from __future__ import annotations

from datetime import timedelta

from casewatch.storage.sync import save_failure, save_success
from casewatch.tui.widgets.status_line import StatusLine
from tests.tui.helpers import rendered_rows


async def test_the_status_line_shows_each_source_ok_or_failing_since(make_app, writer, frozen_clock):
    await save_success(writer, "zd", frozen_clock.now - timedelta(seconds=40))
    await save_failure(writer, "jira", "401", frozen_clock.now - timedelta(minutes=58), None)
    await save_failure(writer, "jira", "401", frozen_clock.now, frozen_clock.now - timedelta(minutes=58))
    app = make_app(live=True)
    async with app.run_test(size=(220, 50)) as pilot:
        await pilot.pause()
        [line] = rendered_rows(app.screen.query_one(StatusLine))
        assert "jira ✖ 401 since 14:02 CET · zd ✓ 40s ago" in line  # 13:02 UTC, the viewer in Berlin
