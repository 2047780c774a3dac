"""The footer shows the keys in force, and builds them again only when they change."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from casewatch.tui.widgets.footer import CasewatchFooter
from tests.tui.helpers import table


def _keys(app) -> list[FooterKey]:
    return list(app.screen.query_one(CasewatchFooter).query(FooterKey))


async def test_moving_between_panes_keeps_the_keys_and_the_filter_bar_brings_its_own(make_app):
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        table(app, "sev1").focus()
        await pilot.pause()
        before = _keys(app)
        assert "Owner" in [key.description for key in before]
        table(app, "sev2").focus()  # the same keys: the same widgets, not new ones
        await pilot.pause()
        assert [id(key) for key in _keys(app)] == [id(key) for key in before]
        await pilot.press("slash")  # the filter bar's keys are not the pane's
        await pilot.pause()
        shown = [key.description for key in _keys(app)]
        assert "Owner" not in shown and shown != [key.description for key in before]
        await pilot.press("escape")
        await pilot.pause()
        assert [key.description for key in _keys(app)] == [key.description for key in before]


async def test_keys_look_as_textual_draws_them_the_palette_key_compact(make_app):
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        keys = _keys(app)
        palette = [key for key in keys if key.has_class("-command-palette")]
        assert len(palette) == 1 and palette[0].compact and palette[0].has_class("-compact")
        rest = [key for key in keys if key not in palette]
        assert rest and not any(key.compact or key.has_class("-compact") for key in rest)
