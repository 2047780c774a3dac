"""The handoff screen through the pilot: prepare (incoming lead, notes, send) → the banner on every
board → accept by the incoming lead; and its picture with a frozen clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from textual.widgets import DataTable, Static

from casewatch.core import commands as c
from casewatch.core.handoff import HandoffStatus
from casewatch.core.models import Role, Severity
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from casewatch.tui.messages import ClockTick, LeadChanged
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.forms import Confirm
from casewatch.tui.screens.handoff import HandoffScreen
from casewatch.tui.widgets.clock_bar import ClockBar
from casewatch.tui.widgets.handoff_banner import HandoffBanner
from tests.tui.helpers import Posted, escape_keeps, measured_rows, rendered_rows, workers_done


def shown(widget: Static) -> str:
    return str(widget.render())


async def settle(pilot) -> None:
    await pilot.pause()
    await workers_done(pilot.app)
    await pilot.pause()


async def lead_and_successor(store: Store, now) -> None:
    await store.execute(c.AddPerson(name="ken", role=Role.LEAD, tz="Asia/Tokyo"), "dana")
    await store.execute(c.StartShift(), "dana", at=now - timedelta(hours=6))


@pytest.fixture
async def floor(board_db, frozen_clock):
    """The seeded board, with dana (Berlin) leading since six hours ago and ken (Tokyo) next."""
    async with await Store.open(resolve_target(board_db), clock=frozen_clock) as store:
        await lead_and_successor(store, frozen_clock.now)
        yield store


@pytest.fixture
def floor_sync(board_db, frozen_clock):
    """The same floor with a handoff to ken prepared 20 minutes ago, with notes; since then one case
    went up a severity and a new one came in (snapshot tests are synchronous)."""
    async def prepare() -> None:
        async with await Store.open(resolve_target(board_db), clock=frozen_clock) as store:
            now = frozen_clock.now
            await lead_and_successor(store, now)
            first = (await store.handoff_preview("dana", "ken")).cases[0].id
            await store.execute(c.PrepareHandoff(to="ken", note="Quiet night so far. Call me for [SEV1]s.",
                                                 case_notes={first: "Rollback at 09:00 CET; watch the | pipes"}),
                                "dana", at=now - timedelta(minutes=20))
            raised = min(case.id for case in await store.open_cases() if case.severity is Severity.SEV3)
            await store.execute(c.ChangeSeverity(case_id=raised, severity=Severity.SEV2, reason="more tenants"),
                                "dana", at=now - timedelta(minutes=10))
            await store.execute(c.NewCase(title="Queue stuck", customer="Z", severity=Severity.SEV1), "dana")

    asyncio.run(prepare())


@pytest.mark.slow
async def test_prepare_then_accept(floor, make_app, frozen_clock):
    app = make_app(actor="dana")
    async with app.run_test(size=(180, 50)) as pilot:
        await settle(pilot)
        assert "you lead · 6h00m into the shift" in shown(app.screen.query_one(ClockBar))
        assert not app.screen.query_one(HandoffBanner).display
        await pilot.press("H")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HandoffScreen) and not screen.accepting
        table = screen.query_one("#packet", DataTable)
        preview = await floor.handoff_preview("dana", None)
        assert [row.value for row in table.rows] == [case.id for case in preview.cases]
        first = preview.cases[0].id

        await pilot.press("t", *"ken", "enter")
        await settle(pilot)
        assert screen.incoming == "ken"
        assert [str(col.label) for col in table.columns.values()][5:7] == ["JST", "CET"]
        assert "JST" in table.get_cell(first, "zone1").plain and "CET" in table.get_cell(first, "zone2").plain

        await pilot.press("n")
        await pilot.press(*"rollback [at] 09:00", "ctrl+s")
        await settle(pilot)
        assert table.get_cell(first, "note").plain == "rollback [at] 09:00"
        await pilot.press("N", *"quiet night", "ctrl+s")
        await settle(pilot)
        assert "quiet night" in shown(screen.query_one("#handoff-head", Static))

        await pilot.press("ctrl+s")
        await settle(pilot)
        [handoff] = await floor.handoffs()
        assert handoff.status is HandoffStatus.PENDING and handoff.packet.incoming.name == "ken"
        assert handoff.packet.note == "quiet night" and handoff.packet.cases[0].note == "rollback [at] 09:00"

        await pilot.press("escape")
        await settle(pilot)
        banner = app.screen.query_one(HandoffBanner)
        assert banner.display and "Handoff 1: dana → ken, not accepted for 0s · H to see it" in shown(banner)
        frozen_clock.advance(minutes=16)
        app.screen.post_message(ClockTick(frozen_clock.now))
        await settle(pilot)
        assert banner.has_class("overdue") and "not accepted for 16m — overdue" in shown(banner)

    await floor.execute(c.NewCase(title="Queue stuck", customer="Z", severity=Severity.SEV1), "dana")
    app = make_app(actor="ken")
    async with app.run_test(size=(180, 50)) as pilot:
        await settle(pilot)
        assert "H to accept" in shown(app.screen.query_one(HandoffBanner))
        await pilot.press("H")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HandoffScreen) and screen.accepting
        diff = shown(screen.query_one("#handoff-diff", Static))
        assert "+ new CW-1026 SEV1 Queue stuck" in diff
        assert screen.query_one("#packet", DataTable).get_cell("CW-1026", "mark").plain == "new"
        await pilot.press("a")  # issue 25, item 17: accepting asks first, as resolving does
        await settle(pilot)
        assert isinstance(app.screen, Confirm) and (await floor.current_shift()).lead == "dana"
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert (await floor.current_shift()).lead == "ken"
        assert "you lead · 0s into the shift" in shown(app.screen.query_one(ClockBar))  # ken took it
        assert not app.screen.query_one(HandoffBanner).display


async def test_the_sender_sees_their_handoff_accepted_read_only(floor, make_app):
    """Issue 25, item 16: the former lead's open handoff screen became "from ken to ken" after ken
    accepted, still offering ^s Send. It says who accepted it and when, and shows the packet read-only."""
    await floor.execute(c.PrepareHandoff(to="ken", note="quiet"), "dana")
    leads = Posted(LeadChanged)
    app = make_app(actor="dana", live=True)
    async with app.run_test(size=(80, 24), message_hook=leads) as pilot:
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HandoffScreen) and screen.sent_id == 1
        seen = len(leads.messages)
        await floor.execute(c.AcceptHandoff(handoff_id=1), "ken")
        await leads.wait_for(lambda m: True, since=seen)
        await settle(pilot)
        head = " ".join(shown(screen.query_one("#handoff-head", Static)).split())
        assert "accepted by ken at" in head and "read-only" in head and "from ken to ken" not in head, head
        keys = {b.binding.id for b in screen.active_bindings.values()}
        assert "handoff.send" not in keys and "handoff.to" not in keys and "handoff.back" in keys
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(await floor.handoffs()) == 1  # nothing sent


async def test_only_the_named_lead_sees_the_accept_action(floor, make_app):
    await floor.execute(c.PrepareHandoff(to="ken"), "dana")
    app = make_app(actor="dana")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        screen = app.screen
        assert not screen.accepting and screen.incoming == "ken"  # the preparer carries on with their packet
        assert screen.check_action("accept", ()) is False and screen.check_action("send", ()) is True
        await pilot.press("a")  # not bound here: nothing happens
        await settle(pilot)
        assert (await floor.current_shift()).lead == "dana"


def test_handoff_screen_snapshot(floor_sync, make_app, snap_compare):
    async def open_handoff(pilot):
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)

    assert snap_compare(make_app(actor="ken"), terminal_size=(160, 48), run_before=open_handoff)


async def test_the_handoff_in_column_is_whole_at_every_width(floor, make_app, frozen_clock):
    """The relative time ("46h48m ago", "in 15m") is never cut, also once the clock has moved on and
    it grew wider, and the zone columns stay at 80 columns: the title and the note give way."""
    def check(screen, width: int) -> None:
        packet = screen.query_one("#packet", DataTable)
        rows = rendered_rows(packet)
        assert "In " in rows[0] and rows[0].count("CET") == 2, (width, rows[0])  # both zones, whole
        shown = [screen._shown[key.value] for key in list(packet.rows)[: packet.size.height - 2]]
        assert shown and any(text.endswith("ago") for text in shown), shown
        for case_row, text in zip(rows[1:], shown, strict=False):
            assert text in case_row, (width, text, case_row)

    start = frozen_clock.now
    for width in (180, 120, 80):
        frozen_clock.now = start
        app = make_app(actor="dana")
        async with app.run_test(size=(width, 40)) as pilot:
            await pilot.pause()
            await pilot.press("H")
            await pilot.pause()
            await workers_done(app)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, HandoffScreen)
            check(screen, width)
            screen.post_message(ClockTick(frozen_clock.advance(hours=100)))  # "21h56m ago" → "121h56m ago"
            await pilot.pause()
            check(screen, width)


async def test_choosing_someone_who_cannot_take_the_shift_says_why_and_the_sent_packet_stays_readable(
        floor, make_app):
    """From a fresh-eyes run: typing an agent's name said "sofia is not on the roster", and once the
    handoff was sent its table cut the case ids and countdowns at 120 columns."""
    await floor.execute(c.AddPerson(name="sofia", role=Role.AGENT, tz="Europe/Berlin"), "dana")
    app = make_app(actor="dana")
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        screen = app.screen
        await pilot.press("t", *"sofia", "enter")
        await settle(pilot)
        error = shown(app.screen.query_one("#form-error", Static))
        assert "sofia is an agent: the incoming shift lead must be a lead" in error
        await pilot.press("ctrl+a", "ctrl+k", *"ken", "enter")
        await settle(pilot)
        assert app.screen is screen and screen.incoming == "ken"
        table = screen.query_one("#packet", DataTable)
        first = table.get_row_at(0)
        before = [line for line in await measured_rows(pilot, table) if first[1].plain in line]
        await pilot.press("N", *"quiet night", "ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [h.packet.incoming.name for h in await floor.handoffs()] == ["ken"]
        table = app.screen.query_one("#packet", DataTable)
        rows = await measured_rows(pilot, table)
        case_id = table.get_row_at(0)[1].plain
        assert any(case_id in line and table.get_row_at(0)[4].plain in line for line in rows), (before, rows)


async def test_esc_on_an_edited_handoff_note_asks_before_discarding_it(floor, make_app):
    """From a second fresh-eyes run: the handoff's notes were the only forms Esc still emptied silently."""
    from casewatch.tui.screens.handoff import NotePrompt

    app = make_app(actor="dana")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        screen = app.screen
        await pilot.press("N")
        await pilot.pause()
        await pilot.press("escape")  # untouched: closes at once
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("N", *"watch CW-1010")
        await escape_keeps(app, pilot, NotePrompt, "watch CW-1010")
        await pilot.press("escape", "y")
        await pilot.pause()
        assert app.screen is screen and "Note: —" in shown(screen.query_one("#handoff-head", Static))
