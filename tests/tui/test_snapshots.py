"""Pictures of the board and the case screen: frozen clock, fixed size, seeded data."""

from __future__ import annotations

from tests.tui.helpers import workers_done


def test_board_80x24(make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24))


def test_board_200x60(make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=(200, 60))


def test_board_light_theme(make_app, snap_compare):
    app = make_app()
    app.theme = "casewatch-light"
    assert snap_compare(app, terminal_size=(120, 40))


async def open_first_case(pilot):
    await pilot.pause()
    await pilot.press("enter")
    await workers_done(pilot.app)
    await pilot.pause()


def test_case_screen(make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=(120, 50), run_before=open_first_case)


def test_case_screen_80x24(make_app, snap_compare):
    """Narrow: the clocks and flags go under the fields, each clock on one line."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=open_first_case)


def test_case_screen_200x60(make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=(200, 60), run_before=open_first_case)


def test_sev3_case_screen_names_the_calendar_zone(make_app, snap_compare):
    """A SEV3 case counts in the UTC business calendar: its due times show in both zones."""
    async def open_sev3(pilot):
        from casewatch.tui.screens.case import CaseScreen

        await pilot.pause()
        await pilot.app.push_screen(CaseScreen("CW-1013"))
        await workers_done(pilot.app)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=open_sev3)


def test_assign_form(make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=(100, 30), press=["a", "m", "e"])


def test_help_screen(make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=(120, 40), press=["question_mark"])


def test_evidence_editor(make_app, snap_compare):
    """The editor on the demo's returned case: thin items, the return reason, a required-item mark."""
    async def open_editor(pilot):
        from casewatch.tui.screens.evidence import EvidenceScreen

        await pilot.pause()
        returned = min(cid for cid, case in pilot.app.state.cases.items() if case.returned is not None)
        await pilot.app.push_screen(EvidenceScreen(returned))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 36), run_before=open_editor)


def test_unowned_view_80x24(make_app, snap_compare):
    """The status line names the view and counts; the panes show what it keeps."""
    assert snap_compare(make_app(), terminal_size=(80, 24), press=["o"])


def test_alert_history(board_db, frozen_clock, snap_compare):
    """What was late when the board opened, as the start-up summary counted it (marked ↺)."""
    from casewatch.core.alerts import AlertSettings, Scope
    from casewatch.storage.target import resolve_target
    from casewatch.tui.app import CasewatchApp

    app = CasewatchApp(resolve_target(board_db), "dana", zone="Europe/Berlin", clock=frozen_clock, live=False,
                       alerts=AlertSettings(cases=Scope.ALL))
    assert snap_compare(app, terminal_size=(100, 30), press=["exclamation_mark"])
