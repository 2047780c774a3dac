"""The header line keeps whole items at any width: the least needed shortened or left out first."""

from __future__ import annotations

from casewatch.tui.widgets.clock_bar import Part, fitted

PARTS = [Part(" casewatch ", "bold reverse"), Part("  marcus (lead)  "), Part("00:49:34 UTC", "bold"),
         Part("  ·  Fri 19:49:34 America/New_York", drop=1, short="  ·  19:49 EST", shorten=3),
         Part("  ·  lead dana", "bold", drop=2), Part(", 00:49 UTC there", drop=5),
         Part(" · 7h00m into the shift", drop=4), Part("  ·  board.db", "dim", drop=6)]
KEPT = " casewatch   marcus (lead)  00:49:34 UTC"


def headers() -> dict[str, int]:
    """Each header text there is, with the widest width that shows it."""
    found: dict[str, int] = {}
    for width in range(200, 20, -1):
        found.setdefault(fitted(PARTS, width).plain, width)
    return found


def test_a_narrower_header_shortens_or_leaves_out_one_item_at_a_time_the_viewers_own_time_last():
    assert list(headers()) == [
        KEPT + "  ·  Fri 19:49:34 America/New_York  ·  lead dana, 00:49 UTC there · 7h00m into the shift  ·  board.db",
        KEPT + "  ·  Fri 19:49:34 America/New_York  ·  lead dana, 00:49 UTC there · 7h00m into the shift",
        KEPT + "  ·  Fri 19:49:34 America/New_York  ·  lead dana · 7h00m into the shift",
        KEPT + "  ·  Fri 19:49:34 America/New_York  ·  lead dana",
        KEPT + "  ·  19:49 EST  ·  lead dana",
        KEPT + "  ·  19:49 EST",
        KEPT,
    ]


def test_every_header_fits_and_ends_with_a_whole_item():
    for text, width in headers().items():
        assert len(text) <= width or text == KEPT
        assert not text.rstrip().endswith(("·", ","))
    assert fitted(PARTS, 80).plain == KEPT + "  ·  19:49 EST  ·  lead dana"  # the lead stays at 80 columns
