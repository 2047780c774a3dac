"""The board through Textual's pilot: what a lead sees and does."""

from __future__ import annotations

from textual.widgets import DataTable

from casewatch.core import commands as c
from casewatch.core.calendars import to_us
from casewatch.core.durations import format_countdown
from casewatch.core.models import Role, Severity, Status
from casewatch.tui.messages import CasesChanged
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from tests.tui.conftest import BRACKETS
from tests.tui.helpers import Posted, notifications, rendered_rows, shown_ids, table, workers_done


async def test_panes_by_severity_with_counts_sorted_by_nearest_deadline(make_app):
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        panes = list(app.screen.query(".pane"))
        assert [p.id for p in panes] == ["pane-sev1", "pane-sev2", "pane-sev3", "pane-sev4"]
        for severity in Severity:
            ids = [row.value for row in table(app, severity.value.lower()).rows]
            expected = [cid for cid, case in app.state.cases.items() if case.severity is severity]
            assert sorted(ids) == sorted(expected)
            assert str(app.screen.query_one(f"#pane-{severity.value.lower()}").border_title).startswith(
                f"{severity.value} ") and f"· {len(ids)} case" in str(
                app.screen.query_one(f"#pane-{severity.value.lower()}").border_title)
            dues = [app.state.clocks[i].nearest_due_us or 2**63 for i in ids]
            assert dues == sorted(dues)


async def test_user_text_renders_literally(make_app):
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        rows = rendered_rows(table(app, "sev1"))
        assert any(BRACKETS in row and "[ACME] Corp" in row for row in rows), rows


async def test_enter_opens_the_case_and_escape_returns_to_the_same_row(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        sev3 = table(app, "sev3")
        sev3.focus()
        await pilot.press("down", "down")
        chosen = sev3.selected_id()
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == chosen
        timeline = app.screen.query_one("#timeline", DataTable)
        assert timeline.row_count >= 1
        assert "escalated as" in "".join(rendered_rows(timeline))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen) and sev3.selected_id() == chosen


async def test_live_refresh_from_another_writer_keeps_the_cursor_on_its_case(make_app, writer):
    app = make_app(live=True)
    changes = Posted(CasesChanged)
    async with app.run_test(size=(200, 60), message_hook=changes) as pilot:
        await pilot.pause()
        sev2 = table(app, "sev2")
        sev2.focus()
        await pilot.press("down")
        chosen = sev2.selected_id()
        new = await writer.execute(c.NewCase(title="Checkout down [EU]", customer="Globex", severity=Severity.SEV2),
                                   "dana")
        await changes.wait_for(lambda m: new.case.id in m.changed)  # the next poll, about a second
        await pilot.pause()
        assert new.case.id in [row.value for row in sev2.rows]
        assert sev2.selected_id() == chosen
        # A change elsewhere reaches the same row by key; nothing is rebuilt.
        seen = len(changes.messages)
        await writer.execute(c.Assign(case_id=new.case.id, name="ravi"), "dana")
        await changes.wait_for(lambda m: new.case.id in m.changed, since=seen)
        await pilot.pause()
        assert app.state.cases[new.case.id].internal_owner == "ravi"
        assert "ravi" in sev2.get_row(new.case.id)[sev2.get_column_index("owner")].plain
        assert sev2.selected_id() == chosen


async def test_assign_an_owner_in_three_keystrokes_plus_the_name(make_app, writer):
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        sev1 = table(app, "sev1")
        sev1.focus()
        unowned = next(row.value for row in sev1.rows if app.state.cases[row.value].internal_owner is None)
        sev1.move_cursor(row=sev1.get_row_index(unowned))
        await pilot.press("a")          # 1
        await pilot.press(*"mei")       # the name
        await pilot.press("enter")      # 2
        await workers_done(app)
        await pilot.pause()
        assert (await writer.get_case(unowned)).internal_owner == "mei"
        assert f"{unowned} internal owner: nobody → mei" in notifications(app)
        assert "mei" in sev1.get_row(unowned)[sev1.get_column_index("owner")].plain


async def test_unknown_name_is_refused_inline(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        table(app, "sev1").focus()
        await pilot.press("a", *"nobody", "enter")
        await pilot.pause()
        assert "is not on the roster" in str(app.screen.query_one("#form-error").render())
        await pilot.press("escape", "y")  # something typed: Esc asks before discarding it
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_update_form_previews_the_customer_message(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        table(app, "sev1").focus()
        await pilot.press("u")
        await pilot.press(*"Logins fail for SSO users")
        await pilot.pause()
        preview = str(app.screen.query_one("#preview").render())
        assert "What we know: Logins fail for SSO users" in preview and "Hello" in preview
        await pilot.press("escape")


async def test_viewers_are_told_before_a_form_opens(make_app, writer):
    await writer.execute(c.AddPerson(name="alex2", role=Role.VIEWER, tz="UTC"), "dana")
    app = make_app(actor="alex2")
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        table(app, "sev1").focus()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert "viewers may not change anything" in notifications(app)


async def test_80x24_keeps_id_severity_and_both_countdowns(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        keys = [column.value for column in table(app, "sev1").columns]
        assert {"id", "owner_clock", "update_clock"} <= set(keys) and "sev" not in keys
        assert "route" not in keys and "customer" not in keys
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert {"route", "customer", "owner", "comms", "status"} <= {c.value for c in table(app, "sev1").columns}


async def test_countdowns_are_deadline_minus_now_on_each_tick(make_app, frozen_clock):
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        sev1 = table(app, "sev1")
        case_id = next(r.value for r in sev1.rows if app.state.clocks[r.value].customer_update.active)
        before = sev1.get_row(case_id)[sev1.get_column_index("update_clock")].plain
        frozen_clock.advance(minutes=7)
        app.tick(frozen_clock.now)
        await pilot.pause()
        after = sev1.get_row(case_id)[sev1.get_column_index("update_clock")].plain
        reading = app.state.clocks[case_id].customer_update.read(to_us(frozen_clock.now))
        assert before != after
        assert format_countdown(reading.remaining_s) in after


async def test_keys_can_be_remapped_by_binding_id(board_db, frozen_clock):
    from casewatch.storage.target import resolve_target
    from casewatch.tui.app import CasewatchApp
    from casewatch.tui.screens.forms import PersonPrompt

    app = CasewatchApp(resolve_target(board_db), "dana", clock=frozen_clock, live=False,
                       keymap={"case.assign": "o"})
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        table(app, "sev1").focus()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)  # "a" no longer assigns
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, PersonPrompt)


async def test_enter_takes_a_unique_beginning_of_a_name(make_app, writer):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        sev2 = table(app, "sev2")
        sev2.focus()
        case_id = sev2.selected_id()
        await pilot.press("a", *"m")  # marcus and mei both start with m
        await pilot.press("enter")
        await pilot.pause()
        assert "m could be marcus, mei: type more" in str(app.screen.query_one("#form-error").render())
        await pilot.press(*"ar", "enter")
        await workers_done(app)
        await pilot.pause()
        assert (await writer.get_case(case_id)).internal_owner == "marcus"


def test_match_names():
    from casewatch.tui.screens.forms import match_names

    names = ["mei", "marcus", "Mei-Ling"]
    assert match_names("MEI", names) == ["mei"]
    assert match_names("mei-", names) == ["Mei-Ling"]
    assert match_names("m", names) == names
    assert match_names("zed", names) == [] and match_names("", names) == []


async def test_policy_is_reachable_from_the_command_palette(make_app):
    from casewatch.tui.screens.policy import PolicyScreen

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"severity policy")
        await workers_done(app)  # the palette searches in a worker
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PolicyScreen)
        shown = "\n".join(rendered_rows(app.screen.query_one("#policy-text")))
        assert f"v{app.state.policy.version}" in str(app.screen.query_one(".form").border_title)
        assert "[severities.SEV1]" in shown and "owner_within" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_live_refresh_on_every_backend(db_url, frozen_clock):
    """Two writers, one board: the board follows the other writer on SQLite and on PostgreSQL."""
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target
    from casewatch.tui.app import CasewatchApp
    from tests.tui.conftest import LEAD

    target = resolve_target(db_url)
    async with await Store.open(target, clock=frozen_clock, creator=LEAD) as other:
        first = await other.execute(c.NewCase(title="Payments [EU] failing", customer="Globex",
                                              severity=Severity.SEV1), "dana")
        app = CasewatchApp(target, "dana", clock=frozen_clock, live=True)
        changes = Posted(CasesChanged)
        async with app.run_test(size=(160, 40), message_hook=changes) as pilot:
            await pilot.pause()
            sev1 = table(app, "sev1")
            assert [row.value for row in sev1.rows] == [first.case.id]
            second = await other.execute(c.NewCase(title="Checkout down", customer="Initech",
                                                   severity=Severity.SEV1), "dana")
            await other.execute(c.ChangeStatus(case_id=first.case.id, status=Status.RESOLVED), "dana")
            await changes.wait_for(lambda m: first.case.id in m.removed)
            await pilot.pause()
            assert [row.value for row in sev1.rows] == [second.case.id]


async def test_filter_narrows_every_pane_and_escape_clears_it(make_app, writer):
    from casewatch.core.case_filter import Seen, parse_filter

    app = make_app(live=True)
    changes = Posted(CasesChanged)
    async with app.run_test(size=(200, 60), message_hook=changes) as pilot:
        await pilot.pause()
        every = sum(table(app, s.value.lower()).row_count for s in Severity)
        await pilot.press("slash", *"ravi", "enter")
        await pilot.pause()
        ravi = parse_filter("ravi")
        expected = {cid for cid, case in app.state.cases.items()
                    if ravi.matches(case, Seen("dana", app.now(), app.state.clocks))}
        assert shown_ids(app) == expected and 0 < len(expected) < every
        assert "matching “ravi”" in str(app.screen.query_one("#pane-sev1").border_title)
        # Another writer's changes arrive through the live refresh: a case that starts to match
        # appears, one that stops matching leaves, and one that still does not match stays out.
        joining = next(cid for cid in app.state.cases if cid not in expected)
        leaving = next(cid for cid in expected if app.state.cases[cid].comms_owner != "ravi"
                       and "ravi" not in app.state.cases[cid].title.lower())
        untouched = next(cid for cid in app.state.cases if cid not in expected and cid != joining)
        since = len(changes.messages)
        await writer.execute(c.Assign(case_id=joining, name="ravi"), "dana")
        await writer.execute(c.Assign(case_id=leaving, name="mei"), "dana")
        await writer.execute(c.Note(case_id=untouched, text="ravi looked at it"), "dana")  # notes are not searched
        await changes.wait_for_all(  # the change feed delivers them, in one update or several
            lambda seen: {joining, leaving, untouched} <= {i for m in seen for i in m.changed | m.removed}, since)
        await pilot.pause()
        assert shown_ids(app) == expected - {leaving} | {joining}
        await pilot.press("escape")
        await pilot.pause()
        assert sum(table(app, s.value.lower()).row_count for s in Severity) == every


async def test_rows_out_of_view_catch_up_when_scrolled_into_view(make_app, frozen_clock):
    app = make_app()
    async with app.run_test(size=(160, 24)) as pilot:  # small panes: most rows are out of view
        await pilot.pause()
        sev3 = table(app, "sev3")
        hidden = [r.key.value for r in sev3.ordered_rows if app.state.clocks[r.key.value].customer_update.active][-1]
        column = sev3.get_column_index("update_clock")
        before = sev3.get_row(hidden)[column].plain
        frozen_clock.advance(minutes=30)
        app.tick(frozen_clock.now)
        await pilot.pause()
        reading = app.state.clocks[hidden].customer_update.read(to_us(frozen_clock.now))
        expected = format_countdown(reading.remaining_s)
        assert expected not in before
        assert sev3.get_row(hidden)[column].plain == before  # not redrawn while out of view
        sev3.focus()
        sev3.move_cursor(row=sev3.get_row_index(hidden))  # scrolls it into view
        await pilot.pause()
        assert expected in sev3.get_row(hidden)[column].plain
        assert any(hidden in line and expected in line for line in rendered_rows(sev3))


async def test_pane_titles_keep_counting_late_cases_as_ticks_breach_them(make_app, frozen_clock):
    from casewatch.core.clocks import ClockState

    def late_in_title(severity: Severity) -> int:
        title = str(app.screen.query_one(f"#pane-{severity.value.lower()}").border_title)
        return int(title.split(" late")[0].rsplit("· ", 1)[1]) if " late" in title else 0

    def late_by_the_clocks(severity: Severity) -> int:
        now_us = to_us(frozen_clock.now)
        return sum(1 for case_id, case in app.state.cases.items() if case.severity is severity and any(
            plan.state_at(now_us)[0] is ClockState.BREACHED for plan in app.state.clocks[case_id]))  # all three

    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        before = sum(late_in_title(s) for s in Severity)
        for hours in (1, 3, 8):
            frozen_clock.advance(hours=hours)
            app.tick(frozen_clock.now)
            await pilot.pause()
            assert {s: late_in_title(s) for s in Severity} == {s: late_by_the_clocks(s) for s in Severity}
        assert sum(late_in_title(s) for s in Severity) > before


async def test_pane_titles_count_cases_that_breach_out_of_view(make_app, frozen_clock):
    """A tick reads the countdowns of the rows on screen only; a case whose clock breaches out of
    view still counts as late in its pane's title, and its row shows the breach once in view."""
    from casewatch.core.clocks import ClockState
    from casewatch.tui.widgets.cells import GLYPH

    app = make_app()
    async with app.run_test(size=(160, 24)) as pilot:  # small panes: most rows are out of view
        await pilot.pause()
        sev3 = table(app, "sev3")
        now_us = to_us(frozen_clock.now)
        hidden = [r.key.value for r in sev3.ordered_rows[sev3.size.height + 2:]
                  if app.state.clocks[r.key.value].customer_update.state_at(now_us)[0] is ClockState.RUNNING]
        assert hidden, "a running clock out of view"
        case_id = hidden[-1]
        plan = app.state.clocks[case_id].customer_update
        assert plan.due_us is not None
        late_before = app.screen._counts[Severity.SEV3].late
        frozen_clock.advance(seconds=(plan.due_us - now_us) // 1_000_000 + 1)  # just past its due time
        app.tick(frozen_clock.now)
        await pilot.pause()
        title = str(app.screen.query_one("#pane-sev3").border_title)
        late_now = sum(1 for i in app.screen.shown_ids() if app.state.cases[i].severity is Severity.SEV3 and any(
            p.state_at(to_us(frozen_clock.now))[0] is ClockState.BREACHED for p in app.state.clocks[i]))
        assert late_now > late_before and f"· {late_now} late" in title
        column = sev3.get_column_index("update_clock")
        sev3.focus()
        sev3.move_cursor(row=sev3.get_row_index(case_id))  # scrolls it into view
        await pilot.pause()
        assert sev3.get_row(case_id)[column].plain.startswith(GLYPH[ClockState.BREACHED])
        assert any(case_id in line and GLYPH[ClockState.BREACHED] in line for line in rendered_rows(sev3))


async def test_rows_brought_into_view_by_a_taller_terminal_show_the_countdown_at_once(make_app, frozen_clock):
    app = make_app()
    async with app.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        sev3 = table(app, "sev3")
        column = sev3.get_column_index("update_clock")
        hidden = [r.key.value for r in sev3.ordered_rows if app.state.clocks[r.key.value].customer_update.active][-1]
        before = sev3.get_row(hidden)[column].plain
        frozen_clock.advance(minutes=30)
        app.tick(frozen_clock.now)
        await pilot.pause()
        assert sev3.get_row(hidden)[column].plain == before  # out of view: not read
        await pilot.resize_terminal(160, 80)  # every row has room now
        await pilot.pause()
        await pilot.pause()
        reading = app.state.clocks[hidden].customer_update.read(to_us(frozen_clock.now))
        assert format_countdown(reading.remaining_s) in sev3.get_row(hidden)[column].plain
        assert any(hidden in line and format_countdown(reading.remaining_s) in line for line in rendered_rows(sev3))


async def test_a_tick_redraws_the_countdowns_it_changed_and_nothing_else(make_app, frozen_clock):
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        sev2 = table(app, "sev2")
        visible = [r.key.value for r in sev2.ordered_rows[:5]]
        active = next(i for i in visible if app.state.clocks[i].customer_update.active)
        line_of = {case_id: 1 + sev2.get_row_index(case_id) for case_id in visible}  # below the header
        before = rendered_rows(sev2)
        frozen_clock.advance(minutes=7)
        app.tick(frozen_clock.now)
        await pilot.pause()
        after = rendered_rows(sev2)
        countdown = app.screen._rows[active].labels[1][0].split(" ")[1]  # "▸ 1h05m Fri 10:42" → "1h05m"
        assert countdown in after[line_of[active]] and countdown not in before[line_of[active]]
        for case_id in visible:  # every drawn row shows what its cells hold
            shown = [cell.plain for cell in sev2.get_row(case_id)]
            assert all(text[:6] in after[line_of[case_id]] for text in shown if text), case_id
