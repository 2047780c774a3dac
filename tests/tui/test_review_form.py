"""The post-case review form (`C`): close a case with its review from the board."""

from __future__ import annotations

from casewatch.core.models import Severity, Status
from tests.tui.helpers import notifications, shown_ids, table, workers_done


async def test_close_and_review_from_the_board(make_app, writer):
    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        sev2 = table(app, "sev2")
        sev2.focus()
        case_id = sev2.selected_id()
        await pilot.press("C")
        assert f"Close and review {case_id}" in str(app.screen.query_one(".form").border_title)
        await pilot.press(*"SEV3", "enter", *"maybe", "enter")  # checked on Enter, not per keystroke
        await pilot.pause()
        assert "expected yes or no, got 'maybe'" in str(app.screen.query_one("#form-error").render())
        await pilot.press(*("backspace",) * 5, *"yes", "enter", *"gremlins", "enter")
        await pilot.pause()
        assert "is not one of the policy's causes: product-defect" in str(app.screen.query_one("#form-error").render())
        await pilot.press(*("backspace",) * 8, *"configuration", "enter", *"L2 runbook [for] SSO", "ctrl+s")
        await workers_done(app)
        await pilot.pause()
        case = await writer.get_case(case_id)
        assert case.status is Status.RESOLVED and case.review is not None
        assert (case.review.final_severity, case.review.avoidable, case.review.cause, case.review.lesson) == (
            Severity.SEV3, True, "configuration", "L2 runbook [for] SSO")
        assert case_id not in shown_ids(app)
        assert "closed and reviewed: final severity SEV3, avoidable, cause configuration" in notifications(app)


async def test_an_agent_is_told_before_the_form_opens(make_app):
    app = make_app(actor="tom")
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        sev2 = table(app, "sev2")
        sev2.focus()
        assert app.state.cases[sev2.selected_id()].route_authority != "tom"
        await pilot.press("C")
        await pilot.pause()
        assert "needs a lead or the case's route authority" in notifications(app)


async def test_a_case_already_closed_and_reviewed_is_refused_before_the_form_opens(make_app, writer):
    from casewatch.core import commands as c
    from casewatch.tui.screens.case import CaseScreen

    app = make_app()
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.pause()
        case_id = table(app, "sev2").selected_id()
        await writer.execute(c.CloseCase(case_id=case_id, final_severity=Severity.SEV2, avoidable=False), "dana")
        await app.push_screen(CaseScreen(case_id))
        await workers_done(app)
        await pilot.pause()
        await pilot.press("C")
        await pilot.pause()
        assert f"{case_id} is already closed and reviewed; reopen it to review it again" in notifications(app)
        assert isinstance(app.screen, CaseScreen)  # no form to fill in first
