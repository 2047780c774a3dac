"""The board on PostgreSQL: it says "reconnecting…" while the server is gone and recovers by itself."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.engine import make_url

from casewatch.core import commands as c
from casewatch.core.alerts import AlertSettings, Scope
from casewatch.core.models import Severity
from casewatch.storage.feed import FeedState
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from casewatch.tui.widgets.status_line import StatusLine
from tests.team.test_feed import LEAD, admin
from tests.tui.helpers import notifications


class Changes:
    """Wakes a waiting test whenever the app's feed reports: its connection state changed, or an
    update changed what the board holds."""

    def __init__(self, app: CasewatchApp, pilot):
        self.pilot = pilot
        self.event = asyncio.Event()
        broadcast = app._broadcast

        def relay(*args, **kwargs) -> None:
            broadcast(*args, **kwargs)
            self.event.set()

        app._broadcast = relay  # type: ignore[method-assign]
        app.watch(app, "connection", lambda _status: self.event.set(), init=False)

    async def until(self, predicate, seconds: float) -> bool:
        """Wait until `predicate()` holds, re-checking after every change (and the screen's handling of it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            self.event.clear()
            if predicate():
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.event.wait(), remaining)
            await self.pilot.pause()


async def test_board_shows_reconnecting_and_recovers_without_losing_a_change(pg_url, frozen_clock):
    target = resolve_target(pg_url)
    database = make_url(pg_url).database
    async with await Store.open(target, clock=frozen_clock, creator=LEAD) as writer:
        first = await writer.execute(c.NewCase(title="Payments [EU]", customer="Globex", severity=Severity.SEV1),
                                     "dana")
        app = CasewatchApp(target, "dana", clock=frozen_clock, live=True)
        async with app.run_test(size=(160, 40)) as pilot:
            bar = app.screen.query_one(StatusLine)
            changes = Changes(app, pilot)
            until = changes.until
            assert await until(lambda: app.connection is not None and app.connection.state is FeedState.LIVE, 10)
            assert "live" in str(bar.render()) and "reconnecting" not in str(bar.render())
            try:
                await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
                await admin("SELECT pg_terminate_backend($1)", app.feed.backend_pid)
                assert await until(lambda: "reconnecting…" in str(bar.render()), 5)
                second = await writer.execute(c.NewCase(title="Checkout down", customer="Initech",
                                                        severity=Severity.SEV1), "dana")
                await writer.execute(c.Note(case_id=first.case.id, text="while the board was away"), "dana")
            finally:
                await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            assert await until(lambda: app.connection.state is FeedState.LIVE, 15)
            assert await until(lambda: second.case.id in app.state.cases, 5)
            assert app.state.cases[first.case.id].version == first.case.version + 1
            await pilot.pause()
            assert "reconnecting" not in str(bar.render())


async def test_clocks_that_turn_while_reconnecting_come_as_one_summary(pg_url, frozen_clock):
    target = resolve_target(pg_url)
    database = make_url(pg_url).database
    async with await Store.open(target, clock=frozen_clock, creator=LEAD) as writer:
        for title in ("Payments [EU]", "Checkout down"):  # SEV1: owner due in 15m, update warning from 15m
            await writer.execute(c.NewCase(title=title, customer="Globex", severity=Severity.SEV1), "dana")
        app = CasewatchApp(target, "dana", clock=frozen_clock, live=True, alerts=AlertSettings(cases=Scope.ALL))
        async with app.run_test(size=(160, 40), notifications=True) as pilot:
            bar = app.screen.query_one(StatusLine)
            until = Changes(app, pilot).until
            assert await until(lambda: app.connection is not None and app.connection.state is FeedState.LIVE, 10)
            assert app.alert_watch.history == []  # nothing was late at start-up: no summary
            try:
                await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
                await admin("SELECT pg_terminate_backend($1)", app.feed.backend_pid)
                assert await until(lambda: "reconnecting…" in str(bar.render()), 5)
                frozen_clock.advance(minutes=16)
                app.tick(frozen_clock.now)
                await pilot.pause()
                assert app.alert_watch.history == [] and "Clock " not in notifications(app)  # held while away
            finally:
                await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            assert await until(lambda: app.connection.state is FeedState.LIVE, 15)
            await pilot.pause()
            shown = notifications(app)
            assert "2 clocks breached and 2 clocks in warning since you last looked" in shown, shown
            assert "Clock breached" not in shown and "Clock warning" not in shown
            assert len(app.alert_watch.history) == 4 and all(alert.missed for alert in app.alert_watch.history)
