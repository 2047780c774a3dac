"""Issue 9's pilot tests: a board that never misleads. One test per defect, each failing on the
board as it was before the fix."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from textual.content import Content
from textual.widgets import Input, Label, OptionList
from textual.widgets._footer import FooterKey

from casewatch.cli.environment import load_config, remember_setting
from casewatch.core import commands as c
from casewatch.core.durations import format_countdown
from casewatch.core.models import Severity, Status
from casewatch.core.views import is_unowned
from casewatch.core.zones import zone_label
from casewatch.storage.target import resolve_target
from casewatch.themes import THEMES
from casewatch.tui.app import CasewatchApp
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.screens.event import EventScreen
from casewatch.tui.screens.forms import Confirm, Form, PersonPrompt
from casewatch.tui.widgets import cells
from casewatch.tui.widgets.board_layout import CLOCKS as CLOCK_KEYS
from casewatch.tui.widgets.footer import CasewatchFooter
from tests.tui.helpers import (
    escape_keeps,
    focus_pane,
    notifications,
    palette_hits,
    rendered_rows,
    settled,
    table,
    workers_done,
)
from tests.tui.test_app import help_lines

HOSTILE_TITLE = "[link=http://x]y[/link] /api/[id]/[/]export"
HOSTILE_CUSTOMER = "[/] Corp [b]"


def drawn_title(widget) -> str:
    """A border title as the border draws it (the public getter gives it as markup)."""
    return Content.from_markup(widget.border_title or "").plain


async def test_user_text_is_literal_in_toasts_palette_and_form_titles(make_app, writer):
    """Defect 1: text people type shows literally in a toast, a palette hit and a form title."""
    app = make_app(live=True)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        outcome = await writer.execute(
            c.NewCase(title=HOSTILE_TITLE, customer=HOSTILE_CUSTOMER, severity=Severity.SEV1), "dana")
        case_id = outcome.event.case_id
        sev1 = table(app, "sev1")
        while case_id not in app.state.cases or sev1.get_row_index(case_id) is None:
            await pilot.pause(0.05)
        sev1.focus()
        sev1.move_cursor(row=sev1.get_row_index(case_id))
        await pilot.pause()
        await pilot.press("u")  # the form's title names the case and its customer, literally
        await pilot.pause()
        assert isinstance(app.screen, Form)
        frame = app.screen.query_one(".form")
        assert HOSTILE_CUSTOMER in drawn_title(frame)
        await pilot.press("escape", "n", *"customer log line: [/] end", "ctrl+s")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert "customer log line: [/] end" in notifications(app)
        await pilot.press("ctrl+p", *"api/[id]")
        await settled(app, pilot)
        hits = [str(option.prompt) for option in app.screen.query_one("CommandList").options]
        assert any(HOSTILE_TITLE in hit for hit in hits), hits


async def test_the_palette_offers_only_casewatch_themes_and_the_choice_is_remembered(board_db, frozen_clock, tmp_path):
    """Defect 2: Textual's own themes (nord…) lack the severity colours and crashed the board."""
    config = tmp_path / "config.toml"
    config.write_text('user = "dana"\n\n[keymap]\n"case.assign" = "a"\n', encoding="utf-8")
    app = CasewatchApp(resolve_target(board_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=False,
                       remember_theme=partial(remember_setting, "theme", path=config))
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert set(app.available_themes) == set(THEMES)
        await pilot.press("ctrl+p", *"theme")
        await settled(app, pilot)
        await pilot.press("enter")  # Textual's "Theme" command: its list of themes
        await settled(app, pilot)
        offered = [str(option.prompt) for option in app.screen.query_one("CommandList").options]
        assert offered and not any("nord" in name for name in offered), offered
        app.theme = "casewatch-light"  # what picking it in that list does
        await pilot.pause()
    assert load_config(config).theme == "casewatch-light"
    assert load_config(config).keymap == {"case.assign": "a"}  # the rest of the file is kept


async def test_q_on_a_case_goes_back_and_resolving_asks_first(make_app, writer):
    """Defect 13: `q` on a case screen quit the app; resolving a case went ahead without asking."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        sev2 = table(app, "sev2")
        sev2.focus()
        case_id = max((row.value for row in sev2.rows), key=lambda cid: len(app.state.cases[cid].title))
        sev2.move_cursor(row=sev2.get_row_index(case_id))  # the longest question, which must wrap
        await pilot.pause()
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, BoardScreen)
        for answer in ("n", "y"):
            await pilot.press("t", "end", "enter")  # status: the last choice, resolved
            await pilot.pause()
            assert isinstance(app.screen, Confirm) and case_id in app.screen.question
            label = app.screen.query(Label).first()
            question = " ".join(" ".join(rendered_rows(label)).split())
            assert question.endswith("It leaves the board.")
            assert label.region.right <= label.parent.content_region.right  # wrapped inside the dialog, not cut
            await pilot.press(answer)
            await workers_done(app)
            await pilot.pause()
            assert isinstance(app.screen, BoardScreen)
            resolved = (await writer.get_case(case_id)).status is Status.RESOLVED
            assert resolved == (answer == "y")


async def _until(pilot, done, timeout: float = 10.0) -> None:
    """Let the app run until `done()` holds (the change feed delivers another writer's change)."""
    async with asyncio.timeout(timeout):
        while not done():
            await pilot.pause(0.02)
    await pilot.pause()


@pytest.mark.slow
async def test_the_cursor_follows_its_case_through_random_severity_changes(make_app, writer):
    """Defect 3, property-style: whoever changes the selected case's severity (this user or another
    writer), the highlighted row stays that case, in its new pane, and `a` names it."""
    rng = random.Random(9)
    app = make_app(live=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        sev2 = table(app, "sev2")
        sev2.focus()
        sev2.move_cursor(row=min(3, sev2.row_count - 1))
        await pilot.pause()
        case_id = sev2.selected_id()
        board = app.screen
        assert isinstance(board, BoardScreen)
        for step in range(8):
            case = app.state.cases[case_id]
            severity = rng.choice([s for s in Severity if s is not case.severity])
            if rng.random() < 0.5:  # this user, through the form
                await pilot.press("s")
                await pilot.pause()
                choices = app.screen.query_one(OptionList)
                choices.highlighted = list(Severity).index(severity)
                await pilot.press("enter", *f"step {step}", "enter")
                await workers_done(app)
            else:  # a second writer
                await writer.execute(c.ChangeSeverity(case_id=case_id, severity=severity, reason=f"step {step}"), "dana")
            await _until(pilot, lambda severity=severity: app.state.cases[case_id].severity is severity
                         and board.selected_case() is not None and case_id in board.table_for(severity).rows)
            assert isinstance(app.screen, BoardScreen)
            assert board.selected_case().id == case_id, (step, severity)
            assert app.screen.focused is board.table_for(severity)
        await pilot.press("a")
        await pilot.pause()
        assert case_id in drawn_title(app.screen.query_one(".form"))


async def test_when_the_selected_case_leaves_the_board_the_cursor_moves_near_with_a_notice(make_app, writer):
    """Defect 3: a case resolved by another writer leaves the board; the cursor says where it went."""
    app = make_app(live=True)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        sev3 = table(app, "sev3")
        sev3.focus()
        sev3.move_cursor(row=2)
        await pilot.pause()
        case_id = sev3.selected_id()
        await writer.execute(c.ChangeStatus(case_id=case_id, status=Status.RESOLVED), "dana")
        await _until(pilot, lambda: case_id not in app.state.cases and case_id not in sev3.rows)
        assert sev3.cursor_row == 2 and sev3.selected_id() != case_id
        assert f"{case_id} left the board" in notifications(app)


async def open_case_screen(app, pilot, severity: str = "sev1") -> CaseScreen:
    pane = table(app, severity)
    pane.focus()
    await pilot.pause()
    await pilot.press("enter")
    await workers_done(app)
    await pilot.pause()
    assert isinstance(app.screen, CaseScreen)
    return app.screen


async def test_involve_asks_for_the_role_before_it_submits_and_no_key_leaks(make_app, writer):
    """Defect 4: Enter in the name field submitted with the default role, and the role typed next
    reached the case screen as keys (`i` opened the form again)."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = await open_case_screen(app, pilot)
        case_id = screen.case_id
        before = len(await writer.case_events(case_id))
        await pilot.press("i", *"kenji", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PersonPrompt) and app.screen.focused.id == "role"
        assert "incident-commander" in " ".join(str(label.render()) for label in app.screen.query(Label))
        await pilot.press("enter")  # no role yet: the form says so and stays
        await pilot.pause()
        assert isinstance(app.screen, PersonPrompt)
        assert "choose a case role for kenji" in str(app.screen.query_one("#form-error").render())
        await pilot.press(*"incident-c", "right", "enter")  # → completes the policy's role
        await workers_done(app)
        await pilot.pause()
        assert app.screen is screen
        events = (await writer.case_events(case_id))[before:]
        assert [(e.type.value, e.payload) for e in events] == [
            ("participant_involved", {"name": "kenji", "role": "incident-commander"})]


async def test_a_conflict_keeps_the_form_and_the_text_and_a_note_is_simply_written(make_app, writer):
    """Defect 5: a note typed while someone else changed the case was thrown away. A note does not
    depend on the case's state: it is written against the newer version. A severity change does:
    its form stays open with the reason typed, says what changed and who changed it, and a second
    submit goes through."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        case_id = await focus_pane(app, pilot, "sev2")
        await pilot.press("n", *"checked the logs")
        await writer.execute(c.Note(case_id=case_id, text="someone else was quicker"), "tom")
        await pilot.press("ctrl+s")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        notes = [e.payload["text"] for e in await writer.case_events(case_id) if e.type.value == "note_added"]
        assert notes[-2:] == ["someone else was quicker", "checked the logs"]

        case = await writer.get_case(case_id)
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one(OptionList).highlighted = list(Severity).index(Severity.SEV1)
        await pilot.press("enter", *"customer-wide outage")
        other = next(name for name in ("tom", "sofia") if name != case.internal_owner)
        await writer.execute(c.Assign(case_id=case_id, name=other), "marcus")
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        form = app.screen
        assert isinstance(form, Form), "the form stays open after a conflict"
        assert form.query_one("#reason", Input).value == "customer-wide outage"
        error = " ".join(str(form.query_one("#form-error").render()).split())
        assert f"{case_id} was changed by marcus" in error and f"internal owner: {case.internal_owner or 'nobody'} → {other}" in error
        assert "Your text is kept" in error
        await pilot.press("enter")  # submit again, now against what the lead was just told
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        changed = await writer.get_case(case_id)
        assert changed.severity is Severity.SEV1 and changed.internal_owner == other


async def test_resolved_cases_are_found_in_the_palette_and_reopened_on_their_screen(make_app, writer):
    """Defect 13: a resolved case could not be reached from the board, nor reopened; the palette
    did not search customers either."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        case = next(c for c in app.state.cases.values() if c.severity is Severity.SEV3)
        hits = await palette_hits(app, pilot, case.customer)
        assert any(case.id in hit and case.customer in hit for hit in hits), hits
        await pilot.press("escape")
        await writer.execute(c.ChangeStatus(case_id=case.id, status=Status.RESOLVED), "dana")
        app.take_case(await writer.get_case(case.id))
        await pilot.pause()
        assert case.id not in app.state.cases
        hits = await palette_hits(app, pilot, f"{case.id} resolved")
        assert any(hit.startswith(f"Open {case.id} ") and hit.endswith("(resolved)") for hit in hits), hits
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case_id == case.id
        assert screen.case.status is Status.RESOLVED
        assert "case.reopen" in {b.binding.id for b in screen.active_bindings.values()}
        await pilot.press("o")
        await workers_done(app)
        await pilot.pause()
        assert (await writer.get_case(case.id)).status is Status.INVESTIGATING
        assert case.id in app.state.cases  # back on the board
        await pilot.press("q")
        await pilot.pause()
        assert case.id in table(app, "sev3").rows


def clipboard_env(monkeypatch, tmp_path, *, tool: bool) -> Path:
    """No clipboard tool reachable, or a real (fake) `xclip` that writes what it takes to a file."""
    bin_dir, taken = tmp_path / "bin", tmp_path / "taken.txt"
    bin_dir.mkdir()
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    if tool:
        script = bin_dir / "xclip"
        script.write_text(f"#!/bin/sh\nexec /bin/cat > {taken}\n", encoding="utf-8")
        script.chmod(0o755)
        monkeypatch.setenv("DISPLAY", ":0")
    else:
        monkeypatch.delenv("DISPLAY", raising=False)
    return taken


@pytest.mark.parametrize("tool", [False, True])
async def test_copied_is_said_only_when_a_clipboard_took_the_text(make_app, monkeypatch, tmp_path, tool):
    """Defect 14: "copied" was said after an OSC 52 sequence nobody can confirm."""
    taken = clipboard_env(monkeypatch, tmp_path, tool=tool)
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        pane = table(app, "sev2")
        pane.focus()
        await pilot.pause()
        case_id = pane.selected_id()
        await pilot.press("y")
        await workers_done(app)
        await pilot.pause()
        shown = notifications(app)
        assert app.clipboard == case_id  # the OSC 52 sequence went out either way
        if tool:
            assert f"{case_id} copied to the clipboard" in shown and taken.read_text(encoding="utf-8") == case_id
        else:
            assert "copied" not in shown and f"{case_id} sent to the terminal's clipboard" in shown


async def test_enter_on_a_timeline_row_shows_the_whole_event_literally(make_app, writer):
    """Defect 14: the sent customer message could not be read again; a row shows its first words."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        case_id = table(app, "sev1").selected_id()
        known = "Exports fail with [red]HTTP 502[/red] for [b]ACME\nsince 09:40 UTC, " + " ".join(["every region"] * 20)
        outcome = await writer.execute(c.CustomerUpdate(case_id=case_id, known=known, investigating="the [/] proxy",
                                                        next_milestone="rollback at 11:00"), "dana")
        screen = await open_case_screen(app, pilot)
        timeline = screen.query_one("#timeline")
        timeline.focus()
        timeline.move_cursor(row=timeline.get_row_index(str(outcome.event.id)))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EventScreen)
        text = app.screen.query_one("#event-text").text
        message = outcome.event.payload["message"]
        assert message in text and known in message and "the [/] proxy" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_help_shows_the_keys_of_the_screen_below_hidden_ones_included(board_db, frozen_clock):
    """Defect 6: `?` listed the help screen's own keys; `A`, `i`, `N`, `1`–`4`, `e` and `y` appeared nowhere."""
    app = CasewatchApp(resolve_target(board_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=False,
                       keymap={"case.involve": "I"})
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.pause()
        for screen_keys in ({"A", "I", "N", "1", "2", "3", "4", "e", "y", "/"}, {"A", "I", "N", "e", "y", "Y"}):
            await pilot.press("question_mark")
            await pilot.pause()
            lines = help_lines(app)
            listed = {line.split()[0] for line in lines if line.strip()}
            assert screen_keys <= listed, screen_keys - listed
            assert not any(line.split()[:2] == ["i", "Involve"] for line in lines if line.strip())  # remapped
            assert not any("Close" in line for line in lines)  # not the help screen's own keys
            await pilot.press("escape")
            await pilot.pause()
            if isinstance(app.screen, BoardScreen):
                table(app, "sev1").focus()
                await pilot.press("enter")
                await workers_done(app)
                await pilot.pause()
                assert isinstance(app.screen, CaseScreen)


async def test_the_route_form_refuses_an_unknown_team_inline_and_writes_nothing(make_app, writer):
    """Defect 9: `specialist:nosuch` was accepted, and accepting it cleared "route review needed"."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        case_id = table(app, "sev3").selected_id()
        await writer.execute(c.ChangeSeverity(case_id=case_id, severity=Severity.SEV1, reason="outage"), "dana")
        flagged = await writer.get_case(case_id)
        app.take_case(flagged)
        await pilot.pause()
        assert flagged.route_review_needed
        table(app, "sev1").focus()
        table(app, "sev1").move_cursor(row=table(app, "sev1").get_row_index(case_id))
        await pilot.press("r", *"specialist:d")
        await pilot.pause()
        assert not str(app.screen.query_one("#form-error").render()).strip()  # issue 25, item 20: not per keystroke
        await pilot.press(*"atabse", "enter")  # checked when the field is left
        await pilot.pause()
        error = str(app.screen.query_one("#form-error").render())
        assert "unknown team 'databse'" in error and "did you mean specialist:database?" in error
        assert "known teams: billing, database, identity, network" in " ".join(error.split())
        await pilot.press("enter", *"typo", "enter", "enter")  # still refused: the form stays on the route
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, Form)  # refused: the form stays, with what was typed
        after = await writer.get_case(case_id)
        assert after.version == flagged.version and after.route_review_needed


def _shown_due(app, case_id: str, keys: tuple[str, ...]) -> int:
    """The nearest due instant among the clocks the board shows for a case."""
    from casewatch.core.views import NO_DEADLINE
    from casewatch.tui.widgets.board_layout import CLOCKS

    plans = zip(CLOCKS, app.state.clocks[case_id], strict=True)
    return min((plan.due_us for key, plan in plans if key in keys and plan.active and plan.due_us), default=NO_DEADLINE)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_rows_sort_by_the_clocks_the_board_shows_and_late_counts_every_clock(board_db, frozen_clock, writer, size):
    """Defect 7: the internal-review clock decided the order and never appeared; a new unowned case
    with a breached owner clock sat far down its pane, below rows that showed nothing late."""
    escalated = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)  # SEV3 owner window: 4 business hours, over at 13:30
    new = (await writer.execute(c.NewCase(title="Nobody has it", customer="Initech", severity=Severity.SEV3),
                                "dana", at=escalated)).event.case_id
    app = CasewatchApp(resolve_target(board_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for severity in Severity:
            pane = table(app, severity.value.lower())
            keys = tuple(column.value for column in pane.columns)
            assert "review_clock" in keys
            order = [row.key.value for row in pane.ordered_rows]
            dues = [_shown_due(app, case_id, keys) for case_id in order]
            assert dues == sorted(dues), severity  # nearest shown deadline first
            late = [case_id for case_id in order
                    if any("✖" in pane.get_cell(case_id, key).plain for key in keys if key.endswith("_clock"))]
            title = drawn_title(app.screen.query_one(f"#pane-{severity.value.lower()}"))
            assert (f"· {len(late)} late" in title) if late else ("late" not in title), title
        sev3 = table(app, "sev3")
        rank = sev3.get_row_index(new)
        assert "✖" in sev3.get_cell(new, "owner_clock").plain
        above = [row.key.value for row in sev3.ordered_rows[:rank]]
        assert all(any("✖" in sev3.get_cell(case_id, key).plain for key in CLOCK_KEYS) for case_id in above)
        assert rank <= 3, rank


async def test_countdowns_move_every_second_under_a_minute_and_behind_every_dialog(make_app, frozen_clock):
    """Defect 8: under a minute a countdown moved every 2 s (34s, 34s, 32s); behind a dialog, the
    palette or help, the board and the header stopped."""
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        sev1 = table(app, "sev1")
        case_id = next(r.value for r in sev1.rows if app.state.clocks[r.value].customer_update.active
                       and app.state.clocks[r.value].customer_update.due > app.now() + timedelta(minutes=1))
        due = app.state.clocks[case_id].customer_update.due
        start = due - timedelta(seconds=40, milliseconds=300)
        seen = []
        for step, late_ms in enumerate((0, 10, 2, 0, 9, 1, 0)):  # a timer fires a few ms late, then on time
            frozen_clock.now = start + timedelta(seconds=step, milliseconds=late_ms)
            app.tick(frozen_clock.now)
            await pilot.pause()
            seen.append(sev1.get_cell(case_id, "update_clock").plain.split()[1])
        assert seen == ["40s", "39s", "38s", "37s", "36s", "35s", "34s"]
        for keys in (["question_mark"], ["ctrl+p"], ["u"]):  # help, the palette, a form
            await pilot.press(*keys)
            await pilot.pause()
            assert not isinstance(app.screen, BoardScreen)
            frozen_clock.now += timedelta(seconds=1)
            app.tick(frozen_clock.now)
            await pilot.pause()
            board = next(s for s in app.screen_stack if isinstance(s, BoardScreen))
            assert f"{frozen_clock.now:%H:%M:%S} UTC" in str(board.query_one("#clockbar").render())
            shown = board.table_for(Severity.SEV1).get_cell(case_id, "update_clock").plain
            assert shown.split()[1] == format_countdown(int((due - frozen_clock.now).total_seconds() // 1))
            await pilot.press("escape")
            await pilot.pause()
        sev1.move_cursor(row=sev1.get_row_index(case_id))
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen)
        await pilot.press("n")  # a form over the case screen
        await pilot.pause()
        frozen_clock.now += timedelta(seconds=1)
        app.tick(frozen_clock.now)
        await pilot.pause()
        clocks = str(case_screen.query_one("#case-clocks").render())
        assert format_countdown(int((due - frozen_clock.now).total_seconds() // 1)) in clocks


async def test_due_times_are_in_the_viewers_zone_and_the_case_screen_names_the_calendars(make_app):
    """Defect 10: SEV1/SEV2 due times showed in the viewer's zone, SEV3/SEV4 in the calendar's UTC,
    with nothing to tell them apart."""
    app = make_app()  # the viewer is in Europe/Berlin; SEV3 and SEV4 count in a UTC business calendar
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        berlin = ZoneInfo("Europe/Berlin")
        checked = 0
        for severity in Severity:
            pane = table(app, severity.value.lower())
            labels = [str(column.label) for column in pane.columns.values()]
            for index, key in enumerate(CLOCK_KEYS):  # a column of settled clocks shows no due time to name
                running = any(app.state.clocks[row.key.value][index].active for row in pane.ordered_rows)
                assert (f"({zone_label(berlin, app.now())})" in labels[pane.get_column_index(key)]) == running
            for row in pane.ordered_rows:
                for key, plan in zip(CLOCK_KEYS, app.state.clocks[row.key.value], strict=True):
                    if plan.active and plan.due is not None and abs(plan.due - app.now()) < cells.FAR_AWAY:
                        assert pane.get_cell(row.key.value, key).plain.endswith(
                            plan.due.astimezone(berlin).strftime("%a %H:%M")), (row.key.value, key)
                        checked += 1
        assert checked > 20
        sev3 = table(app, "sev3")
        sev3.focus()
        case_id = next(r.key.value for r in sev3.ordered_rows if app.state.clocks[r.key.value].internal_review.active)
        sev3.move_cursor(row=sev3.get_row_index(case_id))
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        lines = rendered_rows(app.screen.query_one("#case-clocks"))
        due = app.state.clocks[case_id].internal_review.due
        review = next(line for line in lines if "Internal review" in line)
        assert due.astimezone(berlin).strftime("%a %H:%M %Z") in review
        assert due.astimezone(UTC).strftime("%H:%M UTC") in review  # the calendar's zone beside it


async def test_80x24_keeps_help_quit_and_unowned_in_view_and_nothing_wraps(make_app):
    """Defect 12: at 80×24 the footer was cut before `?` and `q`, nobody could see who was
    unowned, the customer-update preview was clipped, the case screen's clock states wrapped."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()

        def footer_keys_in_view() -> set[str]:
            footer = app.screen.query_one(CasewatchFooter)
            palette = footer.query_one(".-command-palette")
            return {key.key for key in footer.query(FooterKey)
                    if key is not palette and key.region.width and key.region.right <= palette.region.x}

        assert {"q", "question_mark"} <= footer_keys_in_view()
        for severity in Severity:
            pane = table(app, severity.value.lower())
            assert "owner" not in [column.value for column in pane.columns]
            unowned = [r.key.value for r in pane.ordered_rows if is_unowned(app.state.cases[r.key.value])]
            marked = [r.key.value for r in pane.ordered_rows if pane.get_cell(r.key.value, "unowned").plain == "⚑"]
            assert marked == unowned
            title = drawn_title(app.screen.query_one(f"#pane-{severity.value.lower()}"))
            assert (f"⚑ {len(unowned)} need owners" in title) if unowned else "need owners" not in title
        assert any(is_unowned(case) and case.internal_owner is not None for case in app.state.cases.values())
        sev1 = table(app, "sev1")
        sev1.focus()
        await pilot.press("u")
        await pilot.pause()
        preview = app.screen.query_one("#preview-scroll")
        assert preview.max_scroll_y > 0  # the message is longer than the room left for it
        preview.focus()
        await pilot.press("end")
        await pilot.wait_for_animation()
        assert preview.scroll_y == preview.max_scroll_y
        assert "sooner if anything changes" in str(preview.query_one("#preview").render())
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        assert {"q", "question_mark"} & footer_keys_in_view() == {"question_mark"}
        assert "escape" in footer_keys_in_view()  # back (escape or q)
        lines = [line.rstrip() for line in rendered_rows(app.screen.query_one("#case-clocks")) if line.strip()]
        assert len(lines) == 4 and all(name in line for name, line in zip(
            ("Clocks", "Owner named by", "Customer update", "Internal review"), lines, strict=True)), lines


async def test_a_severity_downgrade_never_erases_a_breach_from_the_case_screen(make_app):
    """Defect 11: SEV1 → SEV2 turned `✖ -4m` into `▸ 34m` and nothing kept the breach."""
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        sev1 = table(app, "sev1")
        sev1.focus()
        case_id = next(r.key.value for r in sev1.ordered_rows if "✖" in sev1.get_cell(r.key.value, "update_clock").plain)
        sev1.move_cursor(row=sev1.get_row_index(case_id))
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen)

        def listed() -> list[str]:
            return [line.strip() for line in rendered_rows(screen.query_one("#case-breaches")) if "✖" in line]

        before = listed()
        assert any("Customer update" in line and "SEV1 · policy v1" in line for line in before), before
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one(OptionList).highlighted = list(Severity).index(Severity.SEV4)
        await pilot.press("enter", *"one user only", "enter")
        await workers_done(app)
        await pilot.pause()
        await workers_done(app)  # the case screen reads the case again
        await pilot.pause()
        assert screen.case is not None and screen.case.severity is Severity.SEV4
        clocks = " ".join(rendered_rows(screen.query_one("#case-clocks")))
        assert "✖" not in clocks  # nothing is late under SEV4 now…
        assert listed() == before  # …and every breach it had is still listed


async def test_esc_on_a_form_with_typed_text_asks_before_it_throws_the_text_away(make_app, writer):
    """One Esc too many cost a long note. Esc on a form that writes asks first when something is
    typed: n (or Esc again) keeps the form and the text, y discards; an empty form just closes."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        case_id = await focus_pane(app, pilot, "sev2")
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("escape")  # nothing typed yet: closes at once
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("n", *"half an hour of log reading")
        await escape_keeps(app, pilot, Form, "half an hour of log reading")
        await pilot.press("escape", "y")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert not [e for e in await writer.case_events(case_id) if e.type.value == "note_added"
                    and e.payload["text"] == "half an hour of log reading"]
        await pilot.press("a", *"so")  # the owner form (a name being typed) asks too
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, PersonPrompt) and app.screen.query_one("#name", Input).value == "so"


async def test_a_refusal_shown_in_the_form_is_not_also_a_toast(make_app, writer):
    """From a fresh-eyes run: the evidence gate's refusal stood in the form and, long after, in a
    "Not done" toast over the board too."""
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        from casewatch.core.evidence import case_readiness

        policy = app.state.policy
        case_id, pane = next((case.id, case.severity.value.lower()) for case in app.state.cases.values()
                             if not case_readiness(case, policy.evidence, "specialist:database").complete
                             and case.route != "specialist:database")  # the gate refuses this route
        await focus_pane(app, pilot, pane)
        table(app, pane).move_cursor(row=table(app, pane).get_row_index(case_id))
        await pilot.pause()
        await pilot.press("r", *"specialist:database", "enter", *"needs a DBA", "enter", "enter")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, Form)
        assert "Not done" in str(app.screen.query_one("#form-error").render())
        assert "Not done" not in notifications(app)
        assert (await writer.get_case(case_id)).route == app.state.cases[case_id].route
