"""Issue 25, "a first shift without surprises": what a new lead tripped over on the board, each
checked the way they met it (80×24 unless the item is about width)."""

from __future__ import annotations

from casewatch.core import commands as c
from casewatch.core.models import Severity
from casewatch.tui.screens.case import CaseScreen
from tests.tui.helpers import focus_pane, palette_hits

SMALL = (80, 24)


async def test_a_query_naming_a_case_puts_opening_it_first(make_app, writer):
    """Item 1: with the cursor on a case, typing its id ranked "Assign the internal investigation
    owner (CW-…)" first, and Enter opened a form on it. A case id or a ticket key the query names
    is opened first, always, in any letter case; actions on the selected case rank below it."""
    ticket = (await writer.execute(c.NewCase(title="Refunds fail T-4821 again", customer="Initech",
                                             severity=Severity.SEV2), "dana")).changed_case.id
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        selected = await focus_pane(app, pilot, "sev1")
        for query, opens in ((selected, selected), (selected.lower(), selected), ("t-4821", ticket)):
            hits = await palette_hits(app, pilot, query)
            assert hits[0].startswith(f"Open {opens} "), (query, hits[:3])
            await pilot.press("escape")
            await pilot.pause()
        await palette_hits(app, pilot, selected)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == selected
