"""ctrl+t in the customer-update form fills it from the policy's [[templates]], at 80×24 and 200×50."""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from casewatch.core import commands as c
from casewatch.core.models import EventType
from casewatch.core.policy import DEFAULT_POLICY_TOML
from casewatch.tui.screens.forms import UpdateForm
from casewatch.tui.screens.template_pick import PickTemplate
from tests.tui.helpers import notifications, settled, table

TEMPLATES = '''
[[templates]]
name = "Investigating"
severities = ["SEV1"]
known = "{customer} cannot log in ({ticket})"
investigating = "the [b]proxy[/b] logs"
next_milestone = "update by {next_update_local}"
'''


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_ctrl_t_fills_the_form_and_the_update_is_sent_as_filled(make_app, writer, size):
    await writer.execute(c.ApplyPolicy(toml=DEFAULT_POLICY_TOML + TEMPLATES, source_name="policy.toml"), "dana")
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        sev1 = table(app, "sev1")
        sev1.focus()
        case = app.state.cases[sev1.selected_id()]
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, PickTemplate)
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, UpdateForm)
        assert form.query_one("#known", TextArea).text == f"{case.customer} cannot log in ({case.id})"
        assert form.query_one("#investigating", TextArea).text == "the [b]proxy[/b] logs"  # literal, not markup
        assert form.query_one("#next_milestone", Input).value.startswith("update by 20")
        await pilot.press("ctrl+s")
        await settled(app, pilot)
        update = [e for e in await writer.case_events(case.id) if e.type is EventType.CUSTOMER_UPDATE_LOGGED][-1]
        assert update.payload["known"] == f"{case.customer} cannot log in ({case.id})"


async def test_no_template_for_the_severity_says_so(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        table(app, "sev1").focus()
        await pilot.press("u", "ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, UpdateForm) and "no customer-update template" in notifications(app)
