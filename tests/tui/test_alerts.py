"""Issue 13's alerts on the board, through the pilot: a toast, the bell and the alert command once per
clock turn; one summary at start-up; a failing or hanging command costs the board nothing and is
reported once; `!` lists the alerts, newest first, and Enter goes to the case."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import timedelta

import pytest

from casewatch.core import commands as c
from casewatch.core.alerts import AlertSettings, Scope, next_turn_us
from casewatch.core.calendars import from_us, to_us
from casewatch.core.clocks import ClockKind, ClockState
from casewatch.core.models import Severity, iso_z
from casewatch.core.tracker import Source, SourceSettings, Ticket
from casewatch.core.views import NO_DEADLINE
from casewatch.storage.imports import importer, write_tickets
from casewatch.storage.target import resolve_target
from casewatch.tui import alert_watch
from casewatch.tui.app import ALERT_TOASTS_SHOWN, CasewatchApp
from casewatch.tui.screens.alerts import AlertHistoryScreen
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.screens.help import HelpScreen
from tests.tui.conftest import BRACKETS
from tests.tui.helpers import notifications, rendered_rows, screen_text, settled, workers_done

SIZES = [(80, 24), (200, 60)]
KINDS = (ClockKind.OWNER, ClockKind.CUSTOMER_UPDATE, ClockKind.INTERNAL_REVIEW)


@pytest.fixture
async def dana_leads(writer):
    """dana leads the shift, so every case alerts her (the default `cases = "auto"`)."""
    await writer.execute(c.StartShift(), "dana")


def board_app(board_db, frozen_clock, live: bool = False, **options) -> CasewatchApp:
    return CasewatchApp(resolve_target(board_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=live,
                        **options)


def count_bells(app) -> list[int]:
    rung: list[int] = []
    app.bell = lambda: rung.append(1)  # headless, Textual's bell writes nothing to look at
    return rung


def states(app, at) -> dict[tuple[str, ClockKind], ClockState]:
    now_us = to_us(at)
    return {(case_id, kind): plan.state_at(now_us)[0]
            for case_id, plans in app.state.clocks.items() for kind, plan in zip(KINDS, plans, strict=True)}


def late_now(app) -> tuple[int, int]:
    """(breached, in warning) clocks on the floor now, counted here."""
    found = list(states(app, app.now()).values())
    return found.count(ClockState.BREACHED), found.count(ClockState.WARNING)


def next_turn(app):
    """The soonest instant a clock on the floor turns, and which clocks turn then (worked out here)."""
    now_us = to_us(app.now())
    turn = min((next_turn_us(plans, now_us) or NO_DEADLINE) for plans in app.state.clocks.values())
    at = from_us(turn)
    before, after = states(app, app.now()), states(app, at)
    turning = {key: after[key] for key in after if after[key] != before[key]
               and after[key] in (ClockState.WARNING, ClockState.BREACHED)}
    return at, turning


async def test_one_summary_at_start_up_and_no_alert_for_clocks_already_late(board_db, frozen_clock, dana_leads):
    app = board_app(board_db, frozen_clock)
    rung = count_bells(app)
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.pause()
        breached, warning = late_now(app)
        assert breached >= 2 and warning >= 1  # the demo floor has late clocks
        shown = notifications(app)
        assert (f"{breached} clocks breached and {warning} clocks in warning since you last looked"
                in shown), shown
        assert "Clock breached" not in shown and "Clock warning" not in shown
        assert len(rung) == 1
        assert len(app.alert_watch.history) == breached + warning
        assert all(alert.missed for alert in app.alert_watch.history)


async def test_a_clock_turning_alerts_once_with_toast_and_bell(board_db, frozen_clock, dana_leads):
    app = board_app(board_db, frozen_clock)
    rung = count_bells(app)
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.pause()
        app.clear_notifications()
        seen, bells = len(app.alert_watch.history), len(rung)
        at, turning = next_turn(app)
        assert 1 <= len(turning) <= 3
        frozen_clock.now = at
        app.tick(at)
        await pilot.pause()
        new = app.alert_watch.history[seen:]
        assert {(a.case_id, a.clock): a.state for a in new} == turning
        assert len(rung) == bells + 1
        shown = notifications(app)
        for alert in new:
            assert f"Clock {alert.state.value}" in shown
            assert alert.case_id in shown and alert.due.astimezone(app.zone).strftime("%H:%M") in shown
        for _ in range(3):  # later looks at the same clocks: nothing more
            frozen_clock.advance(seconds=1)
            app.tick(frozen_clock.now)
            await pilot.pause()
        assert app.alert_watch.history[seen:] == new and len(rung) == bells + 1
        late = {case_id for (case_id, _), state in states(app, app.now()).items() if state is ClockState.BREACHED}
        assert app.alert_watch.late_count() == len(late)  # kept up turn by turn, not recounted


async def test_a_busy_floor_shows_the_newest_alert_toasts_and_the_history_keeps_every_alert(board_db, frozen_clock,
                                                                                           dana_leads):
    app = board_app(board_db, frozen_clock)
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.pause()
        seen = len(app.alert_watch.history)
        while len(app.alert_watch.history) - seen <= ALERT_TOASTS_SHOWN + 2:  # turn after turn, within ALERT_TOAST_S
            at, _ = next_turn(app)
            frozen_clock.now = at
            app.tick(at)
            await pilot.pause()
        await pilot.pause()
        alerts = app.alert_watch.history[seen:]
        toasts = [str(toast.render()) for toast in app.screen.query("Toast")]
        shown = [text for text in toasts if "Clock breached" in text or "Clock warning" in text or "Alerts" in text]
        assert len(shown) == ALERT_TOASTS_SHOWN
        assert alerts[-1].case_id in shown[-1]  # the newest stays; the oldest gave way
        assert not any(alerts[0].text(app.zone)[:30] in " ".join(text.split()) for text in shown)


async def test_the_bell_can_be_switched_off_and_the_viewers_own_cases_alert(board_db, frozen_clock, writer):
    app = board_app(board_db, frozen_clock, alerts=AlertSettings(bell=False, cases=Scope.MINE))
    rung = count_bells(app)
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.pause()
        assert app.alert_watch.history == []  # dana owns nothing and does not lead: no summary
        at, turning = next_turn(app)
        [(case_id, _kind)] = list(turning)[:1]
        app.take_case((await writer.execute(c.Assign(case_id=case_id, name="dana"), "dana")).case)
        await pilot.pause()
        frozen_clock.now = at
        app.tick(at)
        await pilot.pause()
        assert {a.case_id for a in app.alert_watch.history} == {case_id}
        assert rung == []


async def test_a_case_that_joins_the_board_already_late_alerts_at_once(board_db, frozen_clock, dana_leads, writer):
    """Created (`case new --at`) or imported already breached while the board runs: a toast and the
    history, as for a turn; not only the start-up summary of a board opened later."""
    app = board_app(board_db, frozen_clock, live=True, alerts=AlertSettings(bell=False))
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.pause()
        app.clear_notifications()
        seen = len(app.alert_watch.history)
        ago = frozen_clock.now - timedelta(minutes=40)
        created = await writer.execute(c.NewCase(title="Checkout [b]down", customer="Initech", severity=Severity.SEV1),
                                       "dana", at=ago)
        case_id = created.event.case_id
        while case_id not in app.state.cases:
            await pilot.pause(0.05)
        await settled(app, pilot)
        new = app.alert_watch.history[seen:]
        assert {(a.case_id, a.clock, a.state) for a in new} >= {(case_id, ClockKind.OWNER, ClockState.BREACHED)}
        assert not any(alert.missed for alert in new)
        shown = notifications(app)
        assert "Clock breached" in shown and case_id in shown and "Checkout [b]down" in shown

        frozen_clock.advance(seconds=60)  # past the alert pace
        seen = len(app.alert_watch.history)
        ticket = Ticket(id="7001", title="Payments down", customer="Initech", priority="urgent", status="open",
                        created_at=frozen_clock.now - timedelta(minutes=40))
        await write_tickets(writer, Source.of("csv", SourceSettings(kind="csv")), [ticket], "dana",
                            await importer(writer, "dana"))
        imported = (await writer.linked_cases("csv", ["7001"]))["7001"].id
        while imported not in app.state.cases:
            await pilot.pause(0.05)
        await settled(app, pilot)
        assert (imported, ClockKind.OWNER, ClockState.BREACHED) in {
            (a.case_id, a.clock, a.state) for a in app.alert_watch.history[seen:]}
        assert imported in notifications(app)
        await pilot.press("exclamation_mark")
        await settled(app, pilot)
        rows = rendered_rows(app.screen.query_one("#alert-table"))
        assert any(imported in row for row in rows) and any(case_id in row for row in rows)


def dump_script(tmp_path) -> tuple[str, object]:
    out = tmp_path / "alerts.jsonl"
    path = tmp_path / "dump.py"
    path.write_text(textwrap.dedent("""
        import json, os, sys
        with open(sys.argv[1], "a") as out:
            out.write(json.dumps({k: v for k, v in os.environ.items() if k.startswith("CASEWATCH_")}) + "\\n")
    """))
    return str(path), out


async def test_the_alert_command_gets_the_variables(board_db, frozen_clock, dana_leads, tmp_path):
    script, out = dump_script(tmp_path)
    app = board_app(board_db, frozen_clock, alerts=AlertSettings(command=(sys.executable, script, str(out))))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await workers_done(app)
        [summary] = [json.loads(line) for line in out.read_text().splitlines()]
        breached, warning = late_now(app)
        assert summary["CASEWATCH_ALERT"] == "summary" and summary["CASEWATCH_STATE"] == "breached"
        assert summary["CASEWATCH_COUNT"] == str(breached + warning)
        assert summary["CASEWATCH_MESSAGE"].startswith(f"{breached} clocks breached")
        at, turning = next_turn(app)
        frozen_clock.now = at
        app.tick(at)
        await pilot.pause()
        await workers_done(app)
        runs = [json.loads(line) for line in out.read_text().splitlines()][1:]
        assert len(runs) == len(turning)
        for run in runs:
            case = app.state.cases[run["CASEWATCH_CASE_ID"]]
            kind = ClockKind(run["CASEWATCH_CLOCK"])
            plan = app.state.clocks[case.id][KINDS.index(kind)]
            assert turning[(case.id, kind)].value == run["CASEWATCH_STATE"]
            assert run["CASEWATCH_ALERT"] == "clock"
            assert run["CASEWATCH_SEVERITY"] == case.severity.value and run["CASEWATCH_TITLE"] == case.title
            assert run["CASEWATCH_DUE"] == iso_z(from_us(plan.due_us))
            assert case.id in run["CASEWATCH_MESSAGE"]


async def test_a_hanging_command_is_killed_reported_once_and_the_board_keeps_going(board_db, frozen_clock,
                                                                                  dana_leads, tmp_path):
    hang = tmp_path / "hang.py"
    hang.write_text("import time\ntime.sleep(600)\n")
    app = board_app(board_db, frozen_clock, alerts=AlertSettings(command=(sys.executable, str(hang))),
                    alert_timeout_s=1.5)
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.pause()
        [running] = [w for w in app.workers if w.name == "Alert command"]
        table = app.screen.focused
        row = table.cursor_row
        await pilot.press("j")  # the board answers while the command hangs
        assert table.cursor_row == row + 1 and not running.is_finished
        await workers_done(app)
        shown = notifications(app)
        assert shown.count("Alert command failed") == 1
        assert f"{sys.executable} did not finish within 1.5 s and was stopped" in shown
        at, _ = next_turn(app)
        frozen_clock.now = at
        app.tick(at)  # the command hangs again: killed again, not reported again
        await pilot.pause()
        await workers_done(app)
        assert notifications(app).count("Alert command failed") == 1


@pytest.mark.parametrize("size", SIZES)
async def test_the_alert_history_lists_newest_first_and_enter_opens_the_case(board_db, frozen_clock, dana_leads,
                                                                            size):
    app = board_app(board_db, frozen_clock)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        at, turning = next_turn(app)
        frozen_clock.now = at
        app.tick(at)
        await pilot.pause()
        history = app.alert_watch.history
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert isinstance(app.screen, AlertHistoryScreen)
        table = app.screen.query_one("#alert-table")
        assert table.row_count == len(history)
        order = [int(row.key.value) for row in table.ordered_rows]
        assert sorted(order) == list(range(len(history)))
        for above, below in zip(order, order[1:], strict=False):  # newest first; seen at once: most severe first
            assert (history[above].at, -above) > (history[below].at, -below)
            if history[above].at == history[below].at:
                assert history[above].severity <= history[below].severity
        rows = [line for line in rendered_rows(table) if "CW-" in line]
        newest = history[-1]
        assert not newest.missed and newest.case_id in rows[0] and not rows[0].lstrip().startswith("↺")
        assert history[-len(turning) - 1].missed and rows[len(turning)].lstrip().startswith("↺")  # start-up's
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == newest.case_id
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen) and app.screen.selected_case().id == newest.case_id
        await pilot.press("exclamation_mark")
        await pilot.pause()
        await pilot.press("exclamation_mark")  # the same key closes it
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_the_alert_history_has_its_own_keys_footer_and_help_at_80_columns(board_db, frozen_clock, dana_leads):
    app = board_app(board_db, frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        while len(app.alert_watch.history) < 30:  # more alerts than the dialog has rows
            at, _ = next_turn(app)
            frozen_clock.now = at
            app.tick(at)
        await pilot.press("exclamation_mark")
        await settled(app, pilot)
        assert isinstance(app.screen, AlertHistoryScreen)
        shown = screen_text(app)
        footer = shown.splitlines()[-1]
        for key in ("esc Back", "? Help", "⏎ Open", "a Acknowledge", "z Snooze"):
            assert key in footer, footer
        assert "Owner" not in footer and "Filter" not in footer  # not the board's keys
        assert "a acknowledges the alert" in shown and "z snoozes the case's alerts" in shown  # not cut off
        table = app.screen.query_one("#alert-table")
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert table.cursor_row == 3
        await pilot.press("k")
        await pilot.pause()
        assert table.cursor_row == 2
        chosen = app.alert_watch.history[int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)]
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = screen_text(app)
        assert "Acknowledge" in keys and "Snooze" in keys and "Owner" not in keys
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AlertHistoryScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == chosen.case_id


async def test_a_board_open_for_days_keeps_the_newest_alerts_and_their_rows_still_open_their_cases(
        board_db, frozen_clock, dana_leads, monkeypatch):
    monkeypatch.setattr(alert_watch, "HISTORY_LIMIT", 2)
    app = board_app(board_db, frozen_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        watch = app.alert_watch
        for _ in range(3):  # three turns, each alerting at least once, the start-up summary before them
            at, _turning = next_turn(app)
            frozen_clock.now = at
            app.tick(at)
            await pilot.pause()
        assert len(watch.history) == 2 and watch.dropped == watch.recorded - 2 >= 2
        await pilot.press("exclamation_mark")
        await pilot.pause()
        table = app.screen.query_one("#alert-table")
        assert sorted(int(row.key.value) for row in table.ordered_rows) == [watch.dropped, watch.dropped + 1]
        assert f"The newest 2 of {watch.recorded}" in str(app.screen.query_one(".form").border_title)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == watch.history[-1].case_id


async def test_the_alert_history_says_so_when_empty(board_db, frozen_clock):
    app = board_app(board_db, frozen_clock, alerts=AlertSettings(cases=Scope.NONE))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert "No alerts since the board opened." in str(app.screen.query_one("#alert-empty").render())
        hints = " ".join(str(label.render()) for label in app.screen.query(".hint"))
        assert 'Alerts are off (cases = "none" in the [alerts] table of the config file).' in hints
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_an_alert_shows_the_title_as_typed(board_db, frozen_clock, dana_leads):
    app = board_app(board_db, frozen_clock)
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.pause()
        [case_id] = [i for i, case in app.state.cases.items() if case.title == BRACKETS]
        warn_us = app.state.clocks[case_id].owner.warn_us
        while to_us(frozen_clock.now) < warn_us:  # turn by turn, so that no burst makes it a summary
            frozen_clock.now, _ = next_turn(app)
            app.clear_notifications()
            app.tick(frozen_clock.now)
            await pilot.pause()
        assert case_id in {alert.case_id for alert in app.alert_watch.history if not alert.missed}
        shown = " ".join(notifications(app).split())  # the toast wraps the line
        assert f"{case_id} (SEV1) warning: owner due" in shown and BRACKETS in shown
        await pilot.press("exclamation_mark")
        await pilot.pause()
        table = app.screen.query_one("#alert-table")
        row = next(r.key for r in table.ordered_rows if table.get_cell(r.key, "case").plain == case_id)
        assert table.get_cell(row, "title").plain == BRACKETS
        assert any(BRACKETS[:18] in line for line in rendered_rows(table))  # "Login fails [prod]", cut to the column


async def test_many_clocks_turning_at_once_make_one_summary(board_db, frozen_clock, dana_leads):
    app = board_app(board_db, frozen_clock)
    rung = count_bells(app)
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.pause()
        app.clear_notifications()
        seen, bells = len(app.alert_watch.history), len(rung)
        before = states(app, app.now())
        frozen_clock.advance(days=3)
        after = states(app, frozen_clock.now)
        worse = [key for key in after if after[key] is ClockState.BREACHED and before[key] is not ClockState.BREACHED]
        assert len(worse) > 3
        app.tick(frozen_clock.now)
        await pilot.pause()
        new = app.alert_watch.history[seen:]
        assert len(new) > 3 and not any(alert.missed for alert in new)
        shown = notifications(app)
        breached = sum(alert.state is ClockState.BREACHED for alert in new)
        assert f"{breached} clocks breached" in shown and "just now" in shown
        assert "Clock breached" not in shown and "Clock warning" not in shown
        assert len(rung) == bells + 1


async def test_a_replay_of_the_past_raises_no_alert(board_db, frozen_clock, dana_leads):
    app = board_app(board_db, frozen_clock, replay_at=frozen_clock.now)
    rung = count_bells(app)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        assert late_now(app)[0] >= 2  # late clocks then, as now
        assert app.alert_watch.history == [] and rung == [] and "since you last looked" not in notifications(app)
        await pilot.press("exclamation_mark")
        await pilot.pause()
        hints = " ".join(str(label.render()) for label in app.screen.query(".hint"))
        assert "A replay of the past raises no alerts." in hints
