"""The header line keeps whole items at any width, the least needed left out first."""

from __future__ import annotations

from casewatch.tui.widgets.clock_bar import Part, fitted

PARTS = [Part(" casewatch ", "bold reverse"), Part("  dana (lead)  "), Part("14:00:00 UTC", "bold"),
         Part("  ·  Fri 15:00:00 Europe/Berlin", drop=2), Part("  ·  lead ken, 22:00 JST there", "bold", drop=1),
         Part(" · shift 6h00m", drop=3), Part("  ·  board.db", "dim", drop=4)]
EVERYTHING = "".join(part.text for part in PARTS)


def test_a_wide_header_shows_everything_in_order():
    assert fitted(PARTS, len(EVERYTHING)).plain == EVERYTHING


def test_a_narrow_header_leaves_out_whole_items_the_database_first_the_lead_last():
    shown = [fitted(PARTS, width).plain for width in range(len(EVERYTHING), 10, -1)]
    assert all(len(text) <= width or text.startswith(" casewatch   dana (lead)  14:00:00 UTC")
               for text, width in zip(shown, range(len(EVERYTHING), 10, -1), strict=True))
    assert not any(text.rstrip().endswith("·") for text in shown)
    assert " casewatch   dana (lead)  14:00:00 UTC  ·  lead ken, 22:00 JST there" in shown  # 80 columns
    assert shown[-1] == " casewatch   dana (lead)  14:00:00 UTC"  # what is never left out
    dropped_in_turn = []
    for text in shown:
        missing = [part.text for part in PARTS if part.text not in text]
        dropped_in_turn += [name for name in missing if name not in dropped_in_turn]
    assert dropped_in_turn == ["  ·  board.db", " · shift 6h00m", "  ·  Fri 15:00:00 Europe/Berlin",
                               "  ·  lead ken, 22:00 JST there"]
