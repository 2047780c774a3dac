"""A case linked to a tracker ticket on the board: the ticket key in its title cell, found by the
filter and the palette by ticket id, the ticket on the case screen with `y` copying its URL, and
the tracker's hostile text shown escaped throughout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casewatch.core.tracker import Source, SourceSettings, Ticket
from casewatch.storage.imports import importer, write_tickets
from casewatch.tui.screens.case import CaseScreen
from tests.tui.helpers import palette_hits, rendered_rows, settled, shown_ids, table

HOSTILE = "\x1b]52;c;cm0gLXJmIH4=\x07\u202eevil\x1b[2J"
ZD = Source.of("zd", SourceSettings(kind="zendesk", ticket_url="https://acme.zendesk.com/agent/tickets/{id}"))


@pytest.fixture
async def linked(writer, frozen_clock) -> str:
    """Zendesk ticket 48213 imported onto the seeded board; returns its case id."""
    ticket = Ticket(line=2, id="48213", title="Checkout " + HOSTILE, customer="Acme " + HOSTILE, priority="urgent",
                    status="open", created_at=frozen_clock.now - timedelta(minutes=20))
    await write_tickets(writer, ZD, [ticket], "dana", await importer(writer, "dana"))
    return (await writer.linked_cases("zd", ["48213"]))["48213"].id


async def test_the_board_shows_the_ticket_key_and_finds_the_case_by_ticket_id(make_app, linked):
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        rows = [line for line in rendered_rows(table(app, "sev1")) if linked in line]
        assert rows and "ZD-48213 Checkout \\x1b]52;c;" in rows[0]
        assert not any(ch in line for line in rendered_rows(table(app, "sev1")) for ch in "\x1b\x07\u202e")
        await pilot.press("slash", *"48213", "enter")
        await pilot.pause()
        assert shown_ids(app) == {linked}
        await pilot.press("escape")
        hits = await palette_hits(app, pilot, "ZD-48213")
        assert hits and hits[0].startswith(f"Open {linked} ZD-48213 Checkout \\x1b")


async def test_the_case_screen_shows_the_ticket_and_y_copies_its_url(make_app, linked):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        app.open_case(linked)
        await settled(app, pilot)  # the case screen reads its case in a worker
        assert isinstance(app.screen, CaseScreen)
        fields = "\n".join(rendered_rows(app.screen.query_one("#case-fields")))
        assert "Ticket           ZD-48213 in zd (zendesk)" in fields
        assert "Ticket URL       https://acme.zendesk.com/agent/tickets/48213  (y copies it)" in fields
        assert "Acme \\x1b]52;c;cm0gLXJmIH4=\\x07\\u202eevil" in fields and "\x1b" not in fields
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == "https://acme.zendesk.com/agent/tickets/48213"
