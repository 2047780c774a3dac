"""Write-back on the board: a linked case whose update was not delivered is flagged on its row
(`⚠ undelivered`, `⚠` alone at 80 columns, counted with the flags), it rings once (the toast says
why, literally) and is in the alert history of every watcher's board, and the case screen shows
each update's delivery as a field of it, in the viewer's zone: sent with the comment id, or not
delivered with the tracker's reason."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from casewatch.core import commands as c
from casewatch.core import write_back as wb
from casewatch.core.alerts import AlertSettings, Scope
from casewatch.core.tracker import Source, SourceSettings, Ticket
from casewatch.storage import outbox
from casewatch.storage.imports import importer, write_tickets
from casewatch.tui.screens.case import CaseScreen
from tests.tui.helpers import notifications, rendered_rows, settled, table

ZD = Source.of("zd", SourceSettings(kind="zendesk"))
REASON = "HTTP 422: [b]closed[/b]"


async def test_an_undelivered_update_is_flagged_alerted_once_and_shown_on_the_case(make_app, writer, frozen_clock):
    ticket = Ticket(id="48213", title="Checkout fails", customer="Acme", priority="urgent", status="open",
                    created_at=frozen_clock.now - timedelta(minutes=20))
    await write_tickets(writer, ZD, [ticket], "dana", await importer(writer, "dana"))
    case_id = (await writer.linked_cases("zd", ["48213"]))["48213"].id
    writer.write_back = {"zd": wb.WriteBack(customer_updates=True)}
    for known in ("first", "second"):
        await writer.execute(c.CustomerUpdate(case_id=case_id, known=known, investigating="i", next_milestone="m"),
                             "dana")
    first, second = await outbox.claim(writer, ["zd"])
    for item in (first, second):
        assert await outbox.start_send(writer, item) == 0
    await outbox.record_sent(writer, first, "98765")
    await outbox.record_failure(writer, second, wb.DEAD, REASON, frozen_clock.now)

    app = make_app(alerts=AlertSettings(cases=Scope.ALL, bell=False))
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await settled(app, pilot)
        [row] = [line for line in rendered_rows(table(app, "sev1")) if case_id in line]
        assert "⚠ undelivered · ZD-48213 Check" in row
        shown = notifications(app)
        assert f"{case_id} (SEV1) update not delivered to zd ticket 48213: {REASON}" in shown.replace("\n", "")
        assert (await outbox.undelivered(writer))[case_id][0].alerted
        app.clear_notifications()
        await app.read_deliveries()
        await settled(app, pilot)
        assert "not delivered" not in notifications(app)  # once

        app.open_case(case_id)
        await settled(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        flags = "\n".join(rendered_rows(app.screen.query_one("#case-flags")))
        assert "⚠ update not delivered (see the timeline)" in flags
        timeline = "\n".join(rendered_rows(app.screen.query_one("#timeline")))
        assert "delivery to zd ticket 48213: sent 15:00 (comment 98765)" in timeline  # Berlin
        assert "delivery to zd ticket 48213: not delivered (HTTP 422: [b]closed[/b]; `casewatch" in timeline
        assert "[b]closed[/b]" in timeline

        await pilot.press("escape", "exclamation_mark")
        await settled(app, pilot)
        [listed] = [line for line in rendered_rows(app.screen.query_one("#alert-table")) if case_id in line and "ticket" in line]
        assert "⚠ refused" in listed and "update to zd 48213: HTTP 4" in listed

    app = make_app(alerts=AlertSettings(cases=Scope.ALL, bell=False))  # a second board: listed, not rung again
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settled(app, pilot)
        [row] = [line for line in rendered_rows(table(app, "sev1")) if case_id in line]
        assert "⚠ ZD-48213 Acme · Check" in row  # the ticket key and the title stay in view
        assert "not delivered" not in notifications(app)
        assert [(a.case_id, a.delivery.state) for a in app.alert_watch.history if hasattr(a, "delivery")] == [
            (case_id, wb.DEAD)]


async def test_the_case_screen_says_not_delivered_as_soon_as_the_sender_records_it(make_app, writer, frozen_clock):
    """`casewatch deliver` writes no event; the board's feed notices the outbox (sooner than the
    case screen's own 15 s look at a pending delivery)."""
    ticket = Ticket(id="48214", title="Refunds stuck", customer="Acme", priority="urgent", status="open",
                    created_at=frozen_clock.now - timedelta(minutes=5))
    await write_tickets(writer, ZD, [ticket], "dana", await importer(writer, "dana"))
    case_id = (await writer.linked_cases("zd", ["48214"]))["48214"].id
    writer.write_back = {"zd": wb.WriteBack(customer_updates=True)}
    await writer.execute(c.CustomerUpdate(case_id=case_id, known="k", investigating="i", next_milestone="m"), "dana")
    app = make_app(live=True)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        app.open_case(case_id)

        def timeline() -> str:
            found = app.screen.query("#timeline")  # none while the case screen is still loading
            return "\n".join(rendered_rows(found.first())) if found else ""

        async with asyncio.timeout(10):  # a live board's feed runs until it closes: no waiting for every worker
            while not isinstance(app.screen, CaseScreen) or "delivery to zd ticket 48214: queued" not in timeline():
                await pilot.pause(0.05)
        [item] = await outbox.claim(writer, ["zd"])
        assert await outbox.start_send(writer, item) == 0
        await outbox.record_failure(writer, item, wb.DEAD, REASON, frozen_clock.now)
        async with asyncio.timeout(5):
            while "delivery to zd ticket 48214: not delivered (HTTP 422" not in timeline():
                await pilot.pause(0.05)
        assert "⚠ update not delivered (see the timeline)" in "\n".join(rendered_rows(app.screen.query_one("#case-flags")))
