"""The board's `/` filter reads the field syntax (core.case_filter) at both terminal sizes."""

from __future__ import annotations

import pytest

from casewatch.core.case_filter import Seen, parse_filter
from tests.tui.helpers import notifications, shown_ids


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_fields_narrow_the_board_and_a_bad_one_keeps_the_filter(make_app, size):
    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"sev:1,2 owner:none", "enter")
        await pilot.pause()
        chosen = parse_filter("sev:1,2 owner:none")
        expected = {cid for cid, case in app.state.cases.items()
                    if chosen.matches(case, Seen("dana", app.now(), app.state.clocks))}
        assert expected and shown_ids(app) == expected
        assert all(app.state.cases[cid].internal_owner is None for cid in expected)
        await pilot.press("slash", *"is:late", "enter")
        await pilot.pause()
        assert shown_ids(app) == expected  # refused: the filter in force stays
        assert "is:late" in notifications(app)
        await pilot.press("escape")
        await pilot.pause()
        assert shown_ids(app) == set(app.state.cases)
