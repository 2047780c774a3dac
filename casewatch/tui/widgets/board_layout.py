"""Pure layout arithmetic for the board: which columns fit a width, how tall each pane is."""

from __future__ import annotations

from dataclasses import dataclass

CELL_PADDING = 2  # DataTable pads each cell by one on both sides
CHROME = 4  # pane border (2) and the vertical scrollbar (2)
TITLE_MIN = 12
TITLE_WANT = 20  # what the title gets before any column is dropped for it


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # 0: the title, which takes what is left


# Display order. The case id, flags and the three countdowns always stay (no severity column: each
# pane is one severity, its title says which); the unowned mark (⚑) stands in for the owner and
# comms columns when they drop, and the title starts with the customer when its column drops.
COLUMNS = (
    Column("id", "Case", 7),
    Column("flags", "!", 2),
    Column("unowned", "⚑", 1),
    Column("title", "Title", 0),
    Column("customer", "Customer", 16),
    Column("status", "Status", 13),
    Column("route", "Route", 16),
    Column("owner", "Owner", 8),
    Column("comms", "Comms", 8),
    Column("owner_clock", "Owner by", 9),
    Column("update_clock", "Update", 9),
    Column("review_clock", "Review", 9),
    Column("evidence", "Evid", 4),
)
DUE_SUFFIX = 10  # " Mon 14:30" after a countdown
CLOCKS = ("owner_clock", "update_clock", "review_clock")  # in ClockKind order
# What gives way, in turn, until the title has TITLE_WANT columns: the due times first, then
# columns (the owner and comms columns together, for the unowned mark).
DROP_ORDER = (("route",), ("customer",), ("status",), ("evidence",), ("owner", "comms"))
OWNER_COLUMNS = frozenset(("owner", "comms"))


@dataclass(frozen=True)
class Layout:
    columns: tuple[Column, ...]
    title_width: int
    show_due: bool

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


def _width_of(column: Column, show_due: bool) -> int:
    return column.width + (DUE_SUFFIX if show_due and column.key in CLOCKS else 0)


def _layout(width: int, dropped: set[str], show_due: bool) -> Layout:
    owners_shown = not dropped >= OWNER_COLUMNS
    columns = tuple(c for c in COLUMNS if c.key not in dropped and (c.key != "unowned" or not owners_shown))
    used = sum(_width_of(c, show_due) + CELL_PADDING for c in columns if c.key != "title")
    return Layout(columns, width - CHROME - used - CELL_PADDING, show_due)


def choose_layout(width: int) -> Layout:
    """The title gets the spare room first: the due times, then the lower-priority columns give
    way until it has TITLE_WANT columns (or as many as the narrowest layout leaves it)."""
    dropped: set[str] = set()
    layout = _layout(width, dropped, show_due=True)
    if layout.title_width >= TITLE_WANT:
        return layout
    layout = _layout(width, dropped, show_due=False)
    for keys in DROP_ORDER:
        if layout.title_width >= TITLE_WANT:
            break
        dropped.update(keys)
        layout = _layout(width, dropped, show_due=False)
    if layout.title_width < TITLE_MIN:
        return Layout(layout.columns, max(layout.title_width, 6), show_due=False)
    return layout


def column_width(column: Column, layout: Layout) -> int:
    return layout.title_width if column.key == "title" else _width_of(column, layout.show_due)


def pane_heights(available: int, needs: list[int], minimum: int = 3) -> list[int]:
    """Share `available` rows among panes: a pane never gets more than it needs, and what the
    small panes leave goes to the large ones. Every pane gets at least `minimum`."""
    heights = [minimum] * len(needs)
    spare = available - minimum * len(needs)
    wanting = [i for i, need in enumerate(needs) if need > minimum]
    while spare > 0 and wanting:
        share = max(1, spare // len(wanting))
        for i in list(wanting):
            grant = min(share, needs[i] - heights[i], spare)
            heights[i] += grant
            spare -= grant
            if heights[i] >= needs[i]:
                wanting.remove(i)
            if spare <= 0:
                break
    if spare > 0 and heights:
        heights[-1] += spare  # the last pane soaks up what nobody needs, so the screen stays filled
    return heights
