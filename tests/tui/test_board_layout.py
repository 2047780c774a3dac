"""The board's column arithmetic at every width a terminal is likely to have (issue 9, defect 12)."""

from __future__ import annotations

import pytest

from casewatch.tui.widgets.board_layout import CHROME, CLOCKS, TITLE_WANT, choose_layout, column_width


@pytest.mark.parametrize("width", range(80, 241, 5))
def test_every_layout_fits_and_keeps_the_id_severity_flags_and_three_clocks(width):
    layout = choose_layout(width)
    assert {"id", "flags", "title", *CLOCKS} <= set(layout.keys) and "sev" not in layout.keys  # the pane says it
    used = sum(column_width(column, layout) + 2 for column in layout.columns)
    assert used + CHROME == width  # the title takes exactly what is left
    assert ("unowned" in layout.keys) == ("owner" not in layout.keys)  # ⚑ stands in for the owner columns


@pytest.mark.parametrize("width", range(90, 241, 5))
def test_the_title_gets_the_spare_room_before_due_times_and_columns(width):
    """At 100–140 columns the title had 12–15 characters while the clock cells spent the width on
    due times; now the due times and the lower columns give way until it has TITLE_WANT."""
    assert choose_layout(width).title_width >= TITLE_WANT


def test_due_times_show_only_where_everything_else_fits():
    assert choose_layout(200).show_due and set(choose_layout(200).keys) >= {"customer", "status", "route", "owner"}
    assert not choose_layout(140).show_due
    assert "unowned" in choose_layout(80).keys and choose_layout(80).title_width >= 12
