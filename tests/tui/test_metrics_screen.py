"""The metrics screen (M) on a hand-built history whose values are worked out here.

Default policy: SEV1 needs a customer update every 20 minutes. Four SEV1 escalations, each owned
by mei after its `owned` minutes:
- A, 20 days ago, and B, 10 days ago: updated after 10 minutes, resolved after 15: never late;
- C, 2 days ago: never updated, resolved after 3 hours: its update clock breached;
- D, an hour ago (13:00 UTC, today in Berlin): owned after 10 minutes, updated after 15, resolved after 16.
Weekly customer update miss rate, oldest first: five empty weeks, 0 %, 0 %, then 1 of 2 (C, D):
worse than the weeks before, so its failure signal shows. Median owner times: 5m, 5m, then 5m
(nearest rank of 5m and 10m): not worse.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import DataTable

from casewatch.core import commands as c
from casewatch.core.models import Person, Role, Severity, Status
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.metrics import MetricsScreen
from tests.tui.helpers import workers_done

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")


@pytest.fixture
async def history_db(tmp_path, frozen_clock):
    path = tmp_path / "metrics.db"
    now = frozen_clock.now
    async with await Store.open(resolve_target(path), clock=frozen_clock, creator=LEAD) as store:
        await store.execute(c.AddPerson(name="mei", role=Role.SPECIALIST, tz="Asia/Singapore"), "dana")
        for name, ago, owned, updated, resolved in (("A", timedelta(days=20), 5, 10, 15),
                                                    ("B", timedelta(days=10), 5, 10, 15),
                                                    ("C", timedelta(days=2), 5, None, 180),
                                                    ("D", timedelta(hours=1), 10, 15, 16)):
            start = now - ago
            new = await store.execute(c.NewCase(title=f"case {name}", customer="ACME", severity=Severity.SEV1),
                                      "dana", at=start)
            case_id = new.case.id

            steps = [(c.Assign(case_id=case_id, name="mei"), owned),
                     (c.ChangeStatus(case_id=case_id, status=Status.RESOLVED), resolved)]
            if updated is not None:
                steps.insert(1, (c.CustomerUpdate(case_id=case_id, known="k", investigating="i", next_milestone="m"),
                                 updated))
            for command, minutes in steps:
                await store.execute(command, "dana", at=start + timedelta(minutes=minutes))
    return path


def cell(screen: MetricsScreen, metric: str, column: str) -> str:
    table = screen.query_one("#metrics-table", DataTable)
    return table.get_cell(metric, column).plain


async def test_windows_breakdown_trend_and_failure_signal(history_db, frozen_clock):
    app = CasewatchApp(resolve_target(history_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("M")
        screen = app.screen
        assert isinstance(screen, MetricsScreen)
        await workers_done(app)
        await pilot.pause()
        # the last 7 days: C and D
        assert cell(screen, "customer_update_miss_rate", "all") == "50% (1/2)"
        assert cell(screen, "customer_update_miss_rate", "SEV1") == "50% (1/2)"
        assert cell(screen, "customer_update_miss_rate", "SEV2") == "—"
        assert [cell(screen, row, "all") for row in ("owner_median", "owner_p90", "unowned")] == ["5m", "10m", "0"]
        head = str(screen.query_one("#metrics-head").render())
        assert "7 days" in head and "to Fri 27 Nov 15:00 (CET): 2 owned, 0 still without an owner" in head, head
        assert "2 escalations from" in head, head  # the count the rates are out of
        trend = str(screen.query_one("#trend-customer_update_miss_rate").render())
        assert trend == " · " * 5 + "▁▁▁" * 2 + "███"  # weeks without escalations are not drawn as 0 %
        assert str(screen.query_one("#trend-values-customer_update_miss_rate").render()) == "— — — — — 0% 0% 50%"
        signals = str(screen.query_one("#metrics-signals").render())
        assert ("Customer update miss rate is going the wrong way: Customers experience silence instead of "
                "progress.") in signals
        assert "Time to named owner" not in signals

        await pilot.press("t")  # today in Berlin: D only
        await pilot.pause()
        assert cell(screen, "customer_update_miss_rate", "all") == "0% (0/1)"
        assert [cell(screen, row, "all") for row in ("owner_median", "owner_p90")] == ["10m", "10m"]
        await pilot.press("3")  # 30 days: all four
        await pilot.pause()
        assert cell(screen, "customer_update_miss_rate", "all") == "25% (1/4)"
        await pilot.press("s")  # nobody started a shift: there is no shift window, nothing changes
        await pilot.pause()
        assert screen.window == "30 days"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_at_80x24_the_latest_weeks_stay_in_view(history_db, frozen_clock):
    """From a fresh-eyes run: the weekly values were cut at 80 columns, the latest weeks first."""
    app = CasewatchApp(resolve_target(history_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("M")
        await workers_done(app)
        await pilot.pause()
        values = app.screen.query_one("#trend-values-time_to_named_owner")
        values.update("— — — — — 23h48m 21h53m 3h14m")  # eight weeks of owner times, as a busy floor has them
        await pilot.pause()
        drawn = " ".join(line.text.strip() for line in values.render_lines(values.region.reset_offset))
        assert drawn.endswith("21h53m 3h14m") and values.region.right <= 80, (drawn, values.region)


@pytest.fixture
async def every_severity_db(history_db, frozen_clock):
    """The history above and one more escalation of each other severity, a day ago."""
    async with await Store.open(resolve_target(history_db), clock=frozen_clock) as store:
        for severity in (Severity.SEV2, Severity.SEV3, Severity.SEV4):
            await store.execute(c.NewCase(title=f"case {severity.value}", customer="ACME", severity=severity),
                                "dana", at=frozen_clock.now - timedelta(days=1))
    return history_db


async def test_at_80x24_sev4_stays_on_screen_and_a_week_of_values_is_one_line(every_severity_db, frozen_clock):
    """From a fresh-eyes run: at 80 columns the table scrolled SEV4 off the screen and the weekly
    values wrapped under the sparkline. A narrow screen keeps the counts to the All column, names the
    rows shortly and stacks each trend's name above its sparkline and values."""
    app = CasewatchApp(resolve_target(every_severity_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("M")
        await workers_done(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MetricsScreen)
        table = screen.query_one("#metrics-table", DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width, (table.virtual_size, table.size)
        assert table.region.right <= 80
        assert cell(screen, "customer_update_miss_rate", "SEV4") == "0%"  # the counts stay in All
        assert cell(screen, "customer_update_miss_rate", "all") == "60% (3/5)"
        assert table.get_cell("customer_update_miss_rate", "metric").plain == "Update misses"
        values = screen.query_one("#trend-values-time_to_named_owner")
        values.update("— — — — — 23h48m 21h53m 3h14m")  # eight weeks of owner times, as a busy floor has them
        await pilot.pause()
        chart = screen.query_one("#trend-time_to_named_owner")
        assert values.region.height == 1 and values.region.y == chart.region.y, (values.region, chart.region)
        name = screen.query(".trend-name").first()
        assert name.region.y < chart.region.y  # the name above its series
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        assert cell(screen, "customer_update_miss_rate", "SEV4") == "0% (0/1)"  # room for the counts again
