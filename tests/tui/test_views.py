"""Issue 13's one-key views and the status line, through the pilot at 80x24 and 200x60: `m` mine,
`o` unowned, `w` waiting, `b` breached, Esc everything; they combine with `/`."""

from __future__ import annotations

import asyncio
import re

import pytest

from casewatch.core import commands as c
from casewatch.core.calendars import from_us, to_us
from casewatch.core.clocks import ClockState
from casewatch.core.models import Role, Status
from casewatch.storage.feed import FeedState
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from casewatch.tui.screens.alerts import AlertHistoryScreen
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.widgets.status_line import StatusLine
from tests.tui.helpers import rendered_rows, shown_ids
from tests.tui.test_app import help_lines, key_line

SIZES = [(80, 24), (200, 60)]
VIEWS = [("m", "mine", "mine"), ("o", "unowned", "need owners"), ("w", "waiting", "waiting"),
         ("b", "breached", "breached")]


def expected(app, view: str) -> set[str]:
    """The cases a view shows, worked out here from the cases' fields and clocks."""
    now, me = app.now(), app.actor
    found = set()
    for case_id, case in app.state.cases.items():
        if view == "mine":
            hit = me in (case.internal_owner, case.comms_owner, case.route_authority) or (
                case.route_authority is None and app.state.shift_lead == me)  # the lead's by default
        elif view == "unowned":
            hit = case.internal_owner is None or case.comms_owner is None
        elif view == "waiting":
            hit = case.status is Status.WAITING_ON_CUSTOMER
        else:
            hit = any(r.state is ClockState.BREACHED for r in app.state.clocks[case_id].read(now).values())
        if hit:
            found.add(case_id)
    return found


def status(app) -> str:
    [line] = rendered_rows(app.screen.query_one(StatusLine))
    return line


async def make_some_mine(writer, app_state_cases) -> None:
    """The demo floor has no case of dana's but those with no named route authority (she leads the
    shift): give her one as owner, one as comms, one as route authority, and name someone else the
    authority of another."""
    ids = sorted(app_state_cases)
    await writer.execute(c.Assign(case_id=ids[0], name="dana"), "dana")
    await writer.execute(c.AssignComms(case_id=ids[1], name="dana"), "dana")
    await writer.execute(c.SetAuthority(case_id=ids[2], name="dana"), "dana")
    other = next(name for name, person in (await writer.roster()).items() if name != "dana" and person.role is Role.LEAD)
    await writer.execute(c.SetAuthority(case_id=ids[3], name=other), "dana")  # not the lead's: out of her m view


@pytest.fixture
async def floor_with_mine(writer):
    await make_some_mine(writer, {case.id for case in await writer.open_cases()})


@pytest.mark.parametrize("size", SIZES)
async def test_each_view_key_shows_its_cases_and_again_shows_every_case(make_app, floor_with_mine, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        everything = set(app.state.cases)
        assert shown_ids(app) == everything
        late = len(expected(app, "breached"))
        unowned = len(expected(app, "unowned"))
        assert status(app).startswith(" all cases ")
        assert f"{len(everything)} open · {late} late · {unowned} need owners" in status(app)
        for key, view, label in VIEWS:
            await pilot.press(key)
            ids = expected(app, view)
            assert ids and ids != everything, view  # the demo floor has some of each, not only those
            assert shown_ids(app) == ids, view
            line = status(app)
            assert line.startswith(f" {label} · {len(ids)} shown "), line
            floor = f"{len(everything)} open · {late} late · "  # the floor's counts, terse where room is short
            assert f"{floor}{unowned} need owners" in line or (size[0] == 80 and f"{floor}{unowned}⚑" in line), line
            assert re.search(rf" shown( ·|  ) +{len(everything)} open", line), line  # never "shown 24 open"
            assert len(line) == size[0]
            assert app.screen.selected_case() is not None and app.screen.selected_case().id in ids
            await pilot.press(key)  # the same key again: every case
            assert shown_ids(app) == everything
            assert status(app).startswith(" all cases ")


@pytest.mark.parametrize("size", SIZES)
async def test_a_view_combines_with_the_filter_and_escape_clears_both(make_app, floor_with_mine, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        unowned = expected(app, "unowned")
        word = app.state.cases[sorted(unowned)[0]].customer.split()[0]
        await pilot.press("o", "slash")
        await pilot.press(*word, "enter")
        await pilot.pause()
        both = {i for i in unowned if word.casefold() in " ".join(
            (i, app.state.cases[i].title, app.state.cases[i].customer, app.state.cases[i].internal_owner or "",
             app.state.cases[i].comms_owner or "", app.state.cases[i].route,
             app.state.cases[i].status.value)).casefold()}
        assert both and shown_ids(app) == both
        line = status(app)
        assert line.startswith(" need owners · “") and f"” · {len(both)} shown" in line, line
        # issue 25, item 11: at 80 columns the view, the words and the count once gave way to "…" and
        # "2 sho…" while the floor's counts kept their room; why the board is short of cases wins it now
        assert f"“{word}”" in line and f" {len(both)} shown " in line and " late" in line, line
        await pilot.press("w")  # another view keeps the filter
        assert app.screen.filter_text == word and status(app).startswith(" waiting · “")
        await pilot.press("escape")
        assert shown_ids(app) == set(app.state.cases)
        assert app.screen.filter_text == "" and status(app).startswith(" all cases ")


async def test_the_breached_view_takes_in_cases_as_their_clocks_breach(make_app, frozen_clock, floor_with_mine):
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await pilot.press("b")
        before = shown_ids(app)
        frozen_clock.advance(hours=3)
        app.tick(frozen_clock.now)
        await pilot.pause()
        after = expected(app, "breached")
        assert after > before  # more clocks ran out in three hours
        assert shown_ids(app) == after
        assert f"{len(after)} late" in status(app) and f"{len(after)} shown" in status(app)
        await pilot.press("enter")  # a case screen in front while more clocks breach
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        now_us = to_us(frozen_clock.now)
        next_due = min(plan.due_us for plans in app.state.clocks.values() for plan in plans
                       if plan.active and plan.due_us is not None and plan.due_us > now_us)
        frozen_clock.now = from_us(next_due)
        app.tick(frozen_clock.now)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        later = expected(app, "breached")
        assert later > after and shown_ids(app) == later
        assert f"{len(later)} late" in status(app) and f"{len(later)} shown" in status(app)


@pytest.mark.parametrize("size", SIZES)
async def test_the_status_line_shows_the_connection_and_the_refresh_time_in_my_zone(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        local = app.refreshed_at.astimezone(app.zone)
        line = status(app)
        if size[0] == 80:  # the short form
            assert line.endswith(f" · ↻ {local:%H:%M %Z} · ○ off "), line
        else:
            assert line.endswith(f" · refreshed {local:%H:%M:%S %Z} · not following changes "), line


async def test_help_lists_the_view_keys(make_app):
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        lines = help_lines(app)
        for key, what in [("m", "Mine"), ("o", "Need owners"), ("w", "Waiting"), ("b", "Breached"), ("!", "Alerts"),
                          ("esc", "Everything")]:
            assert key_line(lines, what).split()[0].lower() == key, what


async def test_view_keys_can_be_remapped_by_binding_id(board_db, frozen_clock, floor_with_mine):
    app = CasewatchApp(resolve_target(board_db), "dana", clock=frozen_clock, live=False,
                       keymap={"board.view_mine": "M", "board.alerts": "f2"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("M")
        assert shown_ids(app) == expected(app, "mine")
        await pilot.press("m")  # no longer bound to the view
        assert shown_ids(app) == expected(app, "mine")
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, AlertHistoryScreen)


async def test_a_live_board_shows_live_and_when_it_last_polled(make_app, frozen_clock):
    """On SQLite the feed polls every second: the refresh time moves on without any change to read."""
    app = make_app(live=True)
    async with app.run_test(size=(200, 60)) as pilot:
        async with asyncio.timeout(10):
            while app.connection is None or app.connection.state is not FeedState.LIVE:
                await pilot.pause(0.05)
        frozen_clock.advance(minutes=5)
        later = frozen_clock.now.astimezone(app.zone).strftime("%H:%M:%S %Z")
        async with asyncio.timeout(10):
            while f"refreshed {later} · ● live" not in status(app):
                await pilot.pause(0.05)
        assert app.refreshed_at == frozen_clock.now
